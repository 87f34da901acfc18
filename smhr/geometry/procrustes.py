"""Similarity (Procrustes) alignment, batched, in NumPy.

``similarity_align(src, dst)`` finds scale s, rotation R and translation t minimising
``|| s * src @ R.T + t - dst ||^2`` per sample (Umeyama 1991). With ``allow_reflection=True`` R
may have det -1 (an orthogonal matrix), as ``scipy.linalg.orthogonal_procrustes`` allows; the
official FreiHAND/HO3D scripts use that. The evaluation protocols in :mod:`smhr.eval` carry
their own literal ports of each official alignment; this module is the general-purpose one.
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
    cov = np.einsum("...ni,...nj->...ij", xd, xs)  # (..., 3, 3) = sum dst_i src_i^T
    U, S, Vt = np.linalg.svd(cov)
    d = np.ones(S.shape)
    if not allow_reflection:
        d[..., -1] = np.sign(np.linalg.det(U @ Vt))
        d[..., -1][d[..., -1] == 0] = 1.0
    R = U @ (d[..., :, None] * Vt)
    var_s = (xs**2).sum((-2, -1))
    scale = (S * d).sum(-1) / np.maximum(var_s, 1e-30) if with_scale else np.ones(var_s.shape)
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
