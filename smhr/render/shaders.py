"""Shaders: turn :class:`~smhr.render.fragments.Fragments` into per-pixel values.

Each shader is a pure function of the fragments of the active pixels (N of them, k faces
each); :func:`smhr.render.render_hands` scatters the results into images.
"""

from __future__ import annotations

import torch

from smhr.render.fragments import Fragments, interpolate
from smhr.render.sh import sh_shading, vertex_normals


def coverage(fragments: Fragments, sigma: float, threshold: float = 0.0) -> torch.Tensor:
    """SoftRas' per-face coverage probability ``D = sigmoid(dist / sigma)``.

    Args:
        fragments: N active pixels, k faces each.
        sigma: sharpness (px^2).
        threshold: coverages below this count as 0 (``RenderSettings.blur_threshold``: the
            face is beyond the blur radius; the rasteriser's candidate test is conservative,
            so this is where the radius is enforced exactly).

    Returns:
        (N, k), zero in empty slots.
    """
    d = torch.sigmoid(fragments.dist / sigma) * fragments.valid
    return torch.where(d >= threshold, d, torch.zeros_like(d)) if threshold > 0 else d


def soft_silhouette(fragments: Fragments, sigma: float, threshold: float = 0.0) -> torch.Tensor:
    """Soft silhouette ``1 - prod_k (1 - D_k)`` (SoftRas), ``D`` from :func:`coverage`.

    Returns:
        (N,) alpha in [0, 1].
    """
    return 1.0 - torch.prod(1.0 - coverage(fragments, sigma, threshold), dim=-1)


def soft_blend(fragments: Fragments, colors: torch.Tensor, background: torch.Tensor, sigma: float, gamma: float, eps: float, znear: float, zfar: float,
               threshold: float = 0.0) -> torch.Tensor:
    """SoftRas' soft depth aggregation of per-face colours with the background.

    ``w_k ~ D_k exp(z'_k / gamma)`` and ``w_bg ~ exp(eps / gamma)`` with normalised inverse
    depth ``z' = (zfar - z) / (zfar - znear)`` (1 at the near plane), normalised to sum to 1.

    Args:
        fragments: N active pixels, k faces each.
        colors: (N, k, 3) colour of each face at the pixel.
        background: (3,) background colour.
        sigma, gamma, eps, znear, zfar: see :class:`~smhr.render.settings.RenderSettings`.
        threshold: coverage threshold of :func:`coverage` (``blur_threshold``).

    Returns:
        (N, 3) blended colour.
    """
    d = coverage(fragments, sigma, threshold)
    z_norm = (zfar - fragments.zbuf) / (zfar - znear)
    # faces with zero coverage must not set the normaliser (their exp could swamp the others)
    logits = torch.where(fragments.valid & (d > 0), z_norm / gamma, torch.full_like(z_norm, -torch.inf))
    top = torch.maximum(logits.amax(-1), logits.new_tensor(eps / gamma)).detach()
    weight = d * torch.exp(logits - top[:, None])
    weight_bg = torch.exp(eps / gamma - top)
    total = weight.sum(-1) + weight_bg
    return ((weight[..., None] * colors).sum(1) + weight_bg[:, None] * background) / total[:, None]


def shade_vertices(verts: torch.Tensor, faces: torch.Tensor, colors: torch.Tensor | None, sh: torch.Tensor | None,
                   flip_winding: torch.Tensor | None = None) -> torch.Tensor | None:
    """Per-vertex shaded colour: albedo times the SH shading of the vertex normal (Gouraud).

    Shading per vertex and interpolating the result (as 3DMM and hand-texture pipelines do)
    costs one SH evaluation per vertex instead of one per (pixel, face) pair; with second-order
    SH, which varies slowly over the sphere, and faces of a few pixels it differs from shading
    interpolated normals by far less than the lighting's own fitting error.

    Args:
        verts: (B, H, V, 3) camera-frame vertices.
        faces: (F, 3) or (B, H, F, 3) long.
        colors: (B, H, V, 3) albedo, or None for white.
        sh: (B, H, 9, 3) lighting (:mod:`smhr.render.sh`), or None for ambient (factor 1).
        flip_winding: (B, H) bool, meshes with mirrored winding (see :func:`vertex_normals`).

    Returns:
        (B*H*V, 3) colours, rows as in :class:`~smhr.render.rasterize.ScreenMesh`, or None
        when both ``colors`` and ``sh`` are None (white everywhere).
    """
    if colors is None and sh is None:
        return None
    rgb = colors if colors is not None else verts.new_ones(*verts.shape[:3], 3)
    if sh is not None:
        rgb = rgb * sh_shading(vertex_normals(verts, faces, flip_winding), sh[:, :, None])
    return rgb.reshape(-1, 3)


def face_colors(fragments: Fragments, vertex_rgb: torch.Tensor | None) -> torch.Tensor:
    """Colour of each selected face at its pixel: the shaded vertex colours interpolated.

    Args:
        fragments: N active pixels, k faces each.
        vertex_rgb: (B*H*V, 3) from :func:`shade_vertices`, or None (white).

    Returns:
        (N, k, 3) colours.
    """
    if vertex_rgb is None:
        return fragments.bary.new_ones(*fragments.face.shape, 3)
    return interpolate(fragments, vertex_rgb)
