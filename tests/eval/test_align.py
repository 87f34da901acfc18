"""Alignments: hand-computed cases, properties, and agreement with literal official ports."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from smhr.eval import align
from smhr.eval.metrics import point_errors
from tests.eval import official_reference as ref
from tests.eval.conftest import hand_like

MIRROR = np.diag([-1.0, 1.0, 1.0])


def close(a, b, atol=1e-9):
    assert_close(torch.as_tensor(np.asarray(a, np.float64)), torch.as_tensor(np.asarray(b, np.float64)), atol=atol, rtol=0)


def test_similarity_copy_has_zero_pa_error(rng):
    gt, _ = hand_like(rng, 5, 21)
    q = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    q = q * np.sign(np.linalg.det(q))
    pred = 2.5 * gt @ q.T + np.array([0.1, -0.2, 0.3])
    for reflect in (True, False):
        close(align.align_w_scale(gt, pred, allow_reflection=reflect), gt, atol=1e-7)


def test_mirrored_hand_zero_official_but_not_strict(rng):
    gt, _ = hand_like(rng, 4, 21)
    pred = gt @ MIRROR
    official = point_errors(gt, align.align_w_scale(gt, pred, allow_reflection=True)).mean()
    strict = point_errors(gt, align.align_w_scale(gt, pred, allow_reflection=False)).mean()
    assert official < 1e-7
    assert strict > 1e-3


def test_hand_computed_translation_and_scale():
    gt = np.array([[[0.0, 0, 0], [1, 0, 0], [0, 1, 0]]])
    pred = 3.0 * gt + 5.0
    close(align.align_w_scale(gt, pred), gt, atol=1e-7)
    trafo = align.procrustes_trafo(gt, pred)
    close(trafo.R[0], np.eye(3), atol=1e-9)
    close(trafo.t[0], gt.mean(1)[0] - pred.mean(1)[0])
    close(trafo.s1[0], np.linalg.norm(gt[0] - gt[0].mean(0)) + 1e-8)


def test_sc_tr_hand_computed():
    gt = np.zeros((1, 5, 3))
    gt[0, 4] = [0.0, 0.0, 0.1]
    pred = np.zeros((1, 5, 3))
    pred[0, 4] = [0.0, 0.3, 0.0]
    pred[0, 1] = [0.3, 0.0, 0.0]
    out = align.align_sc_tr(gt + 1.0, pred + 7.0, root=0, ref=4)
    expected = pred / 3.0 + 1.0
    close(out, expected)
    zero = align.align_sc_tr(gt, np.zeros((1, 5, 3)), root=0, ref=4)
    close(zero, gt[:, :1].repeat(5, 1))


@pytest.mark.parametrize("case", ["random", "mirrored", "degenerate_points", "zero_pred", "planar"])
def test_fast_matches_literal_official(rng, case):
    gt, pred = hand_like(rng, 6, 21, noise=0.01)
    if case == "mirrored":
        pred = pred @ MIRROR
    elif case == "degenerate_points":
        pred[:, :] = pred[:, :1]  # all points identical: zero norm, the 1e-8 guard matters
    elif case == "zero_pred":
        pred = np.zeros_like(pred)
    elif case == "planar":
        pred[..., 2] = 0.0
        gt[..., 2] = 0.0
    fast = align.align_w_scale(gt, pred)
    slow = np.stack([ref.align_w_scale(g.copy(), p.copy()) for g, p in zip(gt, pred)])
    close(fast, slow, atol=1e-9)
    trafo = align.procrustes_trafo(gt, pred)
    verts = pred[:, :10] * 1.3 + 0.01
    fast_v = align.align_by_trafo_official(verts, trafo)
    slow_v = np.stack([ref.align_by_trafo(v, ref.align_w_scale(g.copy(), p.copy(), return_trafo=True)) for v, g, p in zip(verts, gt, pred)])
    close(fast_v, slow_v, atol=1e-9)
    fast_st = align.align_sc_tr(gt, pred, 0, 4)
    slow_st = np.stack([ref.align_sc_tr(g, p) for g, p in zip(gt, pred)])
    close(fast_st, slow_st, atol=1e-9)


def test_strict_transfer_is_consistent(rng):
    gt, pred = hand_like(rng, 3, 21, noise=0.0)
    q = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    q = q * np.sign(np.linalg.det(q))
    moved = 0.7 * pred @ q + 0.2
    verts = np.concatenate([moved, moved[:, :5] + 0.001], axis=1)
    out = align.align_by_trafo_strict(verts, moved, gt)
    close(out[:, :21], gt, atol=1e-7)
