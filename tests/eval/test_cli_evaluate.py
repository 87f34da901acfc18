"""``smhr evaluate`` end to end on tiny files in each official format, bad inputs, submissions."""

from __future__ import annotations

import json
import re
import pickle
import zipfile

import numpy as np
import pytest
from PIL import Image

from smhr.cli import main
from smhr.errors import PredictionError
from smhr.eval.io import read_mesh_pred
from smhr.eval.protocols import EvalOptions, evaluate_files
from smhr.eval.submission import write_freihand, write_ho3d
from smhr.hand.conventions import OPENGL_TO_OPENCV
from smhr.hand.joints import HO3D_TO_OPENPOSE
from tests.eval import official_reference as ref
from tests.eval.conftest import hand_like, write_json

pytestmark = pytest.mark.pipeline


def run_cli(protocol, pred, gt, out, *extra):
    return main(["evaluate", "--protocol", protocol, "--pred", str(pred), "--gt", str(gt), "--out", str(out), *extra])


def test_freihand_cli_writes_sorted_metrics_and_csv(tmp_path, freihand_files):
    gt_dir, pred = freihand_files
    out, csv_path = tmp_path / "m.json", tmp_path / "per_sample.csv"
    assert run_cli("freihand", pred, gt_dir, out, "--per-sample-csv", str(csv_path)) == 0
    text = out.read_text()
    metrics = json.loads(text)
    assert list(metrics) == sorted(metrics)
    assert {"pa_mpjpe_mm", "pa_mpvpe_mm", "f5", "f15", "auc_pa_0_50mm"} <= set(metrics)
    assert 1.0 < metrics["pa_mpjpe_mm"] < 30.0  # 8 mm noise per axis, read in mm
    rows = csv_path.read_text().splitlines()
    assert rows[0].startswith("sample_id,") and len(rows) == 13
    assert not list(tmp_path.glob(".*.tmp"))


def test_ho3d_submission_round_trip_and_axes(tmp_path, mesh_set):
    gj, gv, pj, pv = mesh_set  # OpenCV, OpenPose order
    files = write_ho3d(tmp_path / "sub", pj, pv)
    with zipfile.ZipFile(files.zip_path) as archive:
        assert archive.namelist() == ["pred.json"]
    back = read_mesh_pred(files.zip_path, len(pj))
    np.testing.assert_allclose(back.joints[:, HO3D_TO_OPENPOSE] @ OPENGL_TO_OPENCV, pj, atol=1e-12)
    np.testing.assert_allclose(back.verts @ OPENGL_TO_OPENCV, pv, atol=1e-12)
    gt_dir = tmp_path / "ref"
    gt_files = write_ho3d(tmp_path / "gtsub", gj, gv)
    gt_data = json.loads(gt_files.json_path.read_text())
    write_json(gt_dir / "evaluation_xyz.json", gt_data[0])
    write_json(gt_dir / "evaluation_verts.json", gt_data[1])
    out = tmp_path / "m.json"
    assert run_cli("ho3d-v3", files.zip_path, gt_dir, out) == 0
    metrics = json.loads(out.read_text())
    assert "st_mpjpe_mm" in metrics and metrics["num_samples"] == len(pj)
    wrong_axes = write_freihand(tmp_path / "cv", pj[:, [HO3D_TO_OPENPOSE.tolist().index(i) for i in range(21)]], pv)
    with pytest.raises(PredictionError, match="z > 0.*OpenGL"):
        evaluate_files("ho3d-v3", wrong_axes.json_path, gt_dir)


