"""Rotation conversions in PyTorch: axis-angle <-> matrix <-> 6D.

All functions are batched over leading dimensions and differentiable. Matrices act on column
vectors (``x' = R @ x``). The 6D representation (Zhou et al., CVPR 2019) is the first two
*columns* of the matrix, concatenated: ``r6 = [R[:, 0], R[:, 1]]``.
"""

from __future__ import annotations

import numpy as np
import torch

_EPS = 1e-8


def skew(v: torch.Tensor) -> torch.Tensor:
    """Cross-product matrices.

    Args:
        v: (..., 3) vectors.

    Returns:
        (..., 3, 3) matrices ``S`` with ``S @ x == cross(v, x)``.
    """
    x, y, z = v.unbind(-1)
    o = torch.zeros_like(x)
    return torch.stack([o, -z, y, z, o, -x, -y, x, o], dim=-1).reshape(v.shape[:-1] + (3, 3))


def axis_angle_to_matrix(aa: torch.Tensor) -> torch.Tensor:
    """Rodrigues' formula, stable at zero angle (Taylor expansion below 1e-4 rad).

    Args:
        aa: (..., 3) axis-angle vectors (axis * angle in radians).

    Returns:
        (..., 3, 3) rotation matrices.
    """
    theta2 = (aa * aa).sum(-1, keepdim=True)[..., None]  # (..., 1, 1)
    theta = torch.sqrt(theta2.clamp_min(_EPS**2))
    small = theta2 < 1e-8
    a = torch.where(small, 1.0 - theta2 / 6.0, torch.sin(theta) / theta)
    b = torch.where(small, 0.5 - theta2 / 24.0, (1.0 - torch.cos(theta)) / theta2.clamp_min(_EPS**2))
    k = skew(aa)
    eye = torch.eye(3, dtype=aa.dtype, device=aa.device).expand(k.shape)
    return eye + a * k + b * (k @ k)


