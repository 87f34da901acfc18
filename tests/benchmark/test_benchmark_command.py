"""``smhr benchmark`` end to end on tiny fixtures: outputs, agreement with ``smhr evaluate``, the mean
hand, skipped benchmarks and errors."""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import numpy as np
import pytest

from smhr.cli import main as cli_main
from tests.benchmark.conftest import save_tiny_checkpoint, write_params

PROTOCOL = {"synth": "freihand", "composed": "multihand"}
EXTRA = {"num_images", "num_no_detection", "min_score", "centre_ap", "centre_recall"}
"""Keys ``smhr benchmark`` adds to the protocol's metrics."""


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def network_run(tmp_path_factory, bench_data, procedural_model_files, tiny_checkpoint) -> tuple[Path, Path]:
    """(params file, --out folder) of one run of the tiny checkpoint on both benchmarks."""
    tmp = tmp_path_factory.mktemp("network_run")
    params = write_params(tmp / "params.yaml", bench_data, procedural_model_files)
    out = tmp / "metrics"
    assert cli_main(["benchmark", "--checkpoint", str(tiny_checkpoint), "--out", str(out),
                     "--params", str(params), "--no-progress"]) == 0
    return params, out


@pytest.mark.parametrize("bench", ["synth", "composed"])
def test_metrics_equal_smhr_evaluate_on_the_written_prediction_file(network_run, bench_data, bench, tmp_path):
    params, out = network_run
    metrics_text = (out / f"{bench}.json").read_text()
    metrics = json.loads(metrics_text)
    assert list(metrics) == sorted(metrics)
    gt = bench_data["synth"] if bench == "synth" else out / "composed_gt.json"
    ev = tmp_path / "ev.json"
    at = ["--min-score", str(metrics["min_score"])] if bench == "composed" else []  # the model's threshold
    assert bench == "synth" or metrics["min_score"] == 0.3
    assert cli_main(["evaluate", "--protocol", PROTOCOL[bench], "--pred", str(out / f"{bench}_pred.json"),
                     "--gt", str(gt), "--out", str(ev), "--params", str(params), *at]) == 0
    assert {k: v for k, v in metrics.items() if k not in EXTRA} == json.loads(ev.read_text())
    assert metrics["num_images"] == (5 if bench == "synth" else 4)
    if bench == "composed":  # the detected centres alone (tests/benchmark/test_centre_ap.py)
        assert 0.0 <= metrics["centre_ap"] <= 1.0 and 0.0 <= metrics["centre_recall"] <= 1.0
    else:
        assert "centre_ap" not in metrics


def test_single_hand_protocol_files(network_run):
    _, out = network_run
    pred = json.loads((out / "synth_pred.json").read_text())
    joints, verts = np.asarray(pred[0]), np.asarray(pred[1])
    assert joints.shape == (5, 21, 3) and verts.shape == (5, 756, 3)
    assert np.all(joints[..., 2] > 0)  # a hand for every image, in front of the camera
    pck = read_csv(out / "synth_pck.csv")
    assert list(pck[0]) == ["threshold_mm", "pck"] and len(pck) == 100
    values = np.array([float(r["pck"]) for r in pck])
    thresholds = np.array([float(r["threshold_mm"]) for r in pck])
    assert thresholds[0] == 0 and thresholds[-1] == pytest.approx(50.0) and np.all(np.diff(values) >= 0)
    metrics = json.loads((out / "synth.json").read_text())
    assert np.trapezoid(values, thresholds) / 50.0 == pytest.approx(metrics["auc_pa_0_50mm"], abs=1e-6)
    rows = read_csv(out / "synth_per_sample.csv")
    assert [r["image"] for r in rows] == [str(i) for i in range(5)]
    assert np.mean([float(r["pa_mpjpe_mm"]) for r in rows]) == pytest.approx(metrics["pa_mpjpe_mm"], rel=1e-5)
    assert sum(r["detected"] == "0" for r in rows) == metrics["num_no_detection"]


def test_multihand_files(network_run):
    _, out = network_run
    rows = read_csv(out / "composed_per_sample.csv")
    assert [r["image"] for r in rows] == [str(i) for i in range(4)]
    assert {"image", "source", "score", "detected", "num_detected", "num_evaluated", "num_missed"} <= set(rows[0])
    metrics = json.loads((out / "composed.json").read_text())
    assert sum(int(r["num_missed"]) for r in rows) == metrics["num_gt_hands"] - metrics["num_evaluated"]
    assert sum(int(r["num_evaluated"]) for r in rows) == metrics["num_evaluated"]
    pred = json.loads((out / "composed_pred.json").read_text())
    assert sorted(pred["images"]) == [str(i) for i in range(4)]
    assert all("verts" not in h for hands in pred["images"].values() for h in hands)  # the GT has no meshes
    pck = read_csv(out / "composed_pck.csv")
    assert len(pck) == 100  # the ground truth has 3D joints: misses count as 0


