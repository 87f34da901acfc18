"""A command that fails half-way leaves no output looking valid, and keeps the earlier outputs intact."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest

import smhr.commands.evaluate as evaluate_command
import smhr.hand.model_file as model_file
import smhr.hand.preview as preview
from smhr.cli import main
from tests.commands.conftest import snapshot
from tests.eval.conftest import hand_like, write_json

pytestmark = pytest.mark.pipeline


def _disk_full(path: str | Path) -> OSError:
    return OSError(28, "No space left on device", str(path))


@pytest.fixture
def freihand_eval(arena: Path) -> list[str]:
    """``evaluate`` arguments (without --out) for a tiny FreiHAND-format prediction and ground truth."""
    rng = np.random.default_rng(0)
    gj, pj = hand_like(rng, 4, 21)
    gv, pv = hand_like(rng, 4, 778)
    write_json(arena / "gt" / "evaluation_xyz.json", gj.tolist())
    write_json(arena / "gt" / "evaluation_verts.json", gv.tolist())
    write_json(arena / "pred.json", [pj.tolist(), pv.tolist()])
    return ["evaluate", "--protocol", "freihand", "--pred", str(arena / "pred.json"), "--gt", str(arena / "gt")]


def test_evaluate_writes_both_files_with_the_umask(arena, freihand_eval):
    out, csv_path = arena / "res" / "m.json", arena / "res" / "rows.csv"
    old = os.umask(0o027)
    try:
        assert main([*freihand_eval, "--out", str(out), "--per-sample-csv", str(csv_path)]) == 0
    finally:
        os.umask(old)
    assert "pa_mpjpe_mm" in json.loads(out.read_text()) and len(csv_path.read_text().splitlines()) == 5
    assert {stat.S_IMODE(p.stat().st_mode) for p in (out, csv_path)} == {0o640}
    assert sorted(p.name for p in out.parent.iterdir()) == ["m.json", "rows.csv"]


def test_evaluate_keeps_no_metrics_when_the_csv_write_fails(arena, freihand_eval, monkeypatch, capsys):
    out, csv_path = arena / "m.json", arena / "rows.csv"

    def failing_csv(result, path):
        Path(path).write_text("sample_id,half a row")
        raise _disk_full(path)

    monkeypatch.setattr(evaluate_command, "write_per_sample_csv", failing_csv)
    before = snapshot(arena)
    assert main([*freihand_eval, "--out", str(out), "--per-sample-csv", str(csv_path)]) == 1
    err = capsys.readouterr().err
    assert f"error: {csv_path}: No space left on device; check the path" in err and "Traceback" not in err
    assert snapshot(arena) == before  # neither file, and no temporary file


def test_evaluate_failure_keeps_the_previous_metrics(arena, freihand_eval, monkeypatch):
    out = arena / "m.json"
    out.write_text('{"previous": 1}\n')
    monkeypatch.setattr(evaluate_command, "write_metrics", lambda *a, **k: (_ for _ in ()).throw(_disk_full(out)))
    before = snapshot(arena)
    assert main([*freihand_eval, "--out", str(out)]) == 1
    assert snapshot(arena) == before


@pytest.mark.parametrize("where", ["previews", "left model"])
def test_hand_model_failure_leaves_neither_models_nor_previews(arena, monkeypatch, capsys, where):
    out_dir, preview_dir = arena / "models", arena / "previews"
    if where == "previews":
        write_previews = preview.write_previews

        def failing(data, out, cases=None):
            if data.side == "left":
                raise _disk_full(Path(out) / "left_open.png")
            return write_previews(data, out, cases=("open",))

        monkeypatch.setattr(preview, "write_previews", failing)
    else:
        save = model_file.save_model_data

        def failing(data, path):
            if data.side == "left":
                Path(path).write_bytes(b"half a pickle")
                raise _disk_full(path)
            return save(data, path)

        monkeypatch.setattr(model_file, "save_model_data", failing)
    before = snapshot(arena)
    args = ["hand-model", "--params", str(arena / "params.yaml"), "--out-dir", str(out_dir), "--preview-dir", str(preview_dir)]
    assert main(args) == 1
    assert "No space left on device" in capsys.readouterr().err
    after = snapshot(arena)
    # at most empty folders were created: no model, preview, summary or temporary file
    assert {k: v for k, v in after.items() if k not in before} in ({}, {"previews": None}, {"previews": None, "models": None})


def test_hand_model_writes_everything_with_the_umask(arena):
    out_dir, preview_dir = arena / "models", arena / "previews"
    args = ["hand-model", "--params", str(arena / "params.yaml"), "--out-dir", str(out_dir), "--preview-dir", str(preview_dir)]
    old = os.umask(0o022)
    try:
        assert main(args) == 0
    finally:
        os.umask(old)
    names = sorted(p.name for p in preview_dir.iterdir())
    assert "summary.json" in names and "left_open.png" in names and not [n for n in names if n.startswith(".")]
    assert sorted(p.name for p in out_dir.iterdir()) == ["procedural_left.pkl", "procedural_right.pkl"]
    files = [*out_dir.iterdir(), *preview_dir.iterdir()]
    assert {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o644}


def test_compose_refuses_a_file_as_output_and_leaves_it(arena, capsys):
    before = snapshot(arena)
    assert main(["compose", "--params", str(arena / "params.yaml"), "--output", str(arena / "file.txt")]) == 2
    assert "--output" in capsys.readouterr().err
    assert snapshot(arena) == before
