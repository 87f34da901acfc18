"""``smhr fingerprint``: one file per command listing the source files it runs, for DVC's stages.

Example::

    smhr fingerprint --out data/code

writes ``data/code/train.txt``, ``data/code/bench-model.txt``, ... (``<sha256>  <path>`` lines;
:mod:`smhr.code_deps`). The study's first stage runs it; every other stage depends on the file of
its command, so it re-runs exactly when a file its command imports changes.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
from pathlib import Path

from smhr.errors import UsageError
from smhr.outputs import atomic_write, check_output_dir, replace_dir
from smhr.viz.files import current_umask

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    """Adds the options of ``smhr fingerprint``."""
    parser.add_argument("--root", type=Path, default=Path("."),
                        help="the project root: the folder holding the smhr package source and notebooks/ "
                        "(default: the current folder)")
    parser.add_argument("--out", type=Path, default=Path("data/code"),
                        help="folder of the fingerprint files, replaced as a whole (default: data/code)")


def run(args: argparse.Namespace) -> int:
    """Writes every command's fingerprint into a new folder, then swaps it in. Returns 0."""
    from smhr.code_deps import PACKAGE, fingerprint_names, fingerprint_text

    root = args.root
    if not (root / PACKAGE / "__init__.py").is_file():
        raise UsageError(f"--root {root}: no {PACKAGE}/__init__.py there; run from the project root or pass --root")
    out = check_output_dir(args.out, "--out")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp makes 0700
        names = fingerprint_names(root)
        for name in names:
            atomic_write(tmp / f"{name}.txt", fingerprint_text(root, name))
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("wrote %d fingerprints to %s", len(names), out)
    return 0
