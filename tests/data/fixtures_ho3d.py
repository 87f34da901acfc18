"""Writes a tiny HO-3D-format dataset (v2: PNG, v3: JPEG) from known OpenCV-frame joints.

The meta pickles hold what the official release holds: OpenGL axes, HO3D joint order ("MANO with
tips"), ``camMat``; evaluation frames only the root joint and ``handBoundingBox``.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from tests.data.fixtures_freihand import HEIGHT, WIDTH, hand_joints, intrinsics

GL = np.array([1.0, -1.0, -1.0])

OFFICIAL_HO3D_TO_SIMPLE = [0, 13, 14, 15, 16, 1, 2, 3, 17, 4, 5, 6, 18, 10, 11, 12, 19, 7, 8, 9, 20]
"""``jointsMapManoToSimple`` from the official vis_HO3D.py: OpenPose joint j is HO3D joint MAP[j]."""


def to_ho3d_order(openpose: np.ndarray) -> np.ndarray:
    """(21, 3) OpenPose order -> HO3D order, using the official map (independent of smhr)."""
    out = np.empty_like(openpose)
    out[OFFICIAL_HO3D_TO_SIMPLE] = openpose
    return out


class HO3DFixture(NamedTuple):
    root: Path
    frames: list[str]  # "SEQ/FRAME" in list order
    joints: dict[str, np.ndarray | None]  # OpenCV, OpenPose order (None: unannotated)
    K: dict[str, np.ndarray]


def write_ho3d_fixture(root: Path, split: str = "train", version: str = "v3", seed: int = 0) -> HO3DFixture:
    """Two sequences, two frames each; in train the last frame is unannotated (handJoints3D None)."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    frames = ["ABF10/0000", "ABF10/0001", "MC1/0007", "MC1/0008"]
    joints, Ks = {}, {}
    for n, name in enumerate(frames):
        seq, frame = name.split("/")
        xyz, K = hand_joints(rng), intrinsics(rng)
        unannotated = split == "train" and n == len(frames) - 1
        meta = {"camMat": K, "objName": "003_cracker_box", "objRot": np.zeros((3, 1)), "objTrans": np.zeros(3)}
        if split == "train":
            meta.update(
                handJoints3D=None if unannotated else to_ho3d_order(xyz * GL),
                handPose=None if unannotated else rng.normal(0, 0.2, 48),
                handBeta=rng.normal(0, 1, 10),
                handTrans=xyz[0] * GL,
            )
        else:
            uvw = xyz @ K.T
            uv = uvw[:, :2] / uvw[:, 2:]
            meta.update(handJoints3D=xyz[0] * GL, handBoundingBox=np.concatenate([uv.min(0), uv.max(0)]))
        joints[name], Ks[name] = (None if unannotated else xyz), K
        (root / split / seq / "meta").mkdir(parents=True, exist_ok=True)
        (root / split / seq / "rgb").mkdir(parents=True, exist_ok=True)
        with open(root / split / seq / "meta" / f"{frame}.pkl", "wb") as handle:
            pickle.dump(meta, handle, protocol=2)
        image = Image.fromarray(rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8))
        image.save(root / split / seq / "rgb" / f"{frame}.{'png' if version == 'v2' else 'jpg'}")
    (root / f"{split}.txt").write_text("\n".join(frames) + "\n")
    return HO3DFixture(root, frames, joints, Ks)
