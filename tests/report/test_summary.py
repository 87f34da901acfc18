"""``smhr report summary``: the study's one metrics file, computed from the tree, nothing typed in."""

from __future__ import annotations

import json
import statistics

from smhr.cli import main
from tests.report.conftest import SEEDS, metric_value


def test_summary_means_stds_and_seed_counts(study):
    out = study / "reports" / "metrics.json"
    assert main(["report", "summary", "--metrics-root", str(study / "metrics"), "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert sorted(data) == sorted(SEEDS)
    values = [metric_value("main", s, "synth", "pa_mpjpe_mm") for s in SEEDS["main"]]
    cell = data["main"]["synth"]
    assert abs(cell["pa_mpjpe_mm"] - statistics.mean(values)) < 1e-6
    assert abs(cell["pa_mpjpe_mm_std"] - statistics.stdev(values)) < 1e-6
    assert cell["seeds"] == 3 and data["no_silhouette"]["composed"]["seeds"] == 2
    assert data["mean_hand"]["synth"]["pa_mpjpe_mm_std"] is None  # one seed: no spread
    assert data["mean_hand"]["composed"]["pa_mpvpe_mm"] is None  # null in every seed's file
    assert "composed" not in data["two_stage"]
    assert list(data) == sorted(data) and out.read_text().endswith("}\n")
    first = out.read_bytes()
    assert main(["report", "summary", "--metrics-root", str(study / "metrics"), "--out", str(out)]) == 0
    assert out.read_bytes() == first


def test_summary_without_metrics_is_one_usage_error(tmp_path, capsys):
    code = main(["report", "summary", "--metrics-root", str(tmp_path / "none"), "--out", str(tmp_path / "m.json")])
    err = capsys.readouterr().err
    assert code == 2 and "--metrics-root" in err and "smhr benchmark" in err and "Traceback" not in err
    assert not (tmp_path / "m.json").exists()


def test_summary_out_that_is_a_folder_is_one_usage_error(study, capsys):
    (study / "taken").mkdir()
    code = main(["report", "summary", "--metrics-root", str(study / "metrics"), "--out", str(study / "taken")])
    err = capsys.readouterr().err
    assert code == 2 and "--out" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not any((study / "taken").iterdir())
