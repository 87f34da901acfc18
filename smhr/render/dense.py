"""Dense all-pairs reference renderer: every pixel against every face of its image.

:func:`render_hands_dense` computes what :func:`smhr.render.render_hands` computes, the naive
way: no tiles, no bounding-box culling, no top-k. For every pixel (or sample) and every face
of every hand of that image it evaluates the exact signed squared distance to the triangle,
the SoftRas coverage, the perspective-correct depth and the shaded colour, and then reduces
over all faces. It is the slow, obviously-correct side of the renderer tests and the baseline
of ``smhr bench render``.

Memory: pixels are processed in chunks of ``pixels_per_chunk`` x all faces of the image.
In soft mode each chunk is checkpointed (:class:`_Recomputed`): autograd keeps only the
chunk's inputs and outputs and recomputes the dense tensors in the backward pass, so peak
memory is bounded by one chunk, not by pixels x faces. The z-buffer (which face is
nearest at a pixel centre) is a discrete choice and is found without gradients; the depth and
colour of the chosen face are then recomputed differentiably for that face only.

Shared with the fast renderer: argument checks, the projection
(:func:`~smhr.render.rasterize.screen_mesh`), the per-vertex shading and the supersample resolve
(:mod:`smhr.render.shaders`), the settings. What is under test is written here independently:
the per-pair geometry, the z-buffer, and the SoftRas coverage and blending over all faces
(in log space, following the formulas of :mod:`smhr.render.shaders` without importing them).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as nnf

from smhr.geometry.camera import scale_intrinsics
from smhr.render.rasterize import screen_mesh
from smhr.render.settings import Mode, RenderOutput, RenderSettings
from smhr.render.renderer import check_inputs
from smhr.render.shaders import resolve_supersampled, shade_vertices

PAIRS_PER_CHUNK = 1 << 18
"""Default (pixel, face) pairs per chunk: about 50 MB of float32 tensors in soft mode (about
200 B per pair live during the chunk's recomputing backward pass). Speed barely depends on it."""

MIN_AREA2 = 1.0e-12
"""Faces with twice their screen area (px^2) below this are degenerate and cover nothing."""


class ImageFaces(NamedTuple):
    """The valid faces of one image, in screen space (rows are faces; all differentiable).

    Attributes:
        corners: (G, 3, 2) corner pixel coordinates.
        inv_z: (G, 3) corner inverse depths 1/z.
        area2: (G,) twice the signed screen area (never near zero).
        hand: (G,) long hand slot of each face.
        rgb: (G, 3, 3) shaded corner colours (corner, rgb), or None for white.
    """

    corners: torch.Tensor
    inv_z: torch.Tensor
    area2: torch.Tensor
    hand: torch.Tensor
    rgb: torch.Tensor | None


class PairGeometry(NamedTuple):
    """Per (sample, face) pair; every tensor has the broadcast shape (...) of the inputs of
    :func:`pair_geometry`.

    Attributes:
        inside: bool, the sample is inside the triangle (edges included).
        dist: signed squared distance (px^2) to the triangle: positive inside.
        bary: three tensors (or None), the perspective-correct barycentrics of the point of the
            triangle nearest to the sample (clipped to the triangle, summing to 1).
        depth: z (metres) at that point.
    """

    inside: torch.Tensor
    dist: torch.Tensor
    bary: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None
    depth: torch.Tensor


def pair_geometry(corners: torch.Tensor, inv_z: torch.Tensor, area2: torch.Tensor, xy: torch.Tensor,
                  with_distance: bool = True, with_bary: bool = True) -> PairGeometry:
    """Exact point-triangle geometry in screen space, for all broadcast (sample, face) pairs.

    Written per corner on whole (sample, face) arrays, so every operation runs over
    contiguous memory (no reductions over tiny trailing dimensions).

    Args:
        corners: (..., 3, 2) triangle corners in pixels.
        inv_z: (..., 3) corner inverse depths.
        area2: (...) twice the signed area of each triangle (non-zero).
        xy: (..., 2) sample positions in pixels, broadcast against ``area2``.
        with_distance: compute ``dist`` (zeros otherwise).
        with_bary: compute ``bary`` (None otherwise). Under a checkpoint, whatever autograd
            saves for an unused result is recomputed and then kept until the end of the
            backward pass, so results that will not be used are better not computed.

    Returns:
        :class:`PairGeometry`.
    """
    cx, cy, px, py = corners[..., 0], corners[..., 1], xy[..., 0], xy[..., 1]
    bary_screen, d2 = [], None
    for i in range(3):
        j, k = (i + 1) % 3, (i + 2) % 3
        ex, ey = cx[..., k] - cx[..., j], cy[..., k] - cy[..., j]  # edge opposite corner i
        qx, qy = cx[..., j] - px, cy[..., j] - py  # its start, relative to the sample
        # Barycentric i: signed area of the sub-triangle (sample, corner j, corner k).
        bary_screen.append((qx * ey - qy * ex) / area2)
        if with_distance:
            t = (-(qx * ex + qy * ey) / (ex * ex + ey * ey)).clamp(0.0, 1.0)
            nx, ny = qx + t * ex, qy + t * ey  # nearest point of the edge, relative to the sample
            d2 = nx * nx + ny * ny if d2 is None else torch.minimum(d2, nx * nx + ny * ny)
    b0, b1, b2 = bary_screen
    inside = (b0 >= 0) & (b1 >= 0) & (b2 >= 0)
    dist = torch.where(inside, d2, -d2) if with_distance else torch.zeros_like(b0)
    clipped = [b.clamp(min=0.0) for b in bary_screen]
    total = clipped[0] + clipped[1] + clipped[2]
    weighted = [c / total * inv_z[..., i] for i, c in enumerate(clipped)]  # 1/z is affine in screen space
    inv_depth = weighted[0] + weighted[1] + weighted[2]
    bary = tuple(wi / inv_depth for wi in weighted) if with_bary else None
    return PairGeometry(inside, dist, bary, 1.0 / inv_depth)


def interpolate(bary: tuple[torch.Tensor, ...], corner_values: torch.Tensor) -> torch.Tensor:
    """Barycentric interpolation: three (...) weights, (..., 3, C) corner values -> (..., C)."""
    return sum(b[..., None] * corner_values[..., i, :] for i, b in enumerate(bary))


def _take(t: torch.Tensor | None, rows: torch.Tensor) -> torch.Tensor | None:
    return None if t is None else t[rows]


def _image_faces(verts, faces, K, hand_mask, colors, sh, flip_winding, znear: float) -> list[ImageFaces]:
    """Projects all hands and groups the valid faces (real hand, in front of znear, not degenerate) by image."""
    B, H, V, _ = verts.shape
    mesh = screen_mesh(verts, faces, K, hand_mask, znear)
    corners, inv_z = mesh.uv[mesh.face_verts], mesh.inv_z[mesh.face_verts]
    e1, e2 = corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]
    area2 = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    valid = mesh.face_valid & (area2.detach().abs() > MIN_AREA2)
    vertex_rgb = shade_vertices(verts, faces, colors, sh, flip_winding)
    corner_rgb = None if vertex_rgb is None else vertex_rgb.reshape(-1, 3)[mesh.face_verts]
    out = []
    for b in range(B):
        rows = torch.nonzero(valid & (mesh.face_image == b))[:, 0]
        out.append(ImageFaces(corners[rows], inv_z[rows], area2[rows], mesh.face_hand[rows], _take(corner_rgb, rows)))
    return out


