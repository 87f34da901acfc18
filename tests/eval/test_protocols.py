"""Per-benchmark protocols against the literal official ports, on random hand-like data."""

from __future__ import annotations

import numpy as np
import pytest

from smhr.eval import interhand, multihand, rhd
from smhr.eval.mesh_benchmarks import evaluate_mesh_benchmark
from tests.eval import official_reference as ref
from tests.eval.conftest import hand_like

TOL = 1e-6


@pytest.mark.slow
def test_freihand_matches_official(mesh_set):
    gj, gv, pj, pv = mesh_set
    pj[:3] = pj[:3] * np.array([-1.0, 1, 1])  # some mirrored predictions
    pv[:3] = pv[:3] * np.array([-1.0, 1, 1])
    res = evaluate_mesh_benchmark(gj, gv, pj, pv).metrics
    off = ref.freihand_ho3d_eval(gj, gv, [pj, pv])
    for name, key in (("mpjpe", "xyz"), ("pa_mpjpe", "xyz_al"), ("mpvpe", "mesh"), ("pa_mpvpe", "mesh_al")):
        assert res[f"{name}_mm"] == pytest.approx(off[key][0] * 1000, abs=TOL)
        assert res[f"{name}_median_mm"] == pytest.approx(off[key][1] * 1000, abs=TOL)
    for name, key in (("auc_0_50mm", "xyz"), ("auc_pa_0_50mm", "xyz_al"), ("auc_mesh_0_50mm", "mesh"), ("auc_pa_mesh_0_50mm", "mesh_al")):
        assert res[name] == pytest.approx(off[key][2], abs=TOL)
    assert res["f5"] == pytest.approx(off["f_al"][0], abs=TOL)
    assert res["f15"] == pytest.approx(off["f_al"][1], abs=TOL)
    assert res["f5_unaligned"] == pytest.approx(off["f"][0], abs=TOL)
    assert res["f15_unaligned"] == pytest.approx(off["f"][1], abs=TOL)


def test_ho3d_scale_translation_and_non_mano_mesh(mesh_set):
    gj, gv, pj, pv = mesh_set
    pv = pv[:, :500]
    res = evaluate_mesh_benchmark(gj, gv, pj, pv, scale_translation=True).metrics
    off = ref.freihand_ho3d_eval(gj, gv, [pj, pv], ho3d=True)
    assert res["st_mpjpe_mm"] == pytest.approx(off["xyz_st"][0] * 1000, abs=TOL)
    assert res["auc_st_0_50mm"] == pytest.approx(off["xyz_st"][2], abs=TOL)
    assert res["pa_mpvpe_mm"] == -1.0  # the official script reports -1 for non-MANO meshes
    assert res["f5"] == pytest.approx(off["f_al"][0], abs=TOL)
    assert res["f15"] == pytest.approx(off["f_al"][1], abs=TOL)


def test_units_are_mm_and_strict_differs_on_mirror(rng):
    gj, _ = hand_like(rng, 4, 21, noise=0.0)
    gv, _ = hand_like(rng, 4, 778, noise=0.0)
    mirror = np.array([-1.0, 1.0, 1.0])
    official = evaluate_mesh_benchmark(gj, gv, gj * mirror, gv * mirror).metrics
    strict = evaluate_mesh_benchmark(gj, gv, gj * mirror, gv * mirror, mode="strict").metrics
    assert official["pa_mpjpe_mm"] < 1e-4 and official["f5"] == 1.0
    assert strict["pa_mpjpe_mm"] > 1.0
    shifted = evaluate_mesh_benchmark(gj, gv, gj + np.array([0.01, 0, 0]), gv).metrics
    assert shifted["mpjpe_mm"] == pytest.approx(10.0)  # 1 cm offset reads as 10 mm
    assert all(k.endswith("_mm") or k.startswith(("f", "auc", "num")) for k in shifted)


