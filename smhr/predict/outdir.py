"""The ``--out`` folder: checked before any work, written whole or not at all.

A run writes into a staging folder beside ``--out`` (``.<name>.predict-XXXX``) and only at the end
swaps it in, so a run that fails part-way (a truncated video, Ctrl-C) leaves ``--out`` as it was.
Each file inside is itself written atomically. A previous ``smhr predict`` output is recognised
by its :data:`MARKER` file and replaced only with ``overwrite``; any other non-empty folder, a
file, or a place the user cannot write is refused with one clear error before anything runs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from smhr.errors import SmhrError
from smhr.viz.files import current_umask

MARKER = "run.json"
"""Run-level file every ``smhr predict`` output folder holds (its manifest)."""


class OutputError(SmhrError, ValueError):
    """``--out`` is a file, not writable, or a non-empty folder that ``predict`` did not write."""


def _nearest_existing(path: Path) -> Path:
    p = path.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def check_out_dir(out: str | Path, overwrite: bool) -> Path:
    """Refuses an unusable ``--out`` before any work.

    Args:
        out: the output folder (created if missing).
        overwrite: allow replacing a previous ``smhr predict`` output.

    Returns:
        ``out`` as a Path.

    Raises:
        OutputError: ``out`` is a file; a non-empty folder without :data:`MARKER`; a previous
            output without ``overwrite``; or its nearest existing parent is not writable.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out}: is a file; give a folder path")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise OutputError(f"--out {out}: folder is not empty and is not a previous smhr predict output; "
                              f"choose a new or empty folder")
        if not overwrite:
            raise OutputError(f"--out {out}: holds a previous smhr predict output; pass --overwrite to replace it "
                              f"or choose another folder")
    parent = _nearest_existing(out.parent)
    if not os.access(parent, os.W_OK | os.X_OK) or (out.is_dir() and not os.access(out, os.W_OK | os.X_OK)):
        raise OutputError(f"--out {out}: {parent if not out.is_dir() else out} is not writable; "
                          f"choose a folder you can write to")
    return out


class StagedOutput:
    """A staging folder for one run, swapped into ``out`` by :meth:`commit`, removed by :meth:`discard`.

    Use as a context manager: the staging folder is discarded unless :meth:`commit` ran.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        out.absolute().parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f".{out.name}.predict-", dir=out.absolute().parent))
        os.chmod(self.path, 0o777 & ~current_umask())
        self.committed = False

    def commit(self) -> Path:
        """Replaces ``out`` (a previous output or an empty folder) by the staged files. Returns ``out``."""
        old = None
        if self.out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.old-", dir=self.out.absolute().parent))
            os.replace(self.out, old / "out")
        try:
            os.replace(self.path, self.out)
        except BaseException:
            if old is not None:
                os.replace(old / "out", self.out)
                shutil.rmtree(old, ignore_errors=True)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        self.committed = True
        return self.out

    def discard(self) -> None:
        """Removes the staging folder."""
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> StagedOutput:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.committed:
            self.discard()
