"""Writes a tiny InterHand2.6M v1.0 (or v0.0 subset-folder) dataset from known camera-frame joints.

World coordinates (mm) are made from known OpenCV camera-frame joints (m) with a known camera
(``X_cam = camrot @ (X_world - campos)``), in InterHand2.6M's own joint order (tips first,
wrist last; right hand then left), written with plain ``json`` and PIL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from tests.data.fixtures_freihand import HEIGHT, WIDTH, hand_joints, intrinsics

SKELETON = [f"{f}{k}" for f in ("thumb", "index", "middle", "ring", "pinky") for k in (4, 3, 2, 1)] + ["wrist"]
"""One hand as listed in the official skeleton.txt (r_thumb4 ... r_pinky1, r_wrist)."""
OPENPOSE = ["wrist"] + [f"{f}{k}" for f in ("thumb", "index", "middle", "ring", "pinky") for k in (1, 2, 3, 4)]


def to_interhand_order(openpose: np.ndarray) -> np.ndarray:
    return openpose[[OPENPOSE.index(name) for name in SKELETON]]


def rotation(rng: np.random.Generator) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.linalg.det(q))


class InterHandFixture(NamedTuple):
    root: Path
    hands: list[dict[str, np.ndarray]]  # per annotation: side -> (21, 3) camera-frame joints, OpenPose order
    valid: list[dict[str, np.ndarray]]  # per annotation: side -> (21,) bool validity, OpenPose order
    K: list[np.ndarray]


def write_interhand_fixture(
    root: Path, split: str = "train", subset_folder: str | None = None, seed: int = 0
) -> InterHandFixture:
    """Three annotations: right only, left only, interacting (with invalid joints, and a left hand
    whose wrist is invalid in a fourth, so that hand is dropped)."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    annot_dir = root / "annotations" / (subset_folder or split)
    annot_dir.mkdir(parents=True, exist_ok=True)
    cameras = {"0": {"campos": {}, "camrot": {}, "focal": {}, "princpt": {}}}
    joints3d, images, annotations = {"0": {}}, [], []
    all_hands, all_valid, Ks = [], [], []
    for n, hand_type in enumerate(["right", "left", "interacting", "interacting"]):
        cam = str(400262 + n)
        K, R, pos = intrinsics(rng), rotation(rng), rng.normal(0, 500, 3)
        cameras["0"]["campos"][cam], cameras["0"]["camrot"][cam] = pos.tolist(), R.tolist()
        cameras["0"]["focal"][cam], cameras["0"]["princpt"][cam] = [K[0, 0], K[1, 1]], [K[0, 2], K[1, 2]]
        right = hand_joints(rng) + [0.012, 0, 0]
        left = hand_joints(rng) * [-1, 1, 1] - [0.012, 0, 0]  # a mirrored (left) hand beside the right one
        valid = {"right": np.ones(21, bool), "left": np.ones(21, bool)}
        if hand_type == "interacting":
            valid["right"][[3, 7]] = False
            if n == 3:
                valid["left"][0] = False  # invalid wrist: the whole left hand is invalid
        cam_joints = np.concatenate([to_interhand_order(right), to_interhand_order(left)])
        world = (cam_joints @ R + pos / 1000) * 1000  # X_world = R^T X_cam + campos
        flags = np.concatenate(
            [to_interhand_order(valid["right"][:, None]), to_interhand_order(valid["left"][:, None])]
        )
        joints3d["0"][str(1000 + n)] = {
            "world_coord": world.tolist(),
            "joint_valid": flags.astype(int).tolist(),
            "hand_type": hand_type,
            "hand_type_valid": 1,
        }
        file_name = f"Capture0/0001_test_seq/cam{cam}/image{1000 + n}.jpg"
        images.append(
            {
                "id": n,
                "file_name": file_name,
                "width": WIDTH,
                "height": HEIGHT,
                "capture": 0,
                "subject": 1,
                "seq_name": "0001_test_seq",
                "camera": cam,
                "frame_idx": 1000 + n,
            }
        )
        annotations.append(
            {
                "id": n,
                "image_id": n,
                "bbox": [0, 0, WIDTH, HEIGHT],
                "joint_valid": flags.astype(int).tolist(),
                "hand_type": hand_type,
                "hand_type_valid": 1,
            }
        )
        (root / "images" / split / file_name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8)).save(
            root / "images" / split / file_name
        )
        sides = {"right": ("right",), "left": ("left",), "interacting": ("right", "left")}[hand_type]
        all_hands.append({s: {"right": right, "left": left}[s] for s in sides})
        all_valid.append({s: valid[s] for s in sides})
        Ks.append(K)
    prefix = annot_dir / f"InterHand2.6M_{split}"
    Path(f"{prefix}_data.json").write_text(json.dumps({"images": images, "annotations": annotations}))
    Path(f"{prefix}_camera.json").write_text(json.dumps(cameras))
    Path(f"{prefix}_joint_3d.json").write_text(json.dumps(joints3d))
    Path(f"{prefix}_MANO_NeuralAnnot.json").write_text(json.dumps({"0": {}}))
    return InterHandFixture(root, all_hands, all_valid, Ks)


