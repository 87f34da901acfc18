"""Writes a tiny FreiHAND-format dataset the way the official release lays it out.

Written with plain ``json`` and PIL (not with smhr's writer), from known 3D joints and cameras,
so the reader is tested against the format and not against itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

WIDTH, HEIGHT = 64, 48
"""Non-square on purpose: swapped x/y would show."""


def hand_joints(rng: np.random.Generator) -> np.ndarray:
    """(21, 3) metres, OpenPose order, a hand-like skeleton in front of the camera.

    The wrist is the origin of the hand; finger f (thumb..pinky) fans out in the x-y plane and its
    joints lie 3.5 cm apart along the finger, base to tip, so the tips are the farthest points.
    """
    joints = np.zeros((21, 3))
    for f in range(5):
        angle = np.deg2rad(-60 + 30 * f)
        direction = np.array([np.sin(angle), -np.cos(angle), 0.02 * f])
        for k in range(4):
            joints[1 + 4 * f + k] = direction * (0.03 + 0.02 * k)
    angle = rng.uniform(-0.5, 0.5)
    c, s = np.cos(angle), np.sin(angle)
    rotation = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return joints @ rotation.T + np.array(
        [rng.uniform(-0.01, 0.01), 0.03 + rng.uniform(-0.005, 0.005), rng.uniform(0.5, 0.6)]
    )


def intrinsics(rng: np.random.Generator, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """(3, 3) with fx != fy and an off-centre principal point."""
    return np.array(
        [
            [rng.uniform(110, 125), 0.0, width / 2 + rng.uniform(-3, 3)],
            [0.0, rng.uniform(100, 110), height / 2 + rng.uniform(-3, 3)],
            [0.0, 0.0, 1.0],
        ]
    )


def disk_mask(uv: np.ndarray, width: int = WIDTH, height: int = HEIGHT, radius: float = 4.0) -> np.ndarray:
    """(H, W) bool: disks around the given pixels."""
    yy, xx = np.mgrid[:height, :width]
    mask = np.zeros((height, width), bool)
    for u, v in uv:
        mask |= (xx - u) ** 2 + (yy - v) ** 2 <= radius**2
    return mask


class FreiHANDFixture(NamedTuple):
    """What the fixture writer put on disk (for the tests to compare against)."""

    root: Path
    K: np.ndarray  # (N, 3, 3)
    xyz: np.ndarray  # (N, 21, 3)
    mano: np.ndarray  # (N, 61)
    verts: np.ndarray  # (N, V, 3)
    masks: np.ndarray  # (N, H, W) bool


def write_freihand_fixture(
    root: Path, split: str = "training", n: int = 3, versions: int = 2, seed: int = 0
) -> FreiHANDFixture:
    """Writes ``n`` records in ``versions`` sample versions (evaluation: segmap PNGs, one version)."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    (root / split / "rgb").mkdir(parents=True, exist_ok=True)
    Ks, xyzs, manos, vertss, masks = [], [], [], [], []
    for i in range(n):
        xyz, K = hand_joints(rng), intrinsics(rng)
        uvw = xyz @ K.T
        mask = disk_mask(uvw[:, :2] / uvw[:, 2:])
        verts = xyz[rng.integers(0, 21, size=30)] + rng.normal(0, 0.003, (30, 3))
        mano = np.concatenate([rng.normal(0, 0.3, 48), rng.normal(0, 1, 10), [30.0, 20.0, 400.0]])
        Ks.append(K), xyzs.append(xyz), manos.append(mano), vertss.append(verts), masks.append(mask)
        if split == "training":
            (root / "training" / "mask").mkdir(parents=True, exist_ok=True)
            Image.fromarray(mask.astype(np.uint8) * 255).save(root / "training" / "mask" / f"{i:08d}.jpg", quality=90)
        else:
            (root / "evaluation" / "segmap").mkdir(parents=True, exist_ok=True)
            Image.fromarray(mask.astype(np.uint8) * 3).save(root / "evaluation" / "segmap" / f"{i:08d}.png")
    for v in range(versions if split == "training" else 1):
        for i in range(n):
            image = (30 + 60 * v + rng.integers(0, 20, (HEIGHT, WIDTH, 3))).astype(np.uint8)
            Image.fromarray(image).save(root / split / "rgb" / f"{i + v * n:08d}.jpg", quality=90)
    dump = {
        "K": [k.tolist() for k in Ks],
        "xyz": [x.tolist() for x in xyzs],
        "mano": [[m.tolist()] for m in manos],
        "verts": [v.tolist() for v in vertss],
        "scale": [float(np.linalg.norm(x[9] - x[10])) for x in xyzs],
    }
    for name, data in dump.items():
        (root / f"{split}_{name}.json").write_text(json.dumps(data))
    return FreiHANDFixture(root, np.array(Ks), np.array(xyzs), np.array(manos), np.array(vertss), np.array(masks))
