"""Metric functions: exact tiny cases and agreement with the literal official accumulators."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from smhr.eval.metrics import eval_util_measures, fscore_from_distances, fscores, nearest_distances, point_errors
from tests.eval import official_reference as ref
from tests.eval.conftest import hand_like


def close(a, b, atol=1e-12):
    assert_close(torch.as_tensor(np.asarray(a, np.float64)), torch.as_tensor(np.asarray(b, np.float64)), atol=atol, rtol=0)


def test_eval_util_hand_computed():
    # two points, three samples: errors 0, 1, 2 (point 0) and 4, 4, 4 (point 1)
    err = np.array([[0.0, 4.0], [1.0, 4.0], [2.0, 4.0]])
    m = eval_util_measures(err, None, 0.0, 4.0, 5)  # thresholds 0, 1, 2, 3, 4
    assert m.epe_mean == pytest.approx((1.0 + 4.0) / 2)
    assert m.epe_median == pytest.approx((1.0 + 4.0) / 2)
    # point 0: pck = 1/3, 2/3, 1, 1, 1 (inclusive <=); point 1: 0, 0, 0, 0, 1
    close(m.pck_curve, [(1 / 3) / 2, (2 / 3) / 2, 0.5, 0.5, 1.0])
    auc0 = (0.5 * (1 / 3 + 2 / 3) + 0.5 * (2 / 3 + 1) + 1 + 1) / 4
    auc1 = 0.5 / 4
    assert m.auc == pytest.approx((auc0 + auc1) / 2)


def test_eval_util_matches_official_with_visibility(rng):
    err = rng.uniform(0, 0.06, size=(40, 21))
    vis = rng.uniform(size=(40, 21)) > 0.3
    vis[:, 5] = False  # a joint never visible is skipped, as the official code does
    util = ref.EvalUtil()
    for e, v in zip(err, vis):
        for i in range(21):
            if v[i]:
                util.data[i].append(e[i])
    mean, median, auc, curve, _ = util.get_measures(0.0, 0.05, 100)
    m = eval_util_measures(err, vis, 0.0, 0.05, 100)
    close([m.epe_mean, m.epe_median, m.auc], [mean, median, auc])
    close(m.pck_curve, curve)
    assert np.isnan(m.epe_per_point[5])


def test_fscore_hand_computed():
    gt = np.array([[[0.0, 0, 0], [1, 0, 0]]])
    pred = np.array([[[0.0, 0, 0.004], [5, 0, 0], [5, 1, 0]]])
    # gt->pred: 0.004, 4 ; pred->gt: 0.004, 4, sqrt(17). At 5 mm: precision 1/2, recall 1/3.
    f = fscores(gt, pred, (0.005, 0.004))
    assert f[0, 0] == pytest.approx(2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3))
    assert f[0, 1] == 0.0  # strict <: a distance equal to the threshold does not count


def test_fscore_from_distances_zero_case():
    assert fscore_from_distances(np.ones((1, 3)), np.ones((1, 2)), 0.5)[0] == 0.0


@pytest.mark.parametrize("case", ["hand", "mirrored", "far", "identical", "fewer_verts", "coincident_points"])
def test_fscores_match_literal_official(rng, case):
    gt, pred = hand_like(rng, 5, 200, noise=0.005)
    if case == "mirrored":
        pred = pred * np.array([-1.0, 1.0, 1.0])
    elif case == "far":
        pred = pred + np.array([0.0, 0.0, 3.0])
    elif case == "identical":
        pred = gt.copy()
    elif case == "fewer_verts":
        pred = pred[:, :150]
    elif case == "coincident_points":
        pred[:, :100] = pred[:, :1]
    fast = fscores(gt, pred, (0.005, 0.015))
    slow = np.array([[ref.calculate_fscore(g, p, t) for t in (0.005, 0.015)] for g, p in zip(gt, pred)])
    close(fast, slow)


def test_nearest_distances_match_kdtree(rng):
    from scipy.spatial import cKDTree

    a, b = hand_like(rng, 4, 50, noise=0.01)
    d_ab, d_ba = nearest_distances(a, b[:, :30])
    for i in range(4):
        close(d_ab[i], cKDTree(b[i, :30]).query(a[i])[0])
        close(d_ba[i], cKDTree(a[i]).query(b[i, :30])[0])


def test_point_errors_units_are_input_units():
    assert point_errors(np.zeros((1, 1, 3)), np.array([[[0.003, 0.004, 0.0]]]))[0, 0] == pytest.approx(0.005)