def test_freihand_submission_round_trip(tmp_path, mesh_set):
    _, _, pj, pv = mesh_set
    files = write_freihand(tmp_path, pj, pv)
    back = read_mesh_pred(files.zip_path, len(pj))
    np.testing.assert_allclose(back.joints, pj, atol=0)
    np.testing.assert_allclose(back.verts, pv, atol=0)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda p: [p[0][:-1], p[1]], "xyz_list has 11 entries, the ground truth has 12"),
        (lambda p: [p[0], p[1][:-1]], "verts_list has 11 entries"),
        (lambda p: [[[float("nan")] * 3] * 21] + p[0][1:], "expected a JSON list"),
        (lambda p: [[x[:20] for x in p[0]], p[1]], r"wrong shape \(12, 20, 3\)"),
        (lambda p: [p[0][:1] + [[[float("nan")] * 3] * 21] + p[0][2:], p[1]], "NaN or inf in 1 entries .first: index 1"),
        (lambda p: [p[0][:1] + [x[:20] for x in p[0][1:2]] + p[0][2:], p[1]], "different or non-numeric shapes"),
        (lambda p: [p[0][:2] + [[[None] * 3] * 21] + p[0][3:], p[1]], "NaN or inf in 1 entries .first: index 2"),
        (lambda p: [p[0], p[1][:3] + [v[:700] for v in p[1][3:4]] + p[1][4:]], "verts_list: entries have different"),
    ],
)
def test_bad_predictions_name_the_problem(tmp_path, freihand_files, mutate, message):
    gt_dir, pred = freihand_files
    bad = mutate(json.loads(pred.read_text()))
    bad_path = tmp_path / "bad.json"
    bad_path.write_text(json.dumps(bad))  # Python's json writes and reads NaN as the literal NaN
    with pytest.raises(PredictionError, match=message):
        evaluate_files("freihand", bad_path, gt_dir)
    out = tmp_path / "never.json"
    assert run_cli("freihand", bad_path, gt_dir, out) == 1
    assert not out.exists()


def test_interhand_cli_official_files(tmp_path, rng):
    joints_mm = rng.normal(size=(2, 42, 3)) * 50.0
    camrot = np.eye(3).tolist()
    ann_dir = tmp_path / "annotations"
    write_json(ann_dir / "InterHand2.6M_test_camera.json", {"0": {"campos": {"400": [0, 0, -600]}, "camrot": {"400": camrot},
                                                                   "focal": {"400": [1000, 1000]}, "princpt": {"400": [160, 120]}}})
    write_json(ann_dir / "InterHand2.6M_test_joint_3d.json", {"0": {str(f): {"world_coord": joints_mm[f].tolist()} for f in range(2)}})
    images = [{"id": 10 + f, "capture": 0, "camera": "400", "frame_idx": f, "file_name": f"{f}.jpg"} for f in range(2)]
    anns = [{"id": 100 + f, "image_id": 10 + f, "joint_valid": [[1]] * 42, "hand_type": t, "hand_type_valid": 1}
            for f, t in enumerate(["right", "interacting"])]
    write_json(ann_dir / "InterHand2.6M_test_data.json", {"images": images, "annotations": anns})
    cam = (joints_mm + np.array([0, 0, 600.0])) / 1000.0
    pred = {str(100 + f): {"joints3d": (cam[f] + 0.002).tolist(), "hand_type": [0.9, 0.1]} for f in range(2)}
    pred_path = write_json(tmp_path / "pred.json", pred)
    out = tmp_path / "m.json"
    assert run_cli("interhand", pred_path, ann_dir, out) == 0
    m = json.loads(out.read_text())
    assert m["mpjpe_all_mm"] == pytest.approx(0.0, abs=1e-3)  # a constant offset vanishes root-relative
    assert m["mrrpe_mm"] == pytest.approx(0.0, abs=1e-3)
    assert m["handedness_acc"] == pytest.approx(0.5)
    del pred["100"]
    write_json(pred_path, pred)
    with pytest.raises(PredictionError, match="1 predictions for 2 annotations"):
        evaluate_files("interhand", pred_path, ann_dir)


