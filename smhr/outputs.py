"""Safe outputs: refuse bad output paths before any work, write files and folders atomically.

Three tools every command uses:

* :func:`check_output_file` / :func:`check_output_dir` refuse an output path that cannot be
  written (a file path that is an existing folder, a folder path that is an existing file, a
  parent that is a file, an unwritable place) with a :class:`~smhr.errors.UsageError` naming the
  option, the path and the fix, before any work starts.
* :func:`staged_files` gives temporary names beside the final files; they are renamed into place
  together only when the block finishes without error, and deleted otherwise, so a failure never
  leaves half of a command's outputs looking valid. :func:`replace_dir` swaps a finished temporary
  folder into place (an existing output is removed only after the swap).
* :func:`signals_raise` turns SIGTERM into a :class:`Terminated` exception in the main thread, so the
  cleanup code above (``finally``/``except BaseException``) also runs when a job is killed.

Files are created with the user's umask (:func:`file_mode`), like every other tool: ``mkstemp``
creates 0600 files, which are chmodded before the rename.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from smhr.errors import UsageError


class Terminated(BaseException):
    """Raised in the main thread on SIGTERM (a ``BaseException``, like ``KeyboardInterrupt``)."""


def file_mode() -> int:
    """The mode of a new regular file under the current umask (``0o666 & ~umask``)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _existing_ancestor(path: Path) -> Path:
    """The nearest ancestor of ``path`` (or ``path`` itself) that exists."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_parent(path: Path, option: str) -> None:
    """Raises UsageError unless the folders above ``path`` exist or can be created, and are writable."""
    ancestor = _existing_ancestor(path.parent)
    if not ancestor.is_dir():
        raise UsageError(f"{option} {path}: {ancestor} is a file, not a folder; choose a path inside a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: folder {ancestor} is not writable; choose a writable place")


def check_output_file(path: str | Path, option: str) -> Path:
    """Refuses an output *file* path that cannot be written.

    Args:
        path: the file to write later (it may exist; it is replaced).
        option: the option or config key that gave it, for the message (e.g. ``"--out"``).

    Returns:
        ``path`` as a Path.

    Raises:
        UsageError: ``path`` is an existing folder, a folder above it is a file, or the nearest
            existing folder above it is not writable.
    """
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{option} {path}: is a folder, expected a file path; give the path of a file, e.g. {path}/<name>")
    _check_parent(path, option)
    return path


def check_output_dir(path: str | Path, option: str) -> Path:
    """Refuses an output *folder* path that cannot be written.

    Args:
        path: the folder to write later (it may exist).
        option: the option or config key that gave it, for the message.

    Returns:
        ``path`` as a Path.

    Raises:
        UsageError: ``path`` is an existing file (or another non-folder), a folder above it is a
            file, or it (or its nearest existing ancestor) is not writable.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path}: is a file, expected a folder; remove the file or choose another folder")
    if path.is_dir() and not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: folder is not writable; choose a writable place")
    _check_parent(path, option)
    return path


class StagedFiles:
    """Temporary files beside their final paths, renamed into place by :meth:`commit`."""

    def __init__(self) -> None:
        self._pairs: list[tuple[Path, Path]] = []
        self._scratch: list[Path] = []

    def path(self, final: str | Path) -> Path:
        """Reserves a hidden temporary file beside ``final`` (same suffix) and returns its path.

        The parent folder is created. Write the content to the returned path (any writer that
        replaces the file works); :meth:`commit` renames it to ``final``.
        """
        final = Path(final)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=f".tmp{final.suffix}", dir=final.parent)
        os.close(fd)
        self._pairs.append((Path(tmp), final))
        return Path(tmp)

    def adopt(self, tmp: str | Path, final: str | Path) -> None:
        """Registers an already written temporary file ``tmp`` (on ``final``'s file system) for ``final``."""
        self._pairs.append((Path(tmp), Path(final)))

    def final_of(self, tmp: object) -> Path | None:
        """The final path staged as ``tmp`` (a path or a string), or None if ``tmp`` is not staged."""
        for staged_tmp, final in self._pairs:
            if tmp is not None and str(staged_tmp) == str(tmp):
                return final
        return None

    def scratch_dir(self, near: str | Path) -> Path:
        """A hidden temporary folder inside folder ``near`` (created), removed when the block ends."""
        near = Path(near)
        near.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".staging.", suffix=".tmp", dir=near))
        self._scratch.append(scratch)
        return scratch

    def commit(self) -> None:
        """Renames every staged file to its final path, in the order they were staged."""
        mode = file_mode()
        for tmp, final in self._pairs:
            os.chmod(tmp, mode)
            os.replace(tmp, final)
        self._pairs.clear()

    def discard(self) -> None:
        """Deletes the staged files and scratch folders that remain."""
        for tmp, _ in self._pairs:
            tmp.unlink(missing_ok=True)
        self._pairs.clear()
        for scratch in self._scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        self._scratch.clear()


@contextmanager
def staged_files() -> Iterator[StagedFiles]:
    """Stages output files; they replace their final paths only if the block completes.

    Example::

        with staged_files() as staged:
            write_metrics(result, staged.path(out))
            write_csv(result, staged.path(csv_path))
        # both files are in place here; after any exception (KeyboardInterrupt and
        # Terminated included) neither is, and no temporary file remains.
    """
    staged = StagedFiles()
    try:
        yield staged
        staged.commit()
    except OSError as err:  # name the file the user asked for, not its hidden temporary name
        final = staged.final_of(err.filename)
        if final is None:
            raise
        raise OSError(err.errno, err.strerror, str(final)) from err
    finally:
        staged.discard()


def replace_dir(tmp: str | Path, out: str | Path) -> None:
    """Moves the finished folder ``tmp`` to ``out``; an existing ``out`` is removed only after the swap.

    Args:
        tmp: the complete new folder (a sibling of ``out``).
        out: the output folder; if it exists it must be a folder.

    Raises:
        UsageError: ``out`` exists and is not a folder (nothing is moved).
        OSError: a rename failed; ``out`` is then left as it was.
    """
    tmp, out = Path(tmp), Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: is a file, expected a folder; remove the file or choose another folder")
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old.{secrets.token_hex(4)}")
        out.rename(old)
    try:
        tmp.rename(out)
    except BaseException:
        if old is not None:
            old.rename(out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _raise_terminated(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not interrupt the cleanup
    raise Terminated(f"terminated by signal {signum}")


@contextmanager
def signals_raise() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` (SIGINT raises ``KeyboardInterrupt``).

    Only the main thread can install handlers; elsewhere the block runs unchanged. The previous
    handler is restored on exit.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
