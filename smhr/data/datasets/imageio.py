"""Reading and writing dataset files (images, JSON, pickles), with one clear error per bad file.

Image readers return NumPy arrays (RGB ``(H, W, 3) uint8`` or single-channel ``(H, W) uint8``) and
raise :class:`~smhr.errors.DatasetError` naming the file and the fix when it is missing or not a
decodable image. Writers are deterministic (fixed JPEG quality and chroma subsampling, no
optimisation passes, no metadata), so the same array gives the same bytes, and atomic: they
write a temporary file beside the target and rename it, so a crash never leaves half an image.
Files get the mode the user's umask allows (``0o644`` under the usual ``022``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from smhr import safe_pickle
from smhr.errors import DatasetError
from smhr.outputs import atomic_write

JPEG_QUALITY = 95
"""Quality of every JPEG smhr writes (FreiHAND-layout images and masks)."""

JPEG_SUBSAMPLING = 0
"""PIL's code for 4:4:4 chroma (no subsampling): keeps thin mask edges and coloured skeletons sharp."""

MASK_THRESHOLD = 128
"""Grey level at or above which a JPEG/PNG mask pixel counts as foreground (JPEG blurs 0/255 edges)."""


def _open(path: Path, fix: str) -> Image.Image:
    if not path.is_file():
        raise DatasetError(f"{path}: image file not found; {fix}")
    try:
        image = Image.open(path)
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise DatasetError(f"{path}: unreadable or corrupt image ({err}); re-extract or re-download this file") from err
    return image


def read_rgb(path: str | Path, fix: str = "check the dataset root and that the download is complete") -> np.ndarray:
    """Reads an image as RGB.

    Args:
        path: image file (any format PIL reads; grey and palette images are converted).
        fix: the hint appended to the "not found" message.

    Returns:
        (H, W, 3) uint8.

    Raises:
        DatasetError: the file is missing or not a decodable image.
    """
    return np.asarray(_open(Path(path), fix).convert("RGB"), dtype=np.uint8)


def read_gray(path: str | Path, fix: str = "check the dataset root and that the download is complete") -> np.ndarray:
    """Reads an image as one channel without changing its values (RGB is reduced to its first channel).

    Palette and grey images keep their stored indices (RHD's and FreiHAND's label masks rely on
    this); RGB images give their red channel (masks stored as colour JPEGs are grey anyway).

    Args:
        path: image file.
        fix: the hint appended to the "not found" message.

    Returns:
        (H, W) uint8 (16-bit PNGs are rejected: no mask here uses them).

    Raises:
        DatasetError: the file is missing, not decodable, or not 8-bit.
    """
    path = Path(path)
    image = _open(path, fix)
    if image.mode in ("L", "P"):
        return np.asarray(image, dtype=np.uint8)
    if image.mode in ("RGB", "RGBA"):
        return np.asarray(image, dtype=np.uint8)[..., 0].copy()
    if image.mode == "1":
        return np.asarray(image.convert("L"), dtype=np.uint8)
    raise DatasetError(f"{path}: image mode {image.mode!r} is not an 8-bit mask; store masks as 8-bit grey PNG or JPEG")


def read_mask(path: str | Path, fix: str = "check the dataset root and that the download is complete") -> np.ndarray:
    """Reads a binary mask (foreground = grey level >= :data:`MASK_THRESHOLD`).

    Returns:
        (H, W) bool.
    """
    return read_gray(path, fix) >= MASK_THRESHOLD


def _to_pil(array: np.ndarray, path: Path) -> Image.Image:
    array = np.asarray(array)
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    if array.dtype != np.uint8 or array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] != 3):
        raise ValueError(f"{path}: expected (H, W) or (H, W, 3) uint8 (or bool mask), got {array.shape} {array.dtype}")
    return Image.fromarray(np.ascontiguousarray(array), mode="L" if array.ndim == 2 else "RGB")


def write_jpeg(path: str | Path, array: np.ndarray, quality: int = JPEG_QUALITY) -> None:
    """Writes an RGB image or a mask as a deterministic JPEG, atomically.

    Args:
        path: target file (parent folders are created).
        array: (H, W, 3) uint8 RGB, (H, W) uint8 grey, or (H, W) bool (written as 0/255).
        quality: JPEG quality (default :data:`JPEG_QUALITY`).
    """
    path = Path(path)
    image = _to_pil(array, path)
    atomic_write(
        path, lambda f: image.save(f, format="JPEG", quality=quality, subsampling=JPEG_SUBSAMPLING, optimize=False)
    )


