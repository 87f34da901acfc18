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


def _next(t: torch.Tensor) -> torch.Tensor:
    """(..., 3) per-corner values -> the values of the next corner (i + 1 mod 3)."""
    return torch.cat([t[..., 1:], t[..., :1]], -1)


def _prev(t: torch.Tensor) -> torch.Tensor:
    """(..., 3) per-corner values -> the values of the previous corner (i - 1 mod 3)."""
    return torch.cat([t[..., 2:], t[..., :2]], -1)


def _face_table(mesh: ScreenMesh) -> torch.Tensor:
    """(G, 9) per face: corner x (3), corner y (3), corner inverse depth (3), differentiable.

    Gathering this table per (pixel, face) pair, instead of per corner vertex, keeps the
    backward scatter at one row per pair.
    """
    corners = mesh.face_verts.reshape(-1)
    uv = mesh.uv.index_select(0, corners).view(-1, 3, 2)
    return torch.cat([uv[..., 0], uv[..., 1], mesh.inv_z.index_select(0, corners).view(-1, 3)], 1)


class _FaceGeometry(torch.autograd.Function):
    """Barycentrics, depth and signed distance of (pixel, face) pairs, with a hand-written backward.

    One fused pass of elementwise work each way instead of autograd's op-by-op graph: the
    renderer's soft mode spends most of its time here. Checked against finite differences in
    float64 by the renderer's gradient tests.

    Forward inputs: ``g`` (N, k, 9) face table rows (corner x, corner y, corner 1/z), ``px`` and
    ``py`` (N, 1, 1) pixel centres, ``valid`` (N, k) bool, ``with_distance``.
    Outputs: ``bary`` (N, k, 3) perspective-correct barycentrics of the point of the face
    nearest the pixel centre, ``zbuf`` (N, k) its depth (0 where invalid), ``dist`` (N, k)
    signed squared distance to the face boundary (positive inside; 0 where invalid or when
    ``with_distance`` is False).
    """

    @staticmethod
    def forward(ctx, g, px, py, valid, with_distance):  # noqa: D102
        x, y, iz = g[..., 0:3] - px, g[..., 3:6] - py, g[..., 6:9]  # corners relative to the pixel
        xj, yj = _next(x), _next(y)  # corner i + 1
        xk, yk = _next(xj), _next(yj)  # corner i + 2
        num = xj * yk - yj * xk  # barycentric numerators (twice the sub-triangle areas)
        area = num.sum(-1, keepdim=True)
        proper = area.abs() > 1e-20
        area = torch.where(proper, area, torch.ones_like(area))
        b = num / area  # screen-space barycentrics of the pixel centre
        c = b.clamp(min=0.0)  # clipped to the face (renormalised below)
        weighted = c * iz
        inv_depth = weighted.sum(-1)
        unclamped = inv_depth > 1e-20
        inv_depth = inv_depth.clamp(min=1e-20)
        bary = weighted / inv_depth[..., None]
        z = c.sum(-1) / inv_depth
        zbuf = torch.where(valid, z, torch.zeros_like(z))
        if with_distance:
            ex, ey = xk - xj, yk - yj  # edge i runs from corner i + 1 to corner i + 2
            t = (-(xj * ex + yj * ey) / (ex * ex + ey * ey).clamp(min=1e-20)).clamp(0.0, 1.0)
            cx, cy = xj + t * ex, yj + t * ey  # nearest point of each edge
            d2, nearest = (cx * cx + cy * cy).min(-1)
            sign = torch.where((b >= 0).all(-1), 1.0, -1.0).to(g.dtype) * valid
            dist = sign * d2
        else:
            t = cx = cy = nearest = sign = None
            dist = torch.zeros_like(zbuf)
        ctx.with_distance = with_distance
        ctx.save_for_backward(x, y, iz, area, proper, b, c, inv_depth, unclamped, bary, z, valid, t, cx, cy, nearest, sign)
        return bary, zbuf, dist

    @staticmethod
    def backward(ctx, g_bary, g_zbuf, g_dist):  # noqa: D102
        x, y, iz, area, proper, b, c, inv_depth, unclamped, bary, z, valid, t, cx, cy, nearest, sign = ctx.saved_tensors
        g_zbuf = g_zbuf * valid
        # bary = w / W and z = sum(c) / W with w = c * iz, W = sum(w) (held constant where clamped)
        g_w = (g_bary - ((g_bary * bary).sum(-1) + g_zbuf * z).mul(unclamped)[..., None]) / inv_depth[..., None]
        g_iz = g_w * c
        g_b = (g_w * iz + (g_zbuf / inv_depth)[..., None]) * (b >= 0)
        # b = num / area, area = sum(num) (held constant where degenerate)
        g_num = (g_b - ((g_b * b).sum(-1, keepdim=True) * proper)) / area
        g_x = _prev(g_num) * _next(y) - _next(g_num) * _prev(y)
        g_y = _next(g_num) * _prev(x) - _prev(g_num) * _next(x)
        if ctx.with_distance:
            # d2 = |(1 - t) P_{i+1} + t P_{i+2}|^2 of the nearest edge i, t stationary or clamped
            pick = torch.nn.functional.one_hot(nearest, 3).to(x.dtype) * (2.0 * sign * g_dist)[..., None]
            a, e = pick * (1.0 - t), pick * t
            g_x = g_x + _prev(a * cx) + _next(e * cx)
            g_y = g_y + _prev(a * cy) + _next(e * cy)
        return torch.cat([g_x, g_y, g_iz], -1), None, None, None, None


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
    safe_face = face.clamp(min=0)
    verts = mesh.face_verts[safe_face] * valid[..., None]
    g = _face_table(mesh).index_select(0, safe_face.reshape(-1)).view(*face.shape, 9)
    px = (selected.pixel % w).to(g.dtype)[:, None, None]
    py = (torch.div(selected.pixel, w, rounding_mode="floor") % h).to(g.dtype)[:, None, None]
    bary, zbuf, dist = _FaceGeometry.apply(g, px, py, valid, with_distance)
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