def test_rhd_cli_official_files(tmp_path, rng):
    xyz, _ = hand_like(rng, 2, 42, noise=0.0)
    uv = np.concatenate([rng.uniform(0, 320, size=(2, 42, 2)), np.ones((2, 42, 1))], axis=2)
    anno = {i: {"xyz": xyz[i].astype(np.float32), "uv_vis": uv[i], "K": np.eye(3)} for i in range(2)}
    gt_dir = tmp_path / "evaluation"
    (gt_dir / "mask").mkdir(parents=True)
    with open(gt_dir / "anno_evaluation.pickle", "wb") as handle:
        pickle.dump(anno, handle)
    for i, label in enumerate([5, 20]):  # sample 0: left hand visible; sample 1: right hand
        Image.fromarray(np.full((8, 8), label, np.uint8)).save(gt_dir / "mask" / f"{i:05d}.png")
    from smhr.eval.rhd import RHD_TO_OPENPOSE

    hands = np.stack([xyz[0, :21], xyz[1, 21:]]).astype(np.float32).astype(np.float64)
    uvs = np.stack([np.trunc(uv[0, :21, :2]), np.trunc(uv[1, 21:, :2])])
    pred = {"xyz": (hands[:, RHD_TO_OPENPOSE] * 2.0).tolist(), "uv": (uvs[:, RHD_TO_OPENPOSE] + 3.0).tolist()}
    pred_path = write_json(tmp_path / "pred.json", pred)
    out = tmp_path / "m.json"
    assert run_cli("rhd", pred_path, gt_dir, out) == 0
    m = json.loads(out.read_text())
    assert m["epe3d_mean_mm"] == pytest.approx(0.0, abs=1e-3)  # rescaled by the gt bone: scale-free
    assert m["epe2d_mean_px"] == pytest.approx(np.sqrt(18.0))
    assert m["auc3d_20_50mm"] == pytest.approx(1.0)  # every error is far below 20 mm


def test_multihand_cli(tmp_path, rng):
    joints, pred_joints = hand_like(rng, 2, 21, noise=0.0)
    gt = {"images": {"img0": [{"box": [0, 0, 10, 10], "side": "left", "joints3d": joints[0].tolist()},
                              {"box": [20, 0, 30, 10], "side": "right", "joints3d": joints[1].tolist()}]}}
    pred = {"images": {"img0": [{"box": [0, 0, 10, 10], "side": "left", "score": 0.9,
                                 "joints3d": (pred_joints[0] + 0.01).tolist()}]}}
    gt_path, pred_path = write_json(tmp_path / "gt.json", gt), write_json(tmp_path / "pred.json", pred)
    out = tmp_path / "m.json"
    assert run_cli("multihand", pred_path, gt_path, out, "--match", "centre", "--match-threshold", "2") == 0
    m = json.loads(out.read_text())
    assert m["num_missed"] == 1 and m["recall"] == 0.5 and m["handedness_acc"] == 1.0
    assert m["mpjpe_mm"] == pytest.approx(0.0, abs=1e-9) and m["pa_mpjpe_mm"] == pytest.approx(0.0, abs=1e-4)  # the official 1e-8 norm guard
    res = evaluate_files("multihand", pred_path, gt_path, EvalOptions(match="iou", match_threshold=0.5))
    assert res.metrics["ap"] == pytest.approx(51 / 101)


def test_procedural_hand_ground_truth_is_evaluable(tmp_path, rng):
    """Our synthetic set's 756-vertex meshes: evaluated like MANO's 778 with 778 (issue §3)."""
    gj, pj = hand_like(rng, 5, 21, noise=0.008)
    gv, pv = hand_like(rng, 5, 756, noise=0.004)
    gt_dir = tmp_path / "synth"
    write_json(gt_dir / "evaluation_xyz.json", gj.tolist())
    write_json(gt_dir / "evaluation_verts.json", gv.tolist())
    pred = write_json(tmp_path / "pred.json", [pj.tolist(), pv.tolist()])
    out = tmp_path / "m.json"
    assert run_cli("freihand", pred, gt_dir, out) == 0
    m = json.loads(out.read_text())
    off = ref.freihand_ho3d_eval(gj, gv, [pj, pv])
    assert m["pa_mpvpe_mm"] == pytest.approx(off["mesh_al"][0] * 1000, abs=1e-6)
    assert m["f15"] == pytest.approx(off["f_al"][1], abs=1e-6)
    other = write_json(tmp_path / "pred778.json", [pj.tolist(), hand_like(rng, 5, 778)[1].tolist()])
    assert run_cli("freihand", other, gt_dir, out) == 0  # another topology: the official -1 rule
    assert json.loads(out.read_text())["pa_mpvpe_mm"] == -1.0


