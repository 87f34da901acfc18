"""Shared fixtures of the evaluation tests: hand-like random point sets and tiny official files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from smhr.bench.eval import hand_like as bench_hand_like


def hand_like(rng: np.random.Generator, n: int, points: int, noise: float = 0.004) -> tuple[np.ndarray, np.ndarray]:
    """(gt, pred): n posed copies of a fixed random 'hand' (camera frame, z ~ 0.5 m) and a noisy copy."""
    return bench_hand_like(rng, n, points, noise)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def mesh_set(rng):
    """A small FreiHAND-like set: (gt_joints, gt_verts, pred_joints, pred_verts), metres."""
    gj, pj = hand_like(rng, 12, 21, noise=0.008)
    gv, pv = hand_like(rng, 12, 778, noise=0.004)
    return gj, gv, pj, pv


def write_json(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def freihand_files(tmp_path, mesh_set):
    """(gt_dir, pred_path) in FreiHAND's official layout."""
    gj, gv, pj, pv = mesh_set
    gt_dir = tmp_path / "ref"
    write_json(gt_dir / "evaluation_xyz.json", gj.tolist())
    write_json(gt_dir / "evaluation_verts.json", gv.tolist())
    pred = write_json(tmp_path / "res" / "pred.json", [pj.tolist(), pv.tolist()])
    return gt_dir, pred
