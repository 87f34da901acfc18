"""``--out`` checks and the all-or-nothing staging folder."""

from __future__ import annotations

import pytest

from smhr.predict import outdir
from smhr.predict.outdir import MARKER, OutputError, StagedOutput, check_out_dir


def test_unwritable_place_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(outdir.os, "access", lambda path, mode: False)  # as a non-root user sees a read-only folder
    with pytest.raises(OutputError, match="not writable"):
        check_out_dir(tmp_path / "new" / "out", overwrite=False)


def test_new_empty_and_previous_outputs(tmp_path):
    assert check_out_dir(tmp_path / "a" / "b", overwrite=False) == tmp_path / "a" / "b"
    empty = tmp_path / "empty"
    empty.mkdir()
    check_out_dir(empty, overwrite=False)
    (empty / MARKER).write_text("{}")
    with pytest.raises(OutputError, match="--overwrite"):
        check_out_dir(empty, overwrite=False)
    check_out_dir(empty, overwrite=True)
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        check_out_dir(tmp_path / "f", overwrite=True)


def test_staging_replaces_on_commit_and_leaves_out_on_failure(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(RuntimeError), StagedOutput(out) as stage:
        (stage.path / "new.txt").write_text("new")
        raise RuntimeError("failed part-way")
    assert [p.name for p in tmp_path.iterdir()] == ["out"] and [p.name for p in out.iterdir()] == ["old.txt"]
    with StagedOutput(out) as stage:
        (stage.path / "new.txt").write_text("new")
        stage.commit()
    assert [p.name for p in tmp_path.iterdir()] == ["out"] and [p.name for p in out.iterdir()] == ["new.txt"]
