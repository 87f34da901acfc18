"""Procrustes alignment, batched, in NumPy: the one implementation of each operation.

``orthogonal_procrustes(a, b)`` is the batched ``scipy.linalg.orthogonal_procrustes``: the
orthogonal R minimising ``||a @ R - b||`` and the sum of singular values, optionally forced to a
proper rotation (det +1, Umeyama 1991). ``similarity_transform(src, dst)`` builds the least-
squares similarity on it. The official FreiHAND/HO3D alignment (:mod:`smhr.eval.align`, with its
``+ 1e-8`` norms and mirror solutions) calls :func:`orthogonal_procrustes` too; only its
normalisation quirks live there.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Similarity(NamedTuple):
    """A similarity transform ``x -> scale * x @ R.T + t``.

    Attributes:
        scale: (...,) scale factors.
        R: (..., 3, 3) rotations (orthogonal matrices with reflection allowed).
        t: (..., 3) translations.
    """

    scale: np.ndarray
    R: np.ndarray
    t: np.ndarray

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Applies the transform to (..., N, 3) points."""
        return self.scale[..., None, None] * np.einsum("...ij,...nj->...ni", self.R, x) + self.t[..., None, :]


def orthogonal_procrustes(
    a: np.ndarray, b: np.ndarray, allow_reflection: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Batched ``scipy.linalg.orthogonal_procrustes(a, b)``: the orthogonal R minimising ``||a R - b||_F``.

    Args:
        a: (..., P, 3) points (rows), already centred/normalised as the caller wants.
        b: (..., P, 3) target points.
        allow_reflection: True keeps scipy's semantics (det R may be -1); False forces det +1 by
            flipping the smallest singular direction and the sign of its singular value.

    Returns:
        R (..., 3, 3) with ``a @ R ~ b``, and (...,) the sum of the (signed) singular values of
        ``a.T @ b`` (scipy's second output).
    """
    m = np.einsum("...pi,...pj->...ij", np.asarray(a, np.float64), np.asarray(b, np.float64))
    u, w, vt = np.linalg.svd(m)
    if not allow_reflection:
        d = np.sign(np.linalg.det(u @ vt))
        d = np.where(d == 0, 1.0, d)
        u = u.copy()
        u[..., :, -1] *= d[..., None]
        w = w.copy()
        w[..., -1] *= d
    return u @ vt, w.sum(-1)


def similarity_transform(
    src: np.ndarray, dst: np.ndarray, allow_reflection: bool = False, with_scale: bool = True
) -> Similarity:
    """Least-squares similarity from ``src`` to ``dst`` per sample.

    Args:
        src: (..., N, 3) points to move.
        dst: (..., N, 3) target points.
        allow_reflection: allow det(R) = -1 (mirror solutions).
        with_scale: estimate a scale (else scale = 1: a rigid alignment).

    Returns:
        A :class:`Similarity` with batch shape ``src.shape[:-2]``.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    mu_s, mu_d = src.mean(-2), dst.mean(-2)
    xs, xd = src - mu_s[..., None, :], dst - mu_d[..., None, :]
    R_right, singular_sum = orthogonal_procrustes(xs, xd, allow_reflection)  # xs @ R_right ~ xd
    R = np.swapaxes(R_right, -1, -2)
    var_s = (xs**2).sum((-2, -1))
    scale = singular_sum / np.maximum(var_s, 1e-30) if with_scale else np.ones(var_s.shape)
    t = mu_d - scale[..., None] * np.einsum("...ij,...j->...i", R, mu_s)
    return Similarity(scale, R, t)


def similarity_align(src: np.ndarray, dst: np.ndarray, allow_reflection: bool = False) -> np.ndarray:
    """``src`` aligned onto ``dst`` by the best similarity transform.

    Args:
        src: (..., N, 3).
        dst: (..., N, 3).
        allow_reflection: allow mirror solutions.

    Returns:
        (..., N, 3) aligned copy of ``src``.
    """
    return similarity_transform(src, dst, allow_reflection).apply(np.asarray(src, dtype=np.float64))