def test_top_slot_is_taken_below_the_threshold(tmp_path, bench_data, procedural_model_files):
    ckpt = save_tiny_checkpoint(tmp_path / "blind.pt", procedural_model_files, score_threshold=1.0)
    params = write_params(tmp_path / "params.yaml", bench_data, procedural_model_files, composed=None)
    out = tmp_path / "out"
    assert cli_main(["benchmark", "--checkpoint", str(ckpt), "--out", str(out), "--params", str(params),
                     "--benchmarks", "synth", "--no-progress"]) == 0
    metrics = json.loads((out / "synth.json").read_text())
    assert metrics["num_no_detection"] == metrics["num_images"] == 5
    joints = np.asarray(json.loads((out / "synth_pred.json").read_text())[0])
    assert np.all(joints[..., 2] > 0)  # real hands, not zeros


def test_mean_hand(tmp_path, bench_data, procedural_model_files):
    params = write_params(tmp_path / "params.yaml", bench_data, procedural_model_files)
    out = tmp_path / "mean_hand"
    assert cli_main(["benchmark", "--mean-hand", "--out", str(out), "--params", str(params), "--no-progress"]) == 0
    synth = json.loads((out / "synth.json").read_text())
    composed = json.loads((out / "composed.json").read_text())
    assert synth["num_no_detection"] == 0 and 0 < synth["pa_mpjpe_mm"] < 50
    # given the ground-truth boxes and sides: a perfect detector
    assert composed["ap"] == composed["recall"] == composed["handedness_acc"] == 1.0
    assert composed["num_evaluated"] == composed["num_gt_hands"] and 0 < composed["pa_mpjpe_mm"] < 50


def test_null_roots_are_skipped_with_one_line(tmp_path, bench_data, procedural_model_files, tiny_checkpoint, caplog):
    params = write_params(tmp_path / "params.yaml", bench_data, procedural_model_files, synth=None)
    out = tmp_path / "out"
    with caplog.at_level(logging.INFO):
        assert cli_main(["benchmark", "--checkpoint", str(tiny_checkpoint), "--out", str(out), "--params",
                         str(params), "--benchmarks", "synth", "rhd", "--no-progress"]) == 0
    skipped = [r.getMessage() for r in caplog.records if ": skipped (" in r.getMessage()]
    assert len(skipped) == 2 and any("benchmark.synth.root is null" in m for m in skipped)
    assert not out.exists() or not any(out.iterdir())


def _fails(argv: list[str], capsys) -> tuple[int, str]:
    code = cli_main(argv)
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1
    return code, err


def test_errors(tmp_path, bench_data, procedural_model_files, tiny_checkpoint, capsys):
    params = write_params(tmp_path / "params.yaml", bench_data, procedural_model_files)
    out = tmp_path / "out"
    common = ["--out", str(out), "--params", str(params), "--no-progress"]

    code, err = _fails(["benchmark", "--checkpoint", str(tmp_path / "none.pt"), *common], capsys)
    assert code == 2 and "--checkpoint" in err and "not found" in err

    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a checkpoint" * 10)
    code, err = _fails(["benchmark", "--checkpoint", str(corrupt), *common], capsys)
    assert code == 1 and str(corrupt) in err

    missing = write_params(tmp_path / "missing.yaml", bench_data, procedural_model_files, synth=str(tmp_path / "gone"))
    code, err = _fails(["benchmark", "--mean-hand", "--out", str(out), "--params", str(missing)], capsys)
    assert code == 2 and "benchmark.synth.root" in err and "null" in err

    empty = tmp_path / "empty"
    empty.mkdir()
    broken = write_params(tmp_path / "broken.yaml", bench_data, procedural_model_files, synth=str(empty))
    code, err = _fails(["benchmark", "--checkpoint", str(tiny_checkpoint), "--out", str(out), "--params", str(broken),
                        "--benchmarks", "synth", "--no-progress"], capsys)
    assert code == 1 and str(empty) in err

    a_file = tmp_path / "file"
    a_file.write_text("x")
    code, err = _fails(["benchmark", "--mean-hand", "--out", str(a_file), "--params", str(params)], capsys)
    assert code == 2 and "--out" in err
    assert not out.exists() or not any(out.iterdir())  # nothing half-written

    assert cli_main(["benchmark", "--out", str(out)]) == 2  # neither --checkpoint nor --mean-hand
    assert cli_main(["benchmark", "--mean-hand", "--out", str(out), "--benchmarks", "nope"]) == 2
