"""Shared fixtures for tests/data: tiny single-hand samples and a FreiHAND-layout source on disk.

The hands are :mod:`smhr.data.datasets.toy` hands: random 3D joints projected with ``K`` and drawn as
disks (the mask), so every annotation is exactly consistent.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from smhr.data.datasets.sample import Hand, ManoParams, Sample
from smhr.data.datasets.toy import ToyHand, toy_sample
from smhr.geometry.camera import project


def assert_3d_projects_onto_2d(hand: Hand, atol_px: float = 1e-3) -> None:
    """``project(joints3d, K) == joints2d`` to ``atol_px``, and ``K`` is an upper-triangular intrinsics matrix."""
    assert_close(
        torch.as_tensor(project(hand.joints3d.astype(np.float64), hand.K.astype(np.float64))),
        torch.as_tensor(hand.joints2d, dtype=torch.float64),
        rtol=0,
        atol=atol_px,
    )
    K = hand.K
    assert K[1, 0] == 0 and K[2, 0] == 0 and K[2, 1] == 0 and K[0, 0] > 0 and K[1, 1] > 0 and K[2, 2] == 1


@pytest.fixture
def samples() -> list[Sample]:
    """Six in-memory single-hand samples, 96 px (four right, two left)."""
    rng = np.random.default_rng(0)
    return [toy_sample(rng, side="left" if i % 3 == 2 else "right") for i in range(6)]


def write_freihand_source(root: Path, n_train: int = 6, n_eval: int = 4, seed: int = 0, masks: bool = True) -> Path:
    """Writes a tiny FreiHAND-layout set (training + evaluation, 96 px) under ``root``."""
    from smhr.data.datasets.freihand import FreiHANDWriter

    rng = np.random.default_rng(seed)
    for split, n in (("training", n_train), ("evaluation", n_eval)):
        with FreiHANDWriter(root, split) as writer:
            for _ in range(n):
                toy = ToyHand(rng, 96)
                mano = ManoParams(toy.pose, toy.betas, np.zeros(3, np.float32))
                writer.add(toy.image, toy.K, toy.xyz, mask=toy.mask, mano=mano)
    if not masks:
        shutil.rmtree(root / "training" / "mask")
    return root


@pytest.fixture(scope="session")
def freihand_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny FreiHAND-layout source with masks (session-wide, read only)."""
    return write_freihand_source(tmp_path_factory.mktemp("freihand_source"))