def write_png(path: str | Path, array: np.ndarray) -> None:
    """Writes an RGB image, a grey image or a mask as PNG (lossless, deterministic), atomically.

    Args:
        path: target file.
        array: (H, W, 3) uint8, (H, W) uint8, or (H, W) bool (written as 0/255).
    """
    path = Path(path)
    image = _to_pil(array, path)
    atomic_write(path, lambda f: image.save(f, format="PNG", optimize=False))


def write_json(path: str | Path, data: Any) -> None:
    """Writes JSON atomically with sorted keys (for dicts) and no whitespace padding."""
    path = Path(path)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    atomic_write(path, text)


def read_json(path: str | Path, fix: str = "check the dataset root and that the download is complete") -> Any:
    """Reads a JSON file.

    Raises:
        DatasetError: the file is missing or not valid JSON.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: annotation file not found; {fix}")
    try:
        with path.open("rb") as handle:
            return json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DatasetError(f"{path}: not valid JSON ({err}); re-extract or re-download this file") from err


def read_pickle(path: str | Path, fix: str = "check the dataset root and that the download is complete") -> Any:
    """Reads a data pickle written by Python 2 or 3 (bytes decoded as latin1, as the datasets need).

    Only NumPy arrays and plain Python data may appear in it (:mod:`smhr.safe_pickle`): a file that
    names any other class or function is refused before anything it names runs.

    Raises:
        DatasetError: the file is missing, not a readable pickle, or names a class that is not
            plain data.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: annotation file not found; {fix}")
    try:
        return safe_pickle.load(path.read_bytes())
    except safe_pickle.RefusedClassError as err:
        raise DatasetError(
            f"{path}: refused to load {err.qualname}: an annotation pickle may hold only NumPy arrays and plain "
            "data, so this is not the dataset's file (it may be crafted to run code); re-download it"
        ) from err
    except Exception as err:  # a corrupt pickle can raise almost any exception type
        raise DatasetError(
            f"{path}: unreadable pickle ({type(err).__name__}: {err}); re-extract or re-download it"
        ) from err


def field_array(record: Any, key: str, shape: tuple[int, ...], where: str) -> np.ndarray:
    """``record[key]`` as a finite float64 array of ``shape``.

    Args:
        record: a mapping (one annotation record).
        key: the field.
        shape: the expected shape.
        where: the file and record, for the message (e.g. ``"anno.pickle: sample 3"``).

    Raises:
        DatasetError: the record is not a mapping, or the field is missing, not numeric, of another
            shape, or not finite.
    """
    if not isinstance(record, dict):
        raise DatasetError(f"{where}: not a dict; re-download the annotations")
    try:
        value = np.asarray(record[key], np.float64)
    except KeyError:
        raise DatasetError(f"{where}: key '{key}' missing; re-download the annotations") from None
    except (TypeError, ValueError):
        raise DatasetError(f"{where}: '{key}' is not numeric; re-download the annotations") from None
    if value.shape != shape or not np.all(np.isfinite(value)):
        raise DatasetError(f"{where}: '{key}' has shape {value.shape} (expected {shape}) or non-finite values")
    return value


def read_json_records(path: str | Path, shape: tuple[int, ...], fix: str = "check the dataset root") -> np.ndarray:
    """Reads a JSON list of equally shaped records as an (N, *shape) float32 array.

    Args:
        path: the JSON file (a list with one record per sample, as FreiHAND's ``*_K.json``).
        shape: shape of one record; ``-1`` matches any size.
        fix: the hint appended to the "not found" message.

    Raises:
        DatasetError: naming the file and the first malformed record.
    """
    path = Path(path)
    data = read_json(path, fix)
    if not isinstance(data, list):
        raise DatasetError(f"{path}: expected a JSON list of records, got {type(data).__name__}; re-download this file")

    def fits(array_shape: tuple[int, ...]) -> bool:
        return len(array_shape) == len(shape) and all(e in (-1, a) for e, a in zip(shape, array_shape))

    try:
        array = np.asarray(data, dtype=np.float32)
    except (ValueError, TypeError):
        array = None
    if array is not None and array.ndim == 1 + len(shape) and fits(array.shape[1:]):
        finite = np.isfinite(array.reshape(len(array), -1)).all(axis=1)
        if not finite.all():
            bad = int(np.flatnonzero(~finite)[0])
            raise DatasetError(f"{path}: record {bad} contains NaN or inf; fix or drop that record")
        return array
    for i, record in enumerate(data):
        try:
            rec = np.asarray(record, dtype=np.float32)
        except (ValueError, TypeError):
            raise DatasetError(f"{path}: record {i} is not a numeric array; fix or drop that record") from None
        if not fits(rec.shape):
            raise DatasetError(f"{path}: record {i} has shape {rec.shape}, expected {shape}; fix or drop that record")
    raise DatasetError(f"{path}: records have inconsistent shapes, expected {shape} each")