def _zbuffer(geometry: PairGeometry) -> tuple[torch.Tensor, torch.Tensor]:
    """(P,) long index of the nearest face containing each sample (0 if none), (P,) bool any."""
    key = torch.where(geometry.inside, 1.0 / geometry.depth, -1.0)
    best, face = key.max(-1)
    return face, best > 0


def _soft_chunk(xy, corners, inv_z, area2, corner_rgb, background, settings: RenderSettings):
    """Soft alpha and colour of P pixels against all G faces of their image (SoftRas).

    Returns:
        alpha (P,), rgb (P, 3), z-buffer face (P,) long, covered (P,) bool.
    """
    white = corner_rgb is None
    g = pair_geometry(corners, inv_z, area2, xy[:, None, :], with_bary=not white)  # (P, G) pairs
    x = g.dist / settings.sigma
    # Coverage D = sigmoid(x); faces below blur_threshold take no part (RenderSettings): those
    # farther than the blur radius.
    used = g.dist.detach() >= -settings.blur_radius**2
    # 1 - prod(1 - D) with log(1 - D) = logsigmoid(-x): stable even where D rounds to 1.
    alpha = -torch.expm1(torch.where(used, nnf.logsigmoid(-x), 0.0).sum(-1))
    # Soft depth aggregation: w_k ~ D_k exp(z'_k / gamma), w_bg ~ exp(eps / gamma), as a
    # softmax over log-weights (the same weights as shaders.soft_blend, without underflow).
    z_norm = (settings.zfar - g.depth) / (settings.zfar - settings.znear)
    logits = torch.where(used, nnf.logsigmoid(x) + z_norm / settings.gamma, -torch.inf)
    logits = torch.cat([logits, logits.new_full((len(xy), 1), settings.background_eps / settings.gamma)], 1)
    weight = torch.softmax(logits, -1)
    rgb = weight[:, -1:] * background
    if white:  # white faces: their share of the weight
        rgb = rgb + weight[:, :-1].sum(1, keepdim=True)
    else:  # shade only the pairs that take part (the others have weight 0)
        pixel, face = torch.nonzero(used, as_tuple=True)
        colors = interpolate(tuple(b[pixel, face] for b in g.bary), corner_rgb[face])
        rgb = rgb.index_add(0, pixel, weight[pixel, face, None] * colors)
    with torch.no_grad():  # a discrete choice: nothing for autograd to keep
        face, covered = _zbuffer(g)
    return alpha, rgb, face, covered


