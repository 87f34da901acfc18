"""Image warping under 2D affine maps (PIL's resampler; no OpenCV here).

Convention (the one of :mod:`smhr.geometry.camera`): the centre of pixel (0, 0) is at (0.0, 0.0).
An affine map ``A`` is a (3, 3) matrix acting on homogeneous pixel coordinates of the *source*
and giving those of the *destination*: ``[u', v', 1] = A @ [u, v, 1]``. Warping samples each
destination pixel centre at ``A^-1`` of it.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from PIL import Image

Interp = Literal["bilinear", "nearest"]


def similarity_matrix(scale: float, angle: float = 0.0, tx: float = 0.0, ty: float = 0.0, flip: bool = False) -> np.ndarray:
    """``A = T(tx, ty) @ (scale * R(angle)) @ F`` with ``F = diag(-1, 1, 1)`` when ``flip``.

    Args:
        scale: isotropic scale (> 0).
        angle: counter-clockwise rotation in radians as seen on screen (y down), i.e.
            ``R = [[cos, sin], [-sin, cos]]``.
        tx: horizontal translation in pixels, applied last.
        ty: vertical translation in pixels, applied last.
        flip: mirror u -> -u first.

    Returns:
        (3, 3) float64.
    """
    c, s = np.cos(angle), np.sin(angle)
    A = np.array([[scale * c, scale * s, tx], [-scale * s, scale * c, ty], [0.0, 0.0, 1.0]])
    if flip:
        A[:, 0] = -A[:, 0]
    return A


def apply_affine(A: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Maps (N, 2) pixel points by (3, 3) affine ``A``; returns (N, 2) float64."""
    pts = np.asarray(points, dtype=np.float64)
    return pts @ A[:2, :2].T + A[:2, 2]


def warp_affine(
    image: np.ndarray,
    A: np.ndarray,
    out_hw: tuple[int, int],
    interp: Interp = "bilinear",
    window: tuple[int, int, int, int] | None = None,
    fill: int = 0,
) -> np.ndarray:
    """Warps ``image`` by ``A`` (source -> destination pixels), with PIL's C resampler.

    Args:
        image: (H, W) or (H, W, 3) uint8, or (H, W) bool (a mask).
        A: (3, 3) affine map from source to destination pixel coordinates.
        out_hw: destination ``(height, width)``.
        interp: ``"bilinear"`` for images, ``"nearest"`` for masks and label maps.
        window: optional ``(x0, y0, x1, y1)`` integer pixel range of the destination to compute
            (x1, y1 exclusive); the result then has shape ``(y1 - y0, x1 - x0, ...)``.
        fill: value of destination pixels that sample outside the source.

    Returns:
        The warped array, same dtype as ``image``.
    """
    h_out, w_out = out_hw
    x0, y0, x1, y1 = window if window is not None else (0, 0, w_out, h_out)
    # Destination pixel (x, y) of the window -> source, then to PIL's edge coordinates
    # (PIL puts pixel centres at +0.5): src_edge = M (dst_edge - 0.5) + 0.5.
    M = np.linalg.inv(np.asarray(A, dtype=np.float64)) @ np.array([[1.0, 0.0, x0], [0.0, 1.0, y0], [0.0, 0.0, 1.0]])
    lin = M[:2, :2]
    offset = M[:2, 2] - lin @ np.array([0.5, 0.5]) + 0.5
    data = (lin[0, 0], lin[0, 1], offset[0], lin[1, 0], lin[1, 1], offset[1])
    is_bool = image.dtype == bool
    pixels = image.astype(np.uint8) if is_bool else image
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] != 3):
        raise ValueError(f"warp_affine needs (H, W) or (H, W, 3) uint8 or bool, got {image.shape} {image.dtype}")
    resample = Image.Resampling.BILINEAR if interp == "bilinear" else Image.Resampling.NEAREST
    fill_value = fill if pixels.ndim == 2 else (fill,) * 3
    out = Image.fromarray(np.ascontiguousarray(pixels)).transform(
        (x1 - x0, y1 - y0), Image.Transform.AFFINE, data, resample=resample, fillcolor=fill_value
    )
    result = np.asarray(out)
    return result.astype(bool) if is_bool else result