def _interhand_case(rng, n=10):
    gt = rng.normal(size=(n, 42, 3)) * 0.05 + np.array([0, 0, 0.6])
    pred = gt + rng.normal(size=gt.shape) * 0.01
    valid = rng.uniform(size=(n, 42)) > 0.1
    types = ["right", "left", "interacting", "interacting", "right"] * (n // 5)
    for k, t in enumerate(types):
        if t == "right":
            valid[k, 21:] = False
        if t == "left":
            valid[k, :21] = False
    valid[:, [20, 41]] |= np.array([t != "left" for t in types])[:, None] & np.array([True, False])
    valid[:, 41] |= np.array([t != "right" for t in types])
    for side, root in (("right", 20), ("left", 41)):
        valid[:, interhand.HAND_JOINTS[side]] &= valid[:, root : root + 1]
    probs = rng.uniform(size=(n, 2))
    tvalid = rng.uniform(size=n) > 0.2
    return gt, valid, types, tvalid, pred, probs


def test_interhand_matches_official(rng):
    gt, valid, types, tvalid, pred, probs = _interhand_case(rng)
    gt_rec = interhand.InterHandGT([str(i) for i in range(len(gt))], gt, valid, types, tvalid)
    res = interhand.evaluate(gt_rec, pred, probs).metrics
    off = ref.interhand_evaluate(gt, valid, types, tvalid, pred, probs)
    assert res["mpjpe_all_mm"] == pytest.approx(off["all"] * 1000, abs=TOL)
    assert res["mpjpe_single_mm"] == pytest.approx(off["single"] * 1000, abs=TOL)
    assert res["mpjpe_interacting_mm"] == pytest.approx(off["interacting"] * 1000, abs=TOL)
    assert res["mrrpe_mm"] == pytest.approx(off["mrrpe"] * 1000, abs=TOL)
    assert res["handedness_acc"] == pytest.approx(off["handedness"], abs=1e-12)


def test_rhd_3d_matches_official(rng):
    gt, pred = hand_like(rng, 8, 21, noise=0.01)
    gt_palm, pred_palm = rhd.with_palm(gt), rhd.with_palm(pred * 1.7)
    rec = rhd.RhdGT(list(range(8)), gt_palm, np.zeros((8, 21, 2)), np.ones((8, 21), bool))
    res = rhd.evaluate(rec, pred_palm, None).metrics
    mean, median, auc, _, _ = ref.rhd_eval3d(gt_palm, pred_palm)
    assert res["epe3d_mean_mm"] == pytest.approx(mean * 1000, abs=TOL)
    assert res["epe3d_median_mm"] == pytest.approx(median * 1000, abs=TOL)
    assert res["auc3d_0_50mm"] == pytest.approx(auc, abs=TOL)
    assert 0.0 <= res["auc3d_20_50mm"] <= 1.0


def test_rhd_order_round_trip():
    x = np.arange(21)
    assert (x[rhd.OPENPOSE_TO_RHD][rhd.RHD_TO_OPENPOSE] == x).all()
    assert rhd.RHD_TO_OPENPOSE[1] == 4 and rhd.RHD_TO_OPENPOSE[4] == 1  # thumb base <-> tip
    assert rhd.OPENPOSE_TO_RHD[12] == 9  # RHD 12 (middle MCP) is OpenPose middle1 (index 9)


def _hand(box, side="right", score=1.0):
    return multihand.HandRecord(np.array(box, float), side, score=score)


def test_detection_ap_hand_built():
    gt = {"a": [_hand([0, 0, 10, 10]), _hand([20, 0, 30, 10], "left")], "b": [_hand([0, 0, 10, 10])]}
    pred = {
        "a": [_hand([0, 0, 10, 10], score=0.9), _hand([21, 0, 31, 10], "right", 0.8), _hand([50, 50, 60, 60], score=0.95)],
        "b": [],
    }
    res = multihand.evaluate(gt, pred, "iou", 0.5).metrics
    # ranked: FP(0.95), TP(0.9), TP(0.8): precision 0, 1/2, 2/3; recall 0, 1/3, 2/3
    # interpolated precision: 2/3 for recall <= 2/3, 0 above -> 67 of 101 points
    assert res["ap"] == pytest.approx(67 * (2 / 3) / 101)
    assert res["recall"] == pytest.approx(2 / 3)
    assert res["num_missed"] == 1 and res["num_false_positive"] == 1
    assert res["handedness_acc"] == pytest.approx(0.5)
    strict_iou = multihand.evaluate(gt, pred, "iou", 0.9).metrics  # IoU of the shifted box is 9/11
    assert strict_iou["num_matched"] == 1
    centre = multihand.evaluate(gt, pred, "centre", 1.0).metrics  # centres 1 px apart
    assert centre["num_matched"] == 2
    centre_tight = multihand.evaluate(gt, pred, "centre", 0.5).metrics
    assert centre_tight["num_matched"] == 1


def test_greedy_matching_highest_score_first():
    gt_boxes = np.array([[0, 0, 10, 10.0]])
    preds = np.array([[0, 0, 10, 10.0], [0, 0, 10, 9.0]])
    match = multihand.greedy_match(preds, np.array([0.1, 0.9]), gt_boxes, "iou", 0.5)
    assert match.tolist() == [-1, 0]  # the higher-scored, worse box takes the hand