class _Recomputed(torch.autograd.Function):
    """:func:`_soft_chunk` without an autograd graph; the backward pass recomputes it with one.

    This is what :func:`torch.utils.checkpoint.checkpoint` does. It is written out because the
    non-reentrant checkpoint kept about 40 B per (pixel, face) pair of every chunk alive from
    the forward to the backward pass (measured: 1.9 GB for 2 images of 128x128 px x 1488 faces,
    against nothing here), and the reentrant one does not support ``torch.autograd.grad``.
    First-order gradients only.
    """

    @staticmethod
    def forward(ctx, xy, corners, inv_z, area2, corner_rgb, background, settings):  # noqa: D102
        ctx.settings = settings
        ctx.save_for_backward(xy, corners, inv_z, area2, corner_rgb, background)
        alpha, rgb, face, covered = _soft_chunk(xy, corners, inv_z, area2, corner_rgb, background, settings)
        ctx.mark_non_differentiable(face, covered)
        return alpha, rgb, face, covered

    @staticmethod
    def backward(ctx, grad_alpha, grad_rgb, _grad_face, _grad_covered):  # noqa: D102
        leaves = [None if t is None else t.detach().requires_grad_(need)
                  for t, need in zip(ctx.saved_tensors, ctx.needs_input_grad)]
        wanted = [t for t in leaves if t is not None and t.requires_grad]
        with torch.enable_grad():
            alpha, rgb, _, _ = _soft_chunk(*leaves, ctx.settings)
        grads = iter(torch.autograd.grad((alpha, rgb), wanted, (grad_alpha, grad_rgb), allow_unused=True))
        return (*[next(grads) if t is not None and t.requires_grad else None for t in leaves], None)


