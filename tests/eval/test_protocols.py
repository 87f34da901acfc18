"""Per-benchmark protocols against the literal official ports, on random hand-like data."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from PIL import Image

from smhr.errors import ConfigError, DatasetError, PredictionError
from smhr.eval import interhand, multihand, rhd
from smhr.eval.protocols import EvalOptions
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
    _, _, auc_20_50, _, _ = ref.rhd_eval3d(gt_palm, pred_palm, 0.020, 0.050, 20)
    assert res["auc3d_20_50mm"] == pytest.approx(auc_20_50, abs=TOL)
    assert res["auc3d_0_50mm"] < res["auc3d_20_50mm"] < 0.95  # not saturated: the range matters


def _rhd_eval_dir(tmp_path, rng, n=12):
    """RHD's evaluation layout with random labels, visibility and part masks; returns (dir, uv_vis, masks)."""
    xyz, _ = hand_like(rng, n, 42, noise=0.0)
    uv_vis = np.concatenate([rng.uniform(0, 320, size=(n, 42, 2)), rng.uniform(size=(n, 42, 1)) > 0.3], axis=2)
    masks = rng.choice([0, 1, 5, 17, 18, 30], size=(n, 16, 16), p=[0.4, 0.1, 0.1, 0.1, 0.2, 0.1]).astype(np.uint8)
    masks[0] = 0  # no hand pixels at all: the right hand (ties go right)
    masks[1, :8] = 3  # a clearly left-dominant image
    gt_dir = tmp_path / "evaluation"
    (gt_dir / "mask").mkdir(parents=True)
    anno = {i: {"xyz": xyz[i].astype(np.float32), "uv_vis": uv_vis[i].astype(np.float32), "K": np.eye(3)} for i in range(n)}
    (gt_dir / "anno_evaluation.pickle").write_bytes(pickle.dumps(anno, protocol=2))
    for i in range(n):
        Image.fromarray(masks[i]).save(gt_dir / "mask" / f"{i:05d}.png")
    return gt_dir, uv_vis.astype(np.float32), masks


def test_rhd_2d_matches_official_eval2d(tmp_path, rng):
    gt_dir, uv_vis, masks = _rhd_eval_dir(tmp_path, rng)
    gt = rhd.read_gt(gt_dir)
    pred_openpose = rng.uniform(0, 320, size=(len(masks), 21, 2))
    res = rhd.evaluate(gt, gt.xyz, rhd.with_palm(pred_openpose[:, rhd.OPENPOSE_TO_RHD])).metrics
    # the official loop gets the network's 21 points, RHD order, palm first: what our reader forms
    pred_rhd_palm = rhd.with_palm(pred_openpose[:, rhd.OPENPOSE_TO_RHD])
    mean, median, auc, _, _ = ref.rhd_eval2d(uv_vis, masks, pred_rhd_palm)
    assert res["epe2d_mean_px"] == pytest.approx(mean, abs=TOL)
    assert res["epe2d_median_px"] == pytest.approx(median, abs=TOL)
    assert res["auc2d_0_30px"] == pytest.approx(auc, abs=TOL)
    assert 0.0 < res["auc2d_0_30px"] < 0.5  # random predictions: a few points within 30 px, most not
    mean, _, auc, _, _ = ref.rhd_eval2d(uv_vis, masks, gt.uv)
    assert mean == 0.0 and auc == 1.0  # our ground-truth 2D points are exactly the official reader's
    near = rhd.evaluate(gt, gt.xyz, gt.uv + rng.normal(size=gt.uv.shape) * 5.0).metrics
    assert 0.5 < near["auc2d_0_30px"] < 1.0
    wrist = ref.rhd_eval2d(uv_vis, masks, pred_rhd_palm, use_wrist_coord=True)[0]
    assert wrist != pytest.approx(res["epe2d_mean_px"], abs=1e-3)  # the palm setting is what we reproduce


def test_rhd_dominant_hand_from_masks(tmp_path, rng):
    gt_dir, uv_vis, masks = _rhd_eval_dir(tmp_path, rng)
    gt = rhd.read_gt(gt_dir)
    for i in range(len(masks)):
        left = ((masks[i] > 1) & (masks[i] < 18)).sum() > (masks[i] > 17).sum()
        raw = np.trunc(uv_vis[i, :21] if left else uv_vis[i, 21:])[:, :2]
        np.testing.assert_array_equal(gt.uv[i, 1:], raw[1:])
    assert not ((masks[0] > 1) & (masks[0] < 18)).any() and not (masks[0] > 17).any()
    np.testing.assert_array_equal(gt.uv[0, 1:], np.trunc(uv_vis[0, 22:, :2]))  # a tie goes to the right hand


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