def test_strict_mode_through_the_cli(tmp_path, freihand_files, mesh_set):
    gj, gv, _, _ = mesh_set
    gt_dir, _ = freihand_files
    mirrored = write_json(tmp_path / "mirror.json", [(gj * [-1.0, 1, 1]).tolist(), (gv * [-1.0, 1, 1]).tolist()])
    official, strict = tmp_path / "official.json", tmp_path / "strict.json"
    assert run_cli("freihand", mirrored, gt_dir, official) == 0
    assert run_cli("freihand", mirrored, gt_dir, strict, "--mode", "strict") == 0
    m_off, m_strict = json.loads(official.read_text()), json.loads(strict.read_text())
    assert m_off["mode"] == "official" and m_strict["mode"] == "strict"
    assert m_off["pa_mpjpe_mm"] < 1e-3 and m_off["f5"] == 1.0  # the official alignment accepts the mirror
    assert m_strict["pa_mpjpe_mm"] > 5.0 and m_strict["f5"] < 1.0  # a proper rotation cannot undo it
    assert m_off["mpjpe_mm"] == m_strict["mpjpe_mm"]  # only the alignment differs


def _multihand_files(tmp_path, rng, with_3d=True):
    joints, _ = hand_like(rng, 2, 21, noise=0.0)
    extra = [{"joints3d": joints[k].tolist()} if with_3d else {} for k in range(2)]
    gt = {"images": {"img0": [{"box": [0, 0, 10, 10], "side": "left", **extra[0]},
                              {"box": [20, 0, 30, 10], "side": "right", **extra[1]}]}}
    pred = {"images": {"img0": [{"box": [0, 0, 10, 10], "side": "left", "score": 0.9, **extra[0]},
                                {"box": [20, 0, 30, 10], "side": "left", "score": 0.3, **extra[1]}]}}
    return write_json(tmp_path / "gt.json", gt), write_json(tmp_path / "pred.json", pred)


def test_min_score_through_the_cli(tmp_path, rng):
    gt_path, pred_path = _multihand_files(tmp_path, rng)
    out = tmp_path / "m.json"
    assert run_cli("multihand", pred_path, gt_path, out) == 0
    every = json.loads(out.read_text())
    assert run_cli("multihand", pred_path, gt_path, out, "--min-score", "0.5") == 0
    high = json.loads(out.read_text())
    assert every["num_evaluated"] == 2 and every["handedness_acc"] == 0.5
    assert high["num_evaluated"] == 1 and high["handedness_acc"] == 1.0
    assert high["recall"] == every["recall"] == 1.0 and high["num_missed"] == 0  # detection ignores min_score


@pytest.mark.parametrize(
    "flags, message",
    [
        # argparse's range types catch what is never a number of the kind; EvalOptions the rest
        (["--match-threshold", "nan"], r"--match-threshold: nan is out of range"),
        (["--match-threshold", "1.5"], r"1.5 is not an IoU"),
        (["--match", "centre", "--match-threshold", "inf"], r"--match-threshold: inf is out of range"),
        (["--min-score", "inf"], r"--min-score: inf is not finite"),
        (["--min-score", "-1"], r"-1.0 is not a score"),
    ],
)
def test_cli_refuses_meaningless_options(tmp_path, rng, capsys, flags, message):
    gt_path, pred_path = _multihand_files(tmp_path, rng)
    out = tmp_path / "m.json"
    assert run_cli("multihand", pred_path, gt_path, out, *flags) == 2  # a usage error
    err = capsys.readouterr().err
    # one error line (argparse's own errors are preceded by the usage, as every argparse tool does)
    assert re.search(message, err.strip().splitlines()[-1]) and "Traceback" not in err
    assert not out.exists()


def test_multihand_without_3d_reports_3d_metrics_as_absent(tmp_path, rng):
    gt_path, pred_path = _multihand_files(tmp_path, rng, with_3d=False)
    out = tmp_path / "m.json"
    assert run_cli("multihand", pred_path, gt_path, out) == 0
    m = json.loads(out.read_text())
    assert m["mpjpe_mm"] is None and m["pa_mpjpe_mm"] is None and m["pa_mpvpe_mm"] is None
    assert m["num_evaluated"] == 2
