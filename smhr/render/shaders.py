"""Shaders: per-(pixel, face) values into per-pixel values, shared by every backend.

Pure functions of tensors whose last dimension runs over a pixel's k faces (the compacted
fragments of :func:`smhr.render.render_hands`, pytorch3d's dense (B, h, w, k) fragments),
plus per-vertex shading and the supersampled sharp-mode resolve.
"""

from __future__ import annotations

import torch
import torch.nn.functional as nnf

from smhr.render.fragments import Fragments, interpolate
from smhr.render.settings import RenderOutput
from smhr.render.sh import sh_shading, vertex_normals


def coverage(dist: torch.Tensor, valid: torch.Tensor, sigma: float, threshold: float = 0.0) -> torch.Tensor:
    """SoftRas' per-face coverage probability ``D = sigmoid(dist / sigma)``.

    Args:
        dist: (..., k) signed squared distance (px^2, positive inside) of each face to the pixel.
        valid: (..., k) bool, False for empty slots.
        sigma: sharpness (px^2).
        threshold: coverages below this count as 0 (``RenderSettings.blur_threshold``: the
            face is beyond the blur radius; the rasteriser's candidate test is conservative,
            so this is where the radius is enforced exactly).

    Returns:
        (..., k), zero in empty slots.
    """
    d = torch.sigmoid(dist / sigma) * valid
    return torch.where(d >= threshold, d, torch.zeros_like(d)) if threshold > 0 else d


def soft_silhouette(d: torch.Tensor) -> torch.Tensor:
    """Soft silhouette ``1 - prod_k (1 - D_k)`` (SoftRas).

    Args:
        d: (..., k) coverages from :func:`coverage`.

    Returns:
        (...,) alpha in [0, 1].
    """
    return 1.0 - torch.prod(1.0 - d, dim=-1)


def soft_blend(d: torch.Tensor, zbuf: torch.Tensor, colors: torch.Tensor, background: torch.Tensor, gamma: float, eps: float, znear: float, zfar: float) -> torch.Tensor:
    """SoftRas' soft depth aggregation of per-face colours with the background.

    ``w_k ~ D_k exp(z'_k / gamma)`` and ``w_bg ~ exp(eps / gamma)`` with normalised inverse
    depth ``z' = (zfar - z) / (zfar - znear)`` (1 at the near plane), normalised to sum to 1.

    Args:
        d: (..., k) coverages from :func:`coverage` (0 in empty slots).
        zbuf: (..., k) depth z (metres) of each face at the pixel.
        colors: (..., k, 3) colour of each face at the pixel.
        background: (3,) background colour.
        gamma, eps, znear, zfar: see :class:`~smhr.render.settings.RenderSettings`.

    Returns:
        (..., 3) blended colour (the background where no face has coverage).
    """
    z_norm = (zfar - zbuf) / (zfar - znear)
    # faces with zero coverage must not set the normaliser (their exp could swamp the others)
    logits = torch.where(d > 0, z_norm / gamma, torch.full_like(z_norm, -torch.inf))
    top = torch.maximum(logits.amax(-1), logits.new_tensor(eps / gamma)).detach()
    weight = d * torch.exp(logits - top[..., None])
    weight_bg = torch.exp(eps / gamma - top)
    total = weight.sum(-1) + weight_bg
    return ((weight[..., None] * colors).sum(-2) + weight_bg[..., None] * background) / total[..., None]


def resolve_supersampled(covered: torch.Tensor, hand_index: torch.Tensor, depth: torch.Tensor, rgb: torch.Tensor, scale: int) -> RenderOutput:
    """Sharp mode's output from ``scale`` x ``scale`` samples per pixel.

    ``alpha`` and ``rgb`` are sample averages (antialiasing); ``hand_index`` and ``depth`` are
    taken at the middle sample, the pixel centre (``scale`` is odd).

    Args:
        covered: (B, sh, sw) float, 1 where a face covers the sample.
        hand_index: (B, sh, sw) long.
        depth: (B, sh, sw).
        rgb: (B, sh, sw, 3).
        scale: samples per pixel side; sh = scale * h, sw = scale * w.

    Returns:
        :class:`~smhr.render.settings.RenderOutput` at (h, w).
    """
    if scale > 1:
        covered = nnf.avg_pool2d(covered[:, None], scale)[:, 0]
        rgb = nnf.avg_pool2d(rgb.permute(0, 3, 1, 2), scale).permute(0, 2, 3, 1)
    mid = scale // 2
    return RenderOutput(covered.contiguous(), hand_index[:, mid::scale, mid::scale].contiguous(),
                        depth[:, mid::scale, mid::scale].contiguous(), rgb.contiguous())


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
