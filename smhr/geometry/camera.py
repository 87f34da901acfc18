"""Cameras: perspective and weak-perspective projection, and intrinsics under image transforms.

Conventions (written once):

* Camera frame: OpenCV axes, x right, y down, z forward (points in front have z > 0).
* Pixel coordinates: (u, v) = (column, row), the *centre* of pixel (0, 0) is at (0.0, 0.0)
  (OpenCV's convention). An image of width W spans u in [-0.5, W - 0.5].
* Intrinsics ``K = [[fx, s, cx], [0, fy, cy], [0, 0, 1]]`` map camera points to pixels.

Every function here works on NumPy arrays and on torch tensors alike (only broadcasting,
indexing and arithmetic are used), batched over leading dimensions.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

Array = TypeVar("Array")  # np.ndarray or torch.Tensor

def _matvec(M, x):
    """``M @ x`` for (..., 3, 3) M and (..., N, 3) x, broadcasting, NumPy or torch."""
    return (M[..., None, :, :] * x[..., :, None, :]).sum(-1)


def project(points: Array, K: Array, eps: float = 1e-9) -> Array:
    """Perspective projection with intrinsics.

    Args:
        points: (..., N, 3) camera-frame points (z > 0 in front of the camera).
        K: (..., 3, 3) intrinsics, broadcast against ``points``' leading dimensions.
        eps: guards the division for points at z = 0 (sign kept).

    Returns:
        (..., N, 2) pixel coordinates.
    """
    uvw = _matvec(K, points)
    z = uvw[..., 2:3]
    if isinstance(z, np.ndarray):
        z = np.where(np.abs(z) < eps, np.where(z < 0, -eps, eps), z)
    else:
        z = z.where(z.abs() >= eps, (z.sign() + (z == 0)) * eps)
    return uvw[..., :2] / z


def unproject(uv: Array, depth: Array, K: Array) -> Array:
    """Inverse of :func:`project` for a given depth (z).

    Args:
        uv: (..., N, 2) pixels.
        depth: (..., N) z values in the camera frame.
        K: (..., 3, 3) intrinsics (zero skew).

    Returns:
        (..., N, 3) camera-frame points.
    """
    fx, fy = K[..., 0, 0][..., None], K[..., 1, 1][..., None]
    cx, cy = K[..., 0, 2][..., None], K[..., 1, 2][..., None]
    x = (uv[..., 0] - cx) / fx * depth
    y = (uv[..., 1] - cy) / fy * depth
    stack = np.stack if isinstance(uv, np.ndarray) else __import__("torch").stack
    return stack([x, y, depth], -1)


def weak_perspective_project(points: Array, scale: Array, trans: Array) -> Array:
    """Weak-perspective (scaled orthographic) projection: ``uv = scale * xy + trans``.

    Args:
        points: (..., N, 3) points; z is ignored.
        scale: (...,) scale in pixels per metre.
        trans: (..., 2) offset in pixels.

    Returns:
        (..., N, 2) pixels.
    """
    return scale[..., None, None] * points[..., :2] + trans[..., None, :]


def weak_perspective_to_translation(scale: Array, trans: Array, focal: float, principal: Array) -> Array:
    """Camera translation that makes a perspective camera agree with a weak-perspective one at the root.

    With a perspective camera of focal length ``focal`` (pixels) and principal point
    ``principal``, a point at the origin translated by ``t = (tx, ty, tz)`` projects to
    ``principal + focal * (tx, ty) / tz``, and a small offset there scales by ``focal / tz``.
    Matching ``scale`` and ``trans`` gives ``tz = focal / scale`` and
    ``(tx, ty) = (trans - principal) / scale``.

    Args:
        scale: (...,) pixels per metre.
        trans: (..., 2) pixels.
        focal: focal length in pixels.
        principal: (..., 2) principal point in pixels.

    Returns:
        (..., 3) translation in metres.
    """
    tz = focal / scale
    txy = (trans - principal) / scale[..., None]
    cat = np.concatenate if isinstance(scale, np.ndarray) else __import__("torch").cat
    return cat([txy, tz[..., None]], -1)


def scale_intrinsics(K: Array, sx: float | Array, sy: float | Array | None = None) -> Array:
    """Intrinsics after resizing the image by ``(sx, sy)``, pixel-centre convention.

    A pixel centre u maps to ``(u + 0.5) * sx - 0.5``.

    Args:
        K: (..., 3, 3).
        sx: horizontal scale factor (new width / old width).
        sy: vertical scale factor; ``sx`` if None.

    Returns:
        (..., 3, 3) new intrinsics.
    """
    sy = sx if sy is None else sy
    out = K * 1.0  # copy that keeps the array type
    out[..., 0, :] = K[..., 0, :] * sx
    out[..., 1, :] = K[..., 1, :] * sy
    out[..., 0, 2] = out[..., 0, 2] + 0.5 * sx - 0.5
    out[..., 1, 2] = out[..., 1, 2] + 0.5 * sy - 0.5
    return out


def crop_intrinsics(K: Array, x0: float | Array, y0: float | Array) -> Array:
    """Intrinsics after cropping the image at top-left pixel offset ``(x0, y0)``.

    Args:
        K: (..., 3, 3).
        x0: column offset of the crop's origin in the old image (pixels).
        y0: row offset.

    Returns:
        (..., 3, 3) intrinsics of the crop: ``u_new = u_old - x0``.
    """
    out = K * 1.0
    out[..., 0, 2] = K[..., 0, 2] - x0
    out[..., 1, 2] = K[..., 1, 2] - y0
    return out


def crop_resize_intrinsics(K: Array, box: tuple[float, float, float, float], out_size: tuple[int, int]) -> Array:
    """Intrinsics after cropping ``box = (x0, y0, x1, y1)`` (pixel edges) and resizing to ``out_size = (h, w)``.

    ``box`` is in edge coordinates: the crop spans u in [x0, x1), so a box of the whole W-wide
    image is ``(-0.5, -0.5, W - 0.5, H - 0.5)``.
    """
    x0, y0, x1, y1 = box
    h, w = out_size
    sx, sy = w / (x1 - x0), h / (y1 - y0)
    # u_new + 0.5 = (u_old - x0) * sx  =>  u_new = sx * u_old - sx * x0 - 0.5
    out = K * 1.0
    out[..., 0, :] = K[..., 0, :] * sx
    out[..., 1, :] = K[..., 1, :] * sy
    out[..., 0, 2] = out[..., 0, 2] - sx * x0 - 0.5
    out[..., 1, 2] = out[..., 1, 2] - sy * y0 - 0.5
    return out


def flip_intrinsics_x(K: Array, width: int) -> Array:
    """Intrinsics for a horizontally flipped image *and* x-mirrored 3D (``smhr.hand.conventions.MIRROR_POINTS``).

    Flipping an image of width W maps u -> W - 1 - u. If the 3D points are mirrored too
    (X -> -X), the flipped pixel equals the projection of the mirrored point with these
    intrinsics: ``cx' = W - 1 - cx`` (and the skew changes sign).

    Args:
        K: (..., 3, 3).
        width: image width in pixels.

    Returns:
        (..., 3, 3).
    """
    out = K * 1.0
    out[..., 0, 2] = (width - 1) - K[..., 0, 2]
    out[..., 0, 1] = -K[..., 0, 1]
    return out

