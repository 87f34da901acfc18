"""Writes a tiny RHD-format dataset (anno_<split>.pickle, color/, mask/) from known joints.

Keypoints are written in RHD's own order (left hand then right; wrist, then each finger tip to
base), the mask with RHD's labels (left parts 2..17, right parts 18..33).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from tests.data.fixtures_freihand import HEIGHT, WIDTH, disk_mask, hand_joints, intrinsics

FINGERS = ("thumb", "index", "middle", "ring", "pinky")
RHD_ORDER = ["wrist"] + [f"{f}{k}" for f in FINGERS for k in (4, 3, 2, 1)]
OPENPOSE = ["wrist"] + [f"{f}{k}" for f in FINGERS for k in (1, 2, 3, 4)]


def to_rhd_order(openpose: np.ndarray) -> np.ndarray:
    return openpose[[OPENPOSE.index(name) for name in RHD_ORDER]]


class RHDFixture(NamedTuple):
    root: Path
    hands: list[dict[str, np.ndarray]]  # side -> (21, 3) OpenPose order
    vis: list[dict[str, np.ndarray]]  # side -> (21,) RHD visibility flag, OpenPose order
    dominant: list[str]
    K: list[np.ndarray]


def write_rhd_fixture(root: Path, split: str = "training", seed: int = 0) -> RHDFixture:
    """Three samples: left dominant; right dominant; right only (left hand unseen, no flags, no mask)."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    for sub in ("color", "mask"):
        (root / split / sub).mkdir(parents=True, exist_ok=True)
    anno, hands, vis, dominant, Ks = {}, [], [], [], []
    for sid, (r_left, r_right) in enumerate([(5.0, 2.0), (2.0, 5.0), (0.0, 4.0)]):
        K = intrinsics(rng)
        joints = {"right": hand_joints(rng) + [0.01, 0, 0], "left": hand_joints(rng) * [-1, 1, 1] - [0.01, 0, 0]}
        flags = {side: rng.random(21) > 0.2 for side in joints}
        if r_left == 0:
            flags["left"][:] = False
        labels = np.zeros((HEIGHT, WIDTH), np.uint8)
        labels[:4] = 1  # a strip of "person"
        for side, radius, base in (("left", r_left, 2), ("right", r_right, 18)):
            uvw = joints[side] @ K.T
            uv = uvw[:, :2] / uvw[:, 2:]
            if radius > 0:
                labels[disk_mask(uv[:1], radius=radius)] = base + 15  # palm label
                labels[disk_mask(uv[1:], radius=radius / 2)] = base + 3
        uv_vis = []
        for side in ("left", "right"):
            uvw = joints[side] @ K.T
            uv_vis.append(
                np.concatenate(
                    [to_rhd_order(uvw[:, :2] / uvw[:, 2:]), to_rhd_order(flags[side][:, None].astype(float))], 1
                )
            )
        anno[sid] = {
            "xyz": np.concatenate([to_rhd_order(joints["left"]), to_rhd_order(joints["right"])]).astype(np.float32),
            "uv_vis": np.concatenate(uv_vis).astype(np.float32),
            "K": K.astype(np.float32),
        }
        Image.fromarray(rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8)).save(
            root / split / "color" / f"{sid:05d}.png"
        )
        Image.fromarray(labels).save(root / split / "mask" / f"{sid:05d}.png")
        hands.append(joints), vis.append(flags), Ks.append(K)
        left_pixels, right_pixels = ((labels >= 2) & (labels <= 17)).sum(), (labels >= 18).sum()
        dominant.append("left" if left_pixels > right_pixels else "right")
    with open(root / split / f"anno_{split}.pickle", "wb") as handle:
        pickle.dump(anno, handle, protocol=2)
    return RHDFixture(root, hands, vis, dominant, Ks)


def _edit_anno(root: Path, split: str, edit) -> None:
    path = Path(root) / split / f"anno_{split}.pickle"
    anno = pickle.loads(path.read_bytes())
    anno = edit(anno) or anno
    path.write_bytes(pickle.dumps(anno, protocol=2))


def _field(sid: int, key: str, value):
    def edit(anno):
        if value is None:
            del anno[sid][key]
        else:
            anno[sid][key] = value(anno[sid][key])

    return edit


def _nan_at(array):
    out = np.array(array, np.float32)
    out[3, 0] = np.nan
    return out


def _mask_file(sid: int, write):
    def corrupt(root: Path, split: str) -> None:
        write(Path(root) / split / "mask" / f"{sid:05d}.png")

    return corrupt


def _anno(edit):
    return lambda root, split: _edit_anno(root, split, edit)


RHD_CORRUPTIONS = {
    # name: (corrupt(root, split), message the DatasetError must contain)
    "mask_text_file": (
        _mask_file(1, lambda p: p.write_text("not an image\n")),
        r"mask/00001\.png: unreadable or corrupt image",
    ),
    "mask_missing": (_mask_file(2, lambda p: p.unlink()), r"mask/00002\.png: image file not found"),
    "xyz_21_keypoints": (_anno(_field(1, "xyz", lambda a: a[:21])), r"sample 1: 'xyz' has shape \(21, 3\)"),
    "uv_vis_nan": (_anno(_field(0, "uv_vis", _nan_at)), r"sample 0: 'uv_vis' has shape \(42, 3\) .*non-finite"),
    "xyz_text": (_anno(_field(2, "xyz", lambda a: "xyz")), r"sample 2: 'xyz' is not numeric"),
    "K_missing": (_anno(_field(2, "K", None)), r"sample 2: key 'K' missing"),
    "sample_not_a_dict": (_anno(lambda a: a.update({1: [1, 2, 3]})), r"sample 1: not a dict"),
    "string_sample_id": (_anno(lambda a: a.update({"7": a[0]})), r"sample id '7' is not an integer"),
    "not_a_dict": (_anno(lambda a: list(a.values())), r"expected a non-empty dict of sample id"),
    "pickle_is_text": (
        lambda root, split: (Path(root) / split / f"anno_{split}.pickle").write_text("xyz: 1\n"),
        r"anno_\w+\.pickle: ",  # the reader's own wording (a restricted unpickler) may change
    ),
}
"""Corruptions of RHD's official files (the pickle and the part masks) and the error each must
raise, in the loader and in the evaluation protocol alike."""
