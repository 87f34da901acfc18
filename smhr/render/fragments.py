"""Differentiable per-pixel quantities of the faces the rasteriser selected.

The rasteriser (:mod:`smhr.render.rasterize`) only decides *which* faces matter at *which*
pixel, without gradients. This module recomputes, for those (pixel, face) pairs only, the
screen-space barycentrics, signed distances and depths from the vertex tensors, so autograd
stores a few tensors of size N x k (active pixels x faces per pixel) and nothing more.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from smhr.render.rasterize import PixelFaces, ScreenMesh


class Fragments(NamedTuple):
    """Per active pixel, its ``k`` selected faces (pytorch3d's ``Fragments``, compacted).

    Attributes:
        pixel: (N,) long flat pixel index ``(b * h + y) * w + x``.
        face: (N, k) long face index into the :class:`ScreenMesh` rows, -1 for empty slots.
        verts: (N, k, 3) long vertex rows of each face's corners (0 for empty slots).
        valid: (N, k) bool, False for empty slots.
        bary: (N, k, 3) perspective-correct barycentrics of the point of the face nearest to
            the pixel centre (clipped to the face, sums to 1).
        zbuf: (N, k) depth z (metres) at that point.
        dist: (N, k) signed squared screen distance (px^2) from the pixel centre to the face
            boundary: positive inside the face, negative outside.
        covered: (N,) bool, the pixel centre is inside ``face[:, 0]`` (the z-buffer face).
    """

    pixel: torch.Tensor
    face: torch.Tensor
    verts: torch.Tensor
    valid: torch.Tensor
    bary: torch.Tensor
    zbuf: torch.Tensor
    dist: torch.Tensor
    covered: torch.Tensor


def _cross(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def compute_fragments(mesh: ScreenMesh, selected: PixelFaces, size: tuple[int, int], with_distance: bool = True) -> Fragments:
    """Recomputes the differentiable per-pixel quantities of the selected faces.

    Args:
        mesh: flattened screen-space faces (``uv`` and ``inv_z`` carry gradients).
        selected: rasteriser output.
        size: (h, w).
        with_distance: compute ``dist`` (soft coverage needs it; sharp mode does not, and
            gets zeros).

    Returns:
        :class:`Fragments`.
    """
    h, w = size
    face = selected.face
    valid = face >= 0
    verts = mesh.face_verts[face.clamp(min=0)] * valid[..., None]
    p = torch.stack([selected.pixel % w, torch.div(selected.pixel, w, rounding_mode="floor") % h], -1)
    q = mesh.uv[verts] - p.to(mesh.uv.dtype)[:, None, None, :]  # (N, k, 3, 2) corners relative to the pixel
    qj, qk = q.roll(-1, 2), q.roll(-2, 2)
    num = _cross(qj, qk)  # (N, k, 3) barycentric numerators
    area2 = num.sum(-1, keepdim=True)
    area2 = torch.where(area2.abs() > 1e-20, area2, torch.ones_like(area2))
    bary_screen = num / area2
    inside = (bary_screen >= 0).all(-1)
    if with_distance:
        edge = qk - qj
        t = (-(qj * edge).sum(-1) / (edge * edge).sum(-1).clamp(min=1e-20)).clamp(0.0, 1.0)
        closest = qj + t[..., None] * edge
        d2 = (closest * closest).sum(-1).amin(-1)
        dist = torch.where(inside, d2, -d2) * valid
    else:
        dist = torch.zeros_like(bary_screen[..., 0])
    clipped = bary_screen.clamp(min=0.0)
    clipped = clipped / clipped.sum(-1, keepdim=True).clamp(min=1e-20)
    weighted = clipped * mesh.inv_z[verts]
    inv_depth = weighted.sum(-1).clamp(min=1e-20)
    bary = weighted / inv_depth[..., None]
    zbuf = torch.where(valid, 1.0 / inv_depth, torch.zeros_like(inv_depth))
    return Fragments(selected.pixel, face, verts, valid, bary, zbuf, dist, selected.covered)


def interpolate(fragments: Fragments, attributes: torch.Tensor) -> torch.Tensor:
    """Interpolates per-vertex attributes at the fragments.

    Args:
        fragments: from :func:`compute_fragments`.
        attributes: (B*H*V, C) per-vertex values, rows as in :class:`ScreenMesh`.

    Returns:
        (N, k, C) barycentric interpolation (zeros in empty slots).
    """
    return (attributes[fragments.verts] * fragments.bary[..., None]).sum(-2) * fragments.valid[..., None]
