"""Toy single-hand samples: exactly consistent annotations, no hand model needed (tests, benchmarks).

A toy "hand" is 21 random 3D joints about half a metre in front of a camera, projected with its
``K`` and drawn as disks of one colour on a plain background; its mask is the disks. Every
annotation is therefore exact (``project(joints3d, K) == joints2d``), which is what composition,
augmentation and loading code need to be tested and timed. Not for training.
"""

from __future__ import annotations

import numpy as np

from smhr.data.datasets.sample import Hand, ManoParams, Sample, Side, bbox_from_points
from smhr.geometry.camera import project
from smhr.hand.joints import NUM_JOINTS

DISK_RADIUS_PX = 4.0


class ToyHand:
    """Arrays of one toy hand (image, mask, K, joints and MANO-shaped parameters)."""

    def __init__(self, rng: np.random.Generator, size: int) -> None:
        focal = rng.uniform(1.8, 2.4) * size
        cx = (size - 1) / 2 + rng.uniform(-3, 3)
        self.K = np.array([[focal, 0.0, cx], [0.0, focal * rng.uniform(0.97, 1.03), (size - 1) / 2], [0, 0, 1]], np.float32)
        centre = [rng.uniform(-0.01, 0.01), rng.uniform(-0.01, 0.01), 0.5]
        self.xyz = (rng.normal(size=(NUM_JOINTS, 3)) * [0.03, 0.03, 0.01] + centre).astype(np.float32)
        self.uv = project(self.xyz.astype(np.float64), self.K.astype(np.float64)).astype(np.float32)
        yy, xx = np.mgrid[0:size, 0:size]
        self.mask = np.zeros((size, size), bool)
        for u, v in self.uv:
            self.mask |= (xx - u) ** 2 + (yy - v) ** 2 <= DISK_RADIUS_PX**2
        self.image = np.full((size, size, 3), rng.integers(0, 80, size=3), np.uint8)
        self.image[self.mask] = rng.integers(150, 255, size=3)
        self.pose = (rng.normal(size=48) * 0.2).astype(np.float32)
        self.betas = (rng.normal(size=10) * 0.5).astype(np.float32)


def toy_sample(rng: np.random.Generator, size: int = 96, side: Side = "right") -> Sample:
    """A one-hand Sample of a :class:`ToyHand` (MANO ``trans`` finite, a few stand-in vertices)."""
    toy = ToyHand(rng, size)
    hand = Hand(
        side=side,
        joints2d=toy.uv,
        visible=np.ones(NUM_JOINTS, bool),
        bbox=bbox_from_points(toy.uv),
        K=toy.K,
        joints3d=toy.xyz,
        verts3d=toy.xyz[:5] * 1.01,
        mano=ManoParams(toy.pose, toy.betas, np.array([0.01, -0.02, 0.45], np.float32)),
        mask=toy.mask,
    )
    return Sample(image=toy.image, hands=[hand], source=f"toy/{side}")