def matrix_to_axis_angle(R: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`axis_angle_to_matrix`, with angles in [0, pi].

    Uses the skew part for small and moderate angles and the symmetric part near pi, where the
    skew part vanishes.

    Args:
        R: (..., 3, 3) rotation matrices.

    Returns:
        (..., 3) axis-angle vectors.
    """
    trace = R[..., 0, 0] + R[..., 1, 1] + R[..., 2, 2]
    cos = ((trace - 1.0) / 2.0).clamp(-1.0, 1.0)
    w = torch.stack([R[..., 2, 1] - R[..., 1, 2], R[..., 0, 2] - R[..., 2, 0], R[..., 1, 0] - R[..., 0, 1]], -1)
    # angle = atan2(sin, cos) with sin = |w| / 2: unlike acos(cos), its gradient stays finite at
    # and near the identity (acos' is infinite at cos = 1).
    sin = torch.sqrt((w * w).sum(-1) + _EPS**2) / 2.0
    angle = torch.atan2(sin, cos)
    small = angle < 1e-4
    factor = torch.where(small, 0.5 + angle**2 / 12.0, angle / (2.0 * sin.clamp_min(_EPS)))
    aa = w * factor[..., None]
    # Near pi the skew part vanishes; take the axis from the symmetric part instead:
    # (R + R^T) / 2 - cos * I = (1 - cos) u u^T, whose largest column is a multiple of u.
    near_pi = angle > torch.pi - 1e-3
    if bool(near_pi.any()):
        eye = torch.eye(3, dtype=R.dtype, device=R.device)
        uu = (R + R.transpose(-1, -2)) / 2.0 - cos[..., None, None] * eye
        diag = torch.diagonal(uu, dim1=-2, dim2=-1)
        idx = diag.argmax(-1)
        col = torch.gather(uu, -1, idx[..., None, None].expand(uu.shape[:-1] + (1,)))[..., 0]
        u = torch.nn.functional.normalize(col, dim=-1)
        # Orient u so that it agrees with the (small) skew part when it is non-zero.
        sign = torch.where((u * w).sum(-1, keepdim=True) < 0, -1.0, 1.0).to(R.dtype)
        aa = torch.where(near_pi[..., None], u * sign * angle[..., None], aa)
    return aa


def rot6d_to_matrix(r6: torch.Tensor) -> torch.Tensor:
    """Gram-Schmidt of the 6D representation.

    Args:
        r6: (..., 6) two 3-vectors ``[a1, a2]``.

    Returns:
        (..., 3, 3) rotation matrices whose first two columns are the orthonormalised a1, a2.
    """
    a1, a2 = r6[..., :3], r6[..., 3:]
    b1 = torch.nn.functional.normalize(a1, dim=-1)
    b2 = torch.nn.functional.normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1, dim=-1)
    b3 = torch.cross(b1, b2, dim=-1)
    return torch.stack([b1, b2, b3], dim=-1)


def matrix_to_rot6d(R: torch.Tensor) -> torch.Tensor:
    """First two columns of ``R``.

    Args:
        R: (..., 3, 3).

    Returns:
        (..., 6).
    """
    return torch.cat([R[..., :, 0], R[..., :, 1]], dim=-1)


def _skew_np(v: np.ndarray) -> np.ndarray:
    x, y, z = v[..., 0], v[..., 1], v[..., 2]
    o = np.zeros_like(x)
    return np.stack([o, -z, y, z, o, -x, -y, x, o], axis=-1).reshape(v.shape[:-1] + (3, 3))


def axis_angle_to_matrix_np(aa: np.ndarray) -> np.ndarray:
    """NumPy twin of :func:`axis_angle_to_matrix` for data code (the same formulas, in float64).

    Per-sample data augmentation calls it on one vector at a time, where a torch round trip costs
    ~0.5 ms and NumPy ~20 us; tests check that both agree to 1e-12.

    Args:
        aa: (..., 3) axis-angle vectors.

    Returns:
        (..., 3, 3) float64 rotation matrices.
    """
    aa = np.asarray(aa, dtype=np.float64)
    theta2 = (aa * aa).sum(-1, keepdims=True)[..., None]  # (..., 1, 1)
    safe2 = np.maximum(theta2, _EPS**2)
    theta = np.sqrt(safe2)
    small = theta2 < 1e-8
    a = np.where(small, 1.0 - theta2 / 6.0, np.sin(theta) / theta)
    b = np.where(small, 0.5 - theta2 / 24.0, (1.0 - np.cos(theta)) / safe2)
    k = _skew_np(aa)
    return np.eye(3) + a * k + b * (k @ k)


def matrix_to_axis_angle_np(R: np.ndarray) -> np.ndarray:
    """NumPy twin of :func:`matrix_to_axis_angle` for data code (the same formulas, in float64).

    Args:
        R: (..., 3, 3) rotation matrices.

    Returns:
        (..., 3) float64 axis-angle vectors, angles in [0, pi].
    """
    R = np.asarray(R, dtype=np.float64)
    trace = R[..., 0, 0] + R[..., 1, 1] + R[..., 2, 2]
    cos = np.clip((trace - 1.0) / 2.0, -1.0, 1.0)
    w = np.stack([R[..., 2, 1] - R[..., 1, 2], R[..., 0, 2] - R[..., 2, 0], R[..., 1, 0] - R[..., 0, 1]], -1)
    sin = np.sqrt((w * w).sum(-1) + _EPS**2) / 2.0
    angle = np.arctan2(sin, cos)
    small = angle < 1e-4
    factor = np.where(small, 0.5 + angle**2 / 12.0, angle / (2.0 * np.maximum(sin, _EPS)))
    aa = w * factor[..., None]
    near_pi = angle > np.pi - 1e-3
    if near_pi.any():
        uu = (R + np.swapaxes(R, -1, -2)) / 2.0 - cos[..., None, None] * np.eye(3)
        diag = np.diagonal(uu, axis1=-2, axis2=-1)
        col = np.take_along_axis(uu, diag.argmax(-1)[..., None, None], axis=-1)[..., 0]
        u = col / np.maximum(np.linalg.norm(col, axis=-1, keepdims=True), 1e-12)
        sign = np.where((u * w).sum(-1, keepdims=True) < 0, -1.0, 1.0)
        aa = np.where(near_pi[..., None], u * sign * angle[..., None], aa)
    return aa