def test_procedural_hand_vertex_count_is_evaluated_like_mano(rng):
    """756-vertex ground truth (smhr's procedural hand) with 756-vertex predictions: full mesh metrics."""
    gj, pj = hand_like(rng, 6, 21, noise=0.008)
    gv, pv = hand_like(rng, 6, 756, noise=0.004)
    res = evaluate_mesh_benchmark(gj, gv, pj, pv).metrics
    off = ref.freihand_ho3d_eval(gj, gv, [pj, pv])
    assert res["pa_mpvpe_mm"] == pytest.approx(off["mesh_al"][0] * 1000, abs=TOL)
    assert res["mpvpe_mm"] == pytest.approx(off["mesh"][0] * 1000, abs=TOL)
    assert res["auc_pa_mesh_0_50mm"] == pytest.approx(off["mesh_al"][2], abs=TOL)
    assert res["f5"] == pytest.approx(off["f_al"][0], abs=TOL)
    assert 0.5 < res["pa_mpvpe_mm"] < 20.0
    other = evaluate_mesh_benchmark(gj, gv, pj, hand_like(rng, 6, 778)[1]).metrics  # another topology
    off_other = ref.freihand_ho3d_eval(gj, gv, [pj, hand_like(np.random.default_rng(0), 6, 778)[1]])
    assert other["pa_mpvpe_mm"] == -1.0 and "mesh_al" not in off_other


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(match_threshold=float("nan")), r"match_threshold.*nan is not an IoU"),
        (dict(match_threshold=0.0), r"0.0 is not an IoU"),
        (dict(match_threshold=1.5), r"1.5 is not an IoU"),
        (dict(match="centre", match_threshold=float("inf")), r"inf is not a distance"),
        (dict(match="centre", match_threshold=-3.0), r"-3.0 is not a distance"),
        (dict(min_score=float("inf")), r"min_score.*inf is not a score"),
        (dict(min_score=float("nan")), r"min_score.*nan is not a score"),
        (dict(min_score=-0.1), r"-0.1 is not a score"),
        (dict(match="box"), r"'box' is not a matching criterion"),
        (dict(mode="loose"), r"mode.*'loose' is not an evaluation mode"),
    ],
)
def test_eval_options_refuse_meaningless_values(options, message):
    with pytest.raises(ConfigError, match=message):
        EvalOptions(**options)
    if "mode" not in options:
        kwargs = {"criterion": options.get("match", "iou"), "threshold": options.get("match_threshold", 0.5),
                  "min_score": options.get("min_score", 0.0)}
        with pytest.raises(ConfigError, match=message):
            multihand.evaluate({"a": [_hand([0, 0, 10, 10])]}, {}, **kwargs)


def test_eval_options_accept_the_edges():
    EvalOptions(match_threshold=1.0, min_score=1.0)
    EvalOptions(match="centre", match_threshold=40.0, min_score=0.0)


def test_min_score_filters_per_hand_metrics_not_detection():
    gt = {"a": [_hand([0, 0, 10, 10], "left"), _hand([20, 0, 30, 10], "right")]}
    pred = {"a": [_hand([0, 0, 10, 10], "left", 0.9), _hand([20, 0, 30, 10], "left", 0.3)]}
    every = multihand.evaluate(gt, pred, min_score=0.0).metrics
    high = multihand.evaluate(gt, pred, min_score=0.5).metrics
    assert every["recall"] == high["recall"] == 1.0 and high["num_missed"] == 0
    assert every["num_evaluated"] == 2 and every["handedness_acc"] == 0.5
    assert high["num_evaluated"] == 1 and high["handedness_acc"] == 1.0


def test_multihand_3d_all_or_none(rng):
    joints, _ = hand_like(rng, 2, 21, noise=0.0)
    gt = {"a": [multihand.HandRecord(np.array([0, 0, 10, 10.0]), "left", joints[0]),
                multihand.HandRecord(np.array([20, 0, 30, 10.0]), "right", joints[1])]}
    mixed = {"a": [multihand.HandRecord(np.array([0, 0, 10, 10.0]), "left", joints[0], score=0.9),
                   multihand.HandRecord(np.array([20, 0, 30, 10.0]), "right", None, score=0.8)]}
    with pytest.raises(PredictionError, match="some hands have 'joints3d' and some do not"):
        multihand.evaluate(gt, mixed)
    none = {"a": [multihand.HandRecord(h.box, h.side, None, score=0.9) for h in gt["a"]]}
    res = multihand.evaluate(gt, none).metrics
    assert np.isnan(res["mpjpe_mm"]) and np.isnan(res["pa_mpjpe_mm"]) and np.isnan(res["pa_mpvpe_mm"])
    assert res["num_evaluated"] == 2
    gt_mixed = {"a": [gt["a"][0], multihand.HandRecord(gt["a"][1].box, "right")]}
    with pytest.raises(DatasetError, match="ground truth: some hands have 'joints3d'"):
        multihand.evaluate(gt_mixed, none)


def test_recall_at_min_score_and_2d_error_over_evaluated_pairs():
    """recall_at_min_score = evaluated (matched, score >= min_score) / labelled hands; joints2d_err_px is
    the mean 2D joint distance over those pairs, NaN when a file has no joints2d."""
    rng = np.random.default_rng(0)
    uv = [rng.uniform(0, 30, (21, 2)) for _ in range(3)]

    def with2d(record, points):
        record.joints2d = points
        return record

    gt = {"a": [with2d(_hand([0, 0, 10, 10], "left"), uv[0]), with2d(_hand([20, 0, 30, 10], "right"), uv[1])],
          "b": [with2d(_hand([0, 0, 10, 10], "right"), uv[2])]}
    pred = {"a": [with2d(_hand([0, 0, 10, 10], "left", 0.9), uv[0] + [3.0, 4.0]),
                  with2d(_hand([20, 0, 30, 10], "right", 0.2), uv[1])],
            "b": [with2d(_hand([50, 50, 60, 60], "right", 0.8), uv[2])]}
    high = multihand.evaluate(gt, pred, min_score=0.5).metrics
    assert high["recall"] == pytest.approx(2 / 3) and high["recall_at_min_score"] == pytest.approx(1 / 3)
    assert high["joints2d_err_px"] == pytest.approx(5.0)  # the one evaluated pair, 3-4-5 off
    every = multihand.evaluate(gt, pred, min_score=0.0).metrics
    assert every["recall_at_min_score"] == pytest.approx(2 / 3) and every["joints2d_err_px"] == pytest.approx(2.5)
    for hands in pred.values():
        for h in hands:
            h.joints2d = None
    assert np.isnan(multihand.evaluate(gt, pred).metrics["joints2d_err_px"])
