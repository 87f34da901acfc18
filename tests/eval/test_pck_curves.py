"""Each protocol's PCK curve (``ProtocolResult.pck``): what it counts, on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from smhr.eval.mesh_benchmarks import evaluate_mesh_benchmark
from smhr.eval.multihand import HandRecord, evaluate


def _joints(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(21, 3)) * 0.03 + [0, 0, 0.5]


def test_multihand_curve_counts_missed_hands_as_zero():
    a, b = _joints(0), _joints(1)
    box_a, box_b = np.array([0.0, 0, 10, 10]), np.array([50.0, 50, 60, 60])
    gt = {"x": [HandRecord(box_a, "left", a), HandRecord(box_b, "right", b)]}
    pred = {"x": [HandRecord(box_a, "left", a, score=0.9)]}  # hand b is missed
    curve = evaluate(gt, pred).pck
    assert curve.error == "pa_mpjpe_misses_counted" and len(curve.thresholds_m) == 100
    np.testing.assert_allclose(curve.pck[1:], 0.5)  # the matched hand is exact, the missed one never counts
    assert evaluate(gt, {"x": []}).pck.pck.max() == 0.0
    no3d = {"x": [HandRecord(box_a, "left"), HandRecord(box_b, "right")]}
    assert evaluate(no3d, {"x": [HandRecord(box_a, "left", score=0.9)]}).pck is None


def test_mesh_curve_integrates_to_the_aligned_auc():
    rng = np.random.default_rng(0)
    gt_j, gt_v = rng.normal(size=(6, 21, 3)) * 0.03, rng.normal(size=(6, 30, 3)) * 0.03
    res = evaluate_mesh_benchmark(gt_j, gt_v, gt_j + rng.normal(size=gt_j.shape) * 0.01, gt_v)
    t, p = res.pck.thresholds_m, res.pck.pck
    assert np.trapezoid(p, t) / (t[-1] - t[0]) == pytest.approx(res.metrics["auc_pa_0_50mm"], abs=1e-12)
