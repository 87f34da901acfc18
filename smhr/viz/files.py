"""Atomic file writes with the permissions a plain ``open(path, "w")`` would give.

A temporary file is written beside the target and renamed over it, so a crash or an error never
leaves half a file under the final name. ``tempfile.mkstemp`` creates files readable by the
owner only; the mode is set to ``0o666 & ~umask`` before the rename, like an ordinary new file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def current_umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Writes ``data`` to ``path`` atomically (parent folders created). Returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(path: str | Path, data: Any, indent: int | None = None) -> Path:
    """Writes JSON (sorted keys, no NaN) atomically. Returns ``path``."""
    text = json.dumps(data, sort_keys=True, indent=indent, allow_nan=False, separators=None if indent else (",", ":"))
    return write_bytes_atomic(path, (text + "\n").encode())
