"""What ``smhr predict`` reads: image files, folders of images (recursive) and videos, by content.

:func:`discover` turns the command line's INPUT paths into a list of sources, each with a unique,
stable output name, before any work: a missing path, an empty folder, or a named file that is
neither an image nor a video is a :class:`~smhr.errors.SmhrError`. Types are decided by content,
never by extension: PIL identifies images from their header, PyAV opens videos. Inside folders,
files that are not images are listed as skipped (with the reason) and the rest processed.
:func:`iter_frames` then decodes sources one image at a time; an image that fails to decode
(truncated, corrupt) comes back as a :class:`Frame` with an ``error`` instead of pixels.

Names: a file's name is its stem; inside a folder, its path relative to the folder without the
extension (``sub/img``); a video's frames are ``<stem>_000123`` (decoded-frame index). With several
INPUTs, each input's names are prefixed by its own folder or file stem. Any remaining clash gets
``__2``, ``__3``... in discovery order (inputs in command-line order, folders sorted), so the same
inputs give the same names.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from smhr.errors import SmhrError

log = logging.getLogger(__name__)


class InputError(SmhrError, ValueError):
    """An INPUT of ``smhr predict`` is missing, empty, or neither an image nor a video."""


@dataclass(frozen=True)
class Source:
    """One image file or one video to predict on.

    Attributes:
        path: the file.
        name: output name (frames of a video append ``_<index>``).
        kind: ``"image"`` or ``"video"``.
    """

    path: Path
    name: str
    kind: Literal["image", "video"]


@dataclass(frozen=True)
class Skipped:
    """A file inside a folder input that is not processed, and why."""

    path: Path
    reason: str


@dataclass
class Frame:
    """One decoded image (or the failure to decode it).

    Attributes:
        name: unique output name.
        path: the file it comes from.
        frame: the frame's index in its video, or None for an image file.
        image: (H, W, 3) uint8 RGB, or None when decoding failed.
        error: why decoding failed, or None.
    """

    name: str
    path: Path
    frame: int | None
    image: np.ndarray | None
    error: str | None = None


def is_image(path: Path) -> bool:
    """True when PIL identifies the file's header as an image format (no full decode)."""
    try:
        with Image.open(path) as image:
            return image.format is not None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return False


def _av():
    try:
        import av
    except ImportError as err:
        raise InputError("reading videos needs PyAV: pip install 'smhr[demo]' (or pip install av)") from err
    return av


def is_video(path: Path) -> bool:
    """True when PyAV opens the file as a container whose first video frame decodes."""
    av = _av()
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return False
            for _ in container.decode(video=0):
                return True
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError):
        return False
    return False


def decode_image(path: Path) -> np.ndarray:
    """Decodes an image file fully, EXIF orientation applied, as RGB.

    Returns:
        (H, W, 3) uint8.

    Raises:
        InputError: truncated, corrupt or undecodable file.
    """
    try:
        with Image.open(path) as image:
            image.load()
            rgb = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise InputError(f"{path}: unreadable or truncated image ({err}); re-export or re-copy the file, "
                         f"or remove it from the input") from err
    return np.asarray(rgb, dtype=np.uint8)


def _folder_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def discover(inputs: Sequence[str | Path]) -> tuple[list[Source], list[Skipped]]:
    """Lists what to predict on, with unique output names, before any work.

    Args:
        inputs: image files, folders (searched recursively for images) and video files.

    Returns:
        (sources in processing order, files inside folders that are skipped).

    Raises:
        InputError: a path does not exist, a named file is neither an image nor a video, a
            folder holds no image, or nothing at all is left to process.
    """
    paths = [Path(p) for p in inputs]
    if not paths:
        raise InputError("no INPUT given; pass image files, folders or a video")
    prefix = len(paths) > 1
    found: list[tuple[Path, str, str]] = []
    skipped: list[Skipped] = []
    for path in paths:
        if path.is_dir():
            count = 0
            for file in _folder_files(path):
                if not is_image(file):
                    skipped.append(Skipped(file, "not an image (PIL does not recognise its content)"))
                    # loud only when the name promises an image; sidecar files (JSON, text) are expected
                    level = logging.WARNING if file.suffix.lower() in Image.registered_extensions() else logging.DEBUG
                    log.log(level, "%s: not an image, skipped", file)
                    continue
                rel = file.relative_to(path).with_suffix("").as_posix()
                found.append((file, f"{path.resolve().name}/{rel}" if prefix else rel, "image"))
                count += 1
            if count == 0:
                raise InputError(f"{path}: folder holds no image (searched recursively, by content); "
                                 f"point INPUT at a folder of images")
        elif path.is_file():
            if is_image(path):
                found.append((path, path.stem, "image"))
            elif is_video(path):
                found.append((path, path.stem, "video"))
            else:
                raise InputError(f"{path}: neither an image PIL reads nor a video PyAV decodes; "
                                 f"convert it to PNG/JPEG or MP4, or check that it is complete")
        else:
            raise InputError(f"{path}: no such file or folder; check the INPUT path")
    return _unique(found), skipped


def _unique(found: list[tuple[Path, str, str]]) -> list[Source]:
    seen: dict[str, int] = {}
    out = []
    for path, name, kind in found:
        n = seen.get(name, 0) + 1
        seen[name] = n
        out.append(Source(path, name if n == 1 else f"{name}__{n}", kind))  # type: ignore[arg-type]
    return out


def iter_frames(sources: Sequence[Source], every: int = 1, max_frames: int | None = None) -> Iterator[Frame]:
    """Decodes the sources in order, one image at a time.

    Args:
        sources: from :func:`discover`.
        every: keep every ``every``-th frame of each video (frame indices 0, every, 2 every, ...).
        max_frames: at most this many frames per video (None: all).

    Yields:
        :class:`Frame` per image file and per kept video frame; images that fail to decode carry
        ``error`` instead of pixels.

    Raises:
        InputError: a video cannot be opened, stops decoding part-way, or decodes fewer frames
            than its container declares (truncated MP4/MOV; containers without a frame count,
            such as MKV or MPEG-TS, cut mid-stream are read up to the cut).
    """
    if every < 1:
        raise InputError(f"--every {every}: must be >= 1")
    for source in sources:
        if source.kind == "image":
            try:
                yield Frame(source.name, source.path, None, decode_image(source.path))
            except InputError as err:
                yield Frame(source.name, source.path, None, None, str(err))
        else:
            yield from _video_frames(source, every, max_frames)


def _video_frames(source: Source, every: int, max_frames: int | None) -> Iterator[Frame]:
    av = _av()
    kept = decoded = declared = 0
    fix = "the file is truncated or corrupt: re-encode or re-copy it"
    try:
        with av.open(str(source.path)) as container:
            declared = int(container.streams.video[0].frames or 0)
            for index, frame in enumerate(container.decode(video=0)):
                decoded = index + 1
                if max_frames is not None and kept >= max_frames:
                    return
                if index % every:
                    continue
                kept += 1
                yield Frame(f"{source.name}_{index:06d}", source.path, index, frame.to_ndarray(format="rgb24"))
    except (av.FFmpegError, OSError, ValueError, IndexError) as err:
        raise InputError(f"{source.path}: video stops decoding after {decoded} frames ({err}); {fix}") from err
    if decoded == 0:
        raise InputError(f"{source.path}: video has no decodable frame; {fix}")
    if declared and decoded < declared:
        # FFmpeg ends silently at a cut; containers with a frame count (MP4/MOV) reveal it
        raise InputError(f"{source.path}: video declares {declared} frames but only {decoded} decode; {fix}")
