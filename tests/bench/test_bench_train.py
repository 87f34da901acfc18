"""``smhr bench train``: a tiny real run writes a sorted report whose ratio is that of its own step times."""

from __future__ import annotations

import json

import pytest

from smhr.cli import main

PARTS = {"data", "backbone", "hand_model", "renderer", "losses", "optimiser", "backbone_only_step", "render_step"}


@pytest.mark.slow
def test_tiny_run_through_the_cli(tmp_path):
    args = ["bench", "train", "--params", str(tmp_path / "none.yaml"), "--batch-size", "2", "--input-size", "64",
            "--repeats", "1", "--threads", "1", "--out", str(tmp_path)]
    assert main(args) == 0
    text = (tmp_path / "train.json").read_text()
    report = json.loads(text)
    assert text == json.dumps(report, indent=2, sort_keys=True) + "\n"
    assert set(report["ms"]) == PARTS
    for part, times in report["ms"].items():
        assert times["cpu_ms"] > 0 and times["wall_ms"] > 0, part
    ms = report["ms"]
    assert report["ratio"] == pytest.approx(ms["render_step"]["cpu_ms"] / ms["backbone_only_step"]["cpu_ms"], abs=1e-3)
    assert report["goal_met"] == (report["ratio"] <= 1.5)
    assert report["batch_size"] == 2 and report["input_size"] == 64 and report["torch_threads"] == 1
    assert report["max_hands"] == 4  # the trainer's default train.data.max_hands (no params file here)
    assert {"silhouette", "photometric", "reprojection"} <= set(report["weights"])
    assert "render-stage step" in (tmp_path / "train.md").read_text()