def _edit_json(path: Path, edit) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))  # json writes NaN as the literal NaN, as a broken export would


def _set_hand_type(value):
    def edit(data):
        data["annotations"][2]["hand_type"] = value

    return "data", edit


def _world(frame: int, change):
    def edit(data):
        change(data["0"][str(frame)])

    return "joint_3d", edit


def _set_point(frame: int, joint: int, value):
    def change(entry):
        entry["world_coord"][joint] = value

    return _world(frame, change)


INTERHAND_CORRUPTIONS = {
    # name: ((file kind, edit of the parsed JSON), message the DatasetError must contain)
    "world_coord_21_joints": (
        _world(1000, lambda e: e.update(world_coord=e["world_coord"][:21])),
        r"joint_3d.json: capture 0 frame 1000 world_coord has shape \(21, 3\), expected \(42, 3\)",
    ),
    "world_coord_nan": (
        _set_point(1002, 0, [float("nan"), 0.0, 0.0]),
        r"joint_3d.json: capture 0 frame 1002 world_coord joint 0 is NaN or null but marked valid",
    ),
    "world_coord_null": (
        _set_point(1001, 25, [None, None, None]),
        r"joint_3d.json: capture 0 frame 1001 world_coord joint 25 is NaN or null but marked valid",
    ),
    "world_coord_text": (
        _set_point(1000, 3, ["a", "b", "c"]),
        r"joint_3d.json: no numeric world_coord for capture 0 frame 1000",
    ),
    "world_coord_missing": (
        _world(1003, lambda e: e.pop("world_coord")),
        r"joint_3d.json: no numeric world_coord for capture 0 frame 1003",
    ),
    "hand_type_null": (_set_hand_type(None), r"data.json: annotation 2 has hand_type None, not one of"),
    "hand_type_unknown": (_set_hand_type("both"), r"data.json: annotation 2 has hand_type 'both', not one of"),
    "hand_type_list": (_set_hand_type(["right"]), r"data.json: annotation 2 has hand_type \['right'\], not one of"),
    "joint_valid_21": (
        ("data", lambda d: d["annotations"][0].update(joint_valid=[[1]] * 21)),
        r"data.json: annotation 0 has no \(42, 1\) numeric joint_valid",
    ),
    "joint_valid_null": (
        ("data", lambda d: d["annotations"][1]["joint_valid"].__setitem__(4, [None])),
        r"data.json: annotation 1 has no \(42, 1\) numeric joint_valid",
    ),
}
"""Corruptions of the official annotation files (written into the fixture's JSON) and the error
each must raise, in the loader and in the evaluation protocol alike."""


def corrupt_interhand(root: Path, split: str, name: str) -> None:
    """Applies ``INTERHAND_CORRUPTIONS[name]`` to the fixture written under ``root``."""
    (kind, edit), _ = INTERHAND_CORRUPTIONS[name]
    _edit_json(Path(root) / "annotations" / split / f"InterHand2.6M_{split}_{kind}.json", edit)


NAN_ON_INVALID_JOINT = (1002, 1)
"""(frame, InterHand joint) of a joint marked invalid in the fixture (annotation 2's right thumb3)."""


def nan_on_invalid_joint(root: Path, split: str) -> None:
    """Writes NaN on a joint the fixture marks invalid: allowed (the official code masks it)."""
    frame, joint = NAN_ON_INVALID_JOINT
    kind, edit = _set_point(frame, joint, [float("nan")] * 3)
    _edit_json(Path(root) / "annotations" / split / f"InterHand2.6M_{split}_{kind}.json", edit)