def _at_face(faces: ImageFaces, face: torch.Tensor, xy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Differentiable depth (P,) and colour (P, 3) of one chosen face per sample."""
    g = pair_geometry(faces.corners[face], faces.inv_z[face], faces.area2[face], xy, with_distance=False)
    rgb = g.depth.new_ones(len(face), 3) if faces.rgb is None else interpolate(g.bary, faces.rgb[face])
    return g.depth, rgb


def _render_image(faces: ImageFaces, size: tuple[int, int], soft: bool, background: torch.Tensor, settings: RenderSettings, chunk: int):
    """One image: (S,) alpha or coverage, (S,) hand slot, (S,) depth, (S, 3) rgb, S = h * w samples."""
    h, w = size
    total = h * w
    ys, xs = torch.meshgrid(torch.arange(h, device=background.device), torch.arange(w, device=background.device), indexing="ij")
    xy_all = torch.stack([xs.reshape(-1), ys.reshape(-1)], -1).to(background.dtype)
    alphas, rgbs, zfaces, hits = [], [], [], []
    for start in range(0, total, chunk):
        xy = xy_all[start:start + chunk]
        if len(faces.hand) == 0:
            hits.append(torch.zeros(len(xy), dtype=torch.bool, device=xy.device))
            zfaces.append(torch.zeros(len(xy), dtype=torch.long, device=xy.device))
            alphas.append(xy.new_zeros(len(xy)))
            rgbs.append(background.expand(len(xy), 3))
        elif soft:
            alpha, rgb, face, covered = _Recomputed.apply(xy, faces.corners, faces.inv_z, faces.area2, faces.rgb, background, settings)
            alphas.append(alpha)
            rgbs.append(rgb)
            zfaces.append(face)
            hits.append(covered)
        else:
            with torch.no_grad():
                g = pair_geometry(faces.corners, faces.inv_z, faces.area2, xy[:, None, :], with_distance=False, with_bary=False)
                face, covered = _zbuffer(g)
            zfaces.append(face)
            hits.append(covered)
    covered, zface = torch.cat(hits), torch.cat(zfaces)
    hit = torch.nonzero(covered)[:, 0]
    depth_hit, rgb_hit = _at_face(faces, zface[hit], xy_all[hit])
    depth = xy_all.new_zeros(total).index_put((hit,), depth_hit)
    hand = torch.full((total,), -1, dtype=torch.long, device=xy_all.device).index_put((hit,), faces.hand[zface[hit]])
    if soft:
        return torch.cat(alphas), hand, depth, torch.cat(rgbs)
    rgb = background.expand(total, 3).clone().index_put((hit,), rgb_hit)
    return covered.to(xy_all.dtype), hand, depth, rgb


def render_hands_dense(
    verts: torch.Tensor,
    faces: torch.Tensor,
    K: torch.Tensor,
    hand_mask: torch.Tensor,
    image_size: tuple[int, int],
    colors: torch.Tensor | None = None,
    sh: torch.Tensor | None = None,
    mode: Mode = "soft",
    settings: RenderSettings = RenderSettings(),
    flip_winding: torch.Tensor | None = None,
    pixels_per_chunk: int | None = None,
) -> RenderOutput:
    """:func:`smhr.render.render_hands`, computed over all (pixel, face) pairs.

    Same arguments, outputs and conventions as :func:`~smhr.render.render_hands`, with these
    definitions, each evaluated for every face of every real hand of the image:

    - soft ``alpha = 1 - prod_f (1 - D_f)`` with ``D_f = sigmoid(d2_f / sigma)``, ``d2_f`` the
      exact signed squared distance (px^2, positive inside) from the pixel centre to face f;
    - soft ``rgb``: SoftRas' soft depth aggregation of all faces and the background (weights
      ``D_f exp(z'_f / gamma)`` and ``exp(eps / gamma)``, ``z' = (zfar - z) / (zfar - znear)``),
      each face's colour taken at its point nearest to the pixel centre: Gouraud shading, the
      vertex colours (albedo times the SH shading of the vertex normal) interpolated;
    - ``hand_index`` and ``depth``: of the nearest face whose triangle contains the pixel
      centre (perspective-correct depth);
    - sharp mode: that z-buffer at ``supersample``^2 samples per pixel, averaged (``alpha``
      is the covered fraction), ``hand_index``/``depth`` from the middle sample.

    As :class:`~smhr.render.settings.RenderSettings` documents, faces whose coverage at a pixel
    is below ``blur_threshold`` take no part there (they change ``alpha`` by less than the
    threshold each, but with a small ``gamma`` they would outweigh the background). Faces with a
    corner nearer than ``znear``, degenerate faces and padded hand slots render nothing.
    ``faces_per_pixel``, ``tile_size``, ``max_pairs_per_chunk`` and ``backend`` are ignored.

    Args:
        verts, faces, K, hand_mask, image_size, colors, sh, mode, settings, flip_winding: as
            for :func:`~smhr.render.render_hands`.
        pixels_per_chunk: pixels (samples in sharp mode) evaluated at once against all faces
            of their image; None: ``PAIRS_PER_CHUNK // faces`` of the image. Peak memory grows
            with ``pixels_per_chunk`` x faces; the result does not depend on it.

    Returns:
        :class:`~smhr.render.settings.RenderOutput`.
    """
    check_inputs(verts, faces, K, hand_mask, image_size, colors, sh, mode, flip_winding)
    if pixels_per_chunk is not None and pixels_per_chunk < 1:
        raise ValueError(f"render_hands_dense: pixels_per_chunk must be >= 1 or None, got {pixels_per_chunk}")
    B, H, _, _ = verts.shape
    h, w = image_size
    soft = mode == "soft"
    scale = 1 if soft else settings.supersample
    size = (h * scale, w * scale)
    K = K.to(verts.dtype) if scale == 1 else scale_intrinsics(K.to(verts.dtype), scale)
    verts = torch.where(hand_mask[:, :, None, None], verts, torch.zeros_like(verts))
    background = verts.new_tensor(settings.background)
    images = []
    for image in _image_faces(verts, faces, K, hand_mask, colors, sh, flip_winding, settings.znear):
        chunk = pixels_per_chunk or max(1, PAIRS_PER_CHUNK // max(1, len(image.hand)))
        images.append(_render_image(image, size, soft, background, settings, chunk))
    alpha, hand_index, depth, rgb = (torch.stack(t).view(B, *size, *t[0].shape[1:]) for t in zip(*images))
    if soft:
        return RenderOutput(alpha, hand_index, depth, rgb)
    return resolve_supersampled(alpha, hand_index, depth, rgb, scale)
