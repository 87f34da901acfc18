"""smhr.outputs: output-path checks, staged files, folder swaps, SIGTERM as an exception, umask modes."""

from __future__ import annotations

import os
import signal
import stat
import time
from pathlib import Path

import numpy as np
import pytest

from smhr.data.datasets.imageio import write_json, write_png
from smhr.errors import UsageError
from smhr.outputs import (
    Terminated,
    check_output_dir,
    check_output_file,
    file_mode,
    replace_dir,
    signals_raise,
    staged_files,
)


@pytest.fixture
def umask():
    """Sets the process umask for one test, restoring it afterwards."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_writers_respect_the_umask(tmp_path, umask, mask, mode):
    umask(mask)
    assert file_mode() == mode
    write_json(tmp_path / "a.json", {"b": 1})
    write_png(tmp_path / "a.png", np.zeros((2, 2), np.uint8))
    with staged_files() as staged:
        staged.path(tmp_path / "c.txt").write_text("c")
    assert {stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()} == {mode}


def test_output_path_checks(tmp_path):
    (tmp_path / "file").write_text("x")
    assert check_output_file(tmp_path / "new" / "deeper" / "m.json", "--out") == tmp_path / "new" / "deeper" / "m.json"
    assert check_output_file(tmp_path / "file", "--out") == tmp_path / "file"  # an existing file is replaced
    assert check_output_dir(tmp_path / "new", "--out-dir") == tmp_path / "new"
    with pytest.raises(UsageError, match=r"--out .*: is a folder, expected a file path"):
        check_output_file(tmp_path, "--out")
    with pytest.raises(UsageError, match=r"--out .*file/m.json: .*file is a file, not a folder"):
        check_output_file(tmp_path / "file" / "m.json", "--out")
    with pytest.raises(UsageError, match=r"--out-dir .*file: is a file, expected a folder"):
        check_output_dir(tmp_path / "file", "--out-dir")
    with pytest.raises(UsageError, match="is a file, not a folder"):
        check_output_dir(tmp_path / "file" / "a" / "b", "--out-dir")
    assert not (tmp_path / "new").exists()  # checks create nothing


def test_staged_files_appear_together_or_not_at_all(tmp_path):
    (tmp_path / "b.txt").write_text("old b")
    with pytest.raises(KeyboardInterrupt):
        with staged_files() as staged:
            staged.path(tmp_path / "a.txt").write_text("new a")
            staged.path(tmp_path / "b.txt").write_text("new b")
            raise KeyboardInterrupt
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.txt"] and (tmp_path / "b.txt").read_text() == "old b"
    with staged_files() as staged:
        scratch = staged.scratch_dir(tmp_path)
        (scratch / "x.png").write_text("x")
        staged.adopt(scratch / "x.png", tmp_path / "x.png")
        staged.path(tmp_path / "b.txt").write_text("new b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.txt", "x.png"]
    assert (tmp_path / "b.txt").read_text() == "new b"


def test_staged_write_error_names_the_final_file(tmp_path):
    with pytest.raises(OSError) as info:
        with staged_files() as staged:
            tmp = staged.path(tmp_path / "m.json")
            raise OSError(28, "No space left on device", str(tmp))
    assert info.value.filename == str(tmp_path / "m.json") and info.value.errno == 28
    assert list(tmp_path.iterdir()) == []


def test_replace_dir_swaps_and_keeps_the_old_folder_on_failure(tmp_path, monkeypatch):
    out, new = tmp_path / "out", tmp_path / ".out.tmp"
    out.mkdir()
    (out / "old.txt").write_text("old")
    new.mkdir()
    (new / "new.txt").write_text("new")
    rename = Path.rename

    def failing(self, target):
        if self == new:
            raise OSError(18, "Invalid cross-device link", str(self))
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", failing)
    with pytest.raises(OSError):
        replace_dir(new, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.tmp", "out"] and (out / "old.txt").is_file()
    monkeypatch.setattr(Path, "rename", rename)
    replace_dir(new, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"] and sorted(os.listdir(out)) == ["new.txt"]
    (tmp_path / "file").write_text("x")
    new.mkdir()
    with pytest.raises(UsageError, match="is a file, expected a folder"):
        replace_dir(new, tmp_path / "file")
    assert (tmp_path / "file").read_text() == "x"


def test_sigterm_raises_inside_the_block_and_the_handler_is_restored():
    before = signal.getsignal(signal.SIGTERM)
    cleaned = []
    with pytest.raises(Terminated):
        with signals_raise():
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(1)  # the handler raises here at the latest
            finally:
                cleaned.append(True)
    assert cleaned == [True]
    assert signal.getsignal(signal.SIGTERM) == before


def test_atomic_write_takes_bytes_text_or_a_writer_and_respects_the_umask(tmp_path):
    from smhr.outputs import atomic_write

    old = os.umask(0o027)
    try:
        atomic_write(tmp_path / "a" / "b.bin", b"\x00\x01")
        atomic_write(tmp_path / "t.csv", "x,y\r\n1,2\n")
        atomic_write(tmp_path / "w.bin", lambda fh: fh.write(b"from a writer"))
    finally:
        os.umask(old)
    assert (tmp_path / "a" / "b.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "t.csv").read_bytes() == b"x,y\r\n1,2\n"  # newlines untranslated
    assert (tmp_path / "w.bin").read_bytes() == b"from a writer"
    assert stat.S_IMODE((tmp_path / "t.csv").stat().st_mode) == 0o640


def test_atomic_write_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    from smhr.outputs import atomic_write

    target = tmp_path / "m.json"
    target.write_text("old")

    def broken(fh):
        fh.write(b"half")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        atomic_write(target, broken)
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]
