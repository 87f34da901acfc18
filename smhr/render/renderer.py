"""The renderer's public entry point: rasteriser -> fragments -> shaders, for many hands per image."""

from __future__ import annotations

import torch

from smhr.geometry.camera import scale_intrinsics
from smhr.render.fragments import compute_fragments
from smhr.render.rasterize import rasterize, screen_mesh
from smhr.render.settings import Mode, RenderOutput, RenderSettings
from smhr.render.shaders import coverage, face_colors, resolve_supersampled, shade_vertices, soft_blend, soft_silhouette


def check_inputs(verts, faces, K, hand_mask, image_size, colors, sh, mode, flip_winding) -> None:
    """Raises ValueError naming the first argument of :func:`render_hands` with a wrong shape,
    type or value (also used by the dense reference, which takes the same arguments).

    Values are checked for real hands only (padded slots may hold anything): ``verts``, ``K``,
    ``colors`` and ``sh`` finite, ``K``'s focal lengths ``fx``, ``fy`` > 0."""
    if verts.dim() != 4 or verts.shape[-1] != 3:
        raise ValueError(f"render_hands: verts must be (B, H, V, 3), got {tuple(verts.shape)}")
    B, H, V, _ = verts.shape
    expected = {
        "K": (K, (B, H, 3, 3)),
        "hand_mask": (hand_mask, (B, H)),
        "colors": (colors, (B, H, V, 3)),
        "sh": (sh, (B, H, 9, 3)),
        "flip_winding": (flip_winding, (B, H)),
    }
    for name, (tensor, shape) in expected.items():
        if tensor is not None and tuple(tensor.shape) != shape:
            raise ValueError(f"render_hands: {name} must have shape {shape}, got {tuple(tensor.shape)}")
    if hand_mask.dtype != torch.bool or (flip_winding is not None and flip_winding.dtype != torch.bool):
        raise ValueError("render_hands: hand_mask and flip_winding must be bool tensors")
    if faces.dtype != torch.long or faces.shape[-1] != 3 or faces.dim() not in (2, 4) or (faces.dim() == 4 and faces.shape[:2] != (B, H)):
        raise ValueError(f"render_hands: faces must be long (F, 3) or (B, H, F, 3), got {faces.dtype} {tuple(faces.shape)}")
    if faces.numel() and (faces.min() < 0 or faces.max() >= V):
        raise ValueError(f"render_hands: faces index vertices outside [0, {V})")
    if len(image_size) != 2 or min(image_size) < 1:
        raise ValueError(f"render_hands: image_size must be (height, width) >= 1, got {image_size}")
    if mode not in ("soft", "sharp"):
        raise ValueError(f"render_hands: mode must be 'soft' or 'sharp', got {mode!r}")
    if not torch.isfinite(verts[hand_mask]).all():
        raise ValueError("render_hands: verts of a real (unmasked) hand contain NaN or inf")
    real_K = K[hand_mask]
    if not torch.isfinite(real_K).all():
        raise ValueError("render_hands: K of a real (unmasked) hand contains NaN or inf")
    if not ((real_K[:, 0, 0] > 0).all() and (real_K[:, 1, 1] > 0).all()):
        raise ValueError(
            "render_hands: K of a real (unmasked) hand has a focal length fx or fy <= 0; pass (B, H, 3, 3) pixel intrinsics"
        )
    for name, tensor in (("colors", colors), ("sh", sh)):
        if tensor is not None and not torch.isfinite(tensor[hand_mask]).all():
            raise ValueError(f"render_hands: {name} of a real (unmasked) hand contain NaN or inf")


def _scatter(values: torch.Tensor, pixel: torch.Tensor, total: int, fill: torch.Tensor | float) -> torch.Tensor:
    """(N, ...) values at flat pixels -> (total, ...) filled elsewhere; differentiable in ``values``."""
    out = values.new_empty(total, *values.shape[1:])
    out[:] = fill
    return out.index_put((pixel,), values)


def render_hands(
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
) -> RenderOutput:
    """Renders several hand meshes per image, each through its own camera, occluding by depth.

    Args:
        verts: (B, H, V, 3) camera-frame vertices (metres, OpenCV axes: x right, y down,
            z forward). Padded slots may hold anything.
        faces: (F, 3) long faces shared by all hands, or (B, H, F, 3) per hand slot. Either
            winding renders the same silhouette (no back-face culling).
        K: (B, H, 3, 3) per-hand intrinsics in pixels (pixel centres at integers).
        hand_mask: (B, H) bool, False for padded slots, which render nothing.
        image_size: (h, w) of the output in pixels.
        colors: (B, H, V, 3) per-vertex albedo in [0, 1], or None for white.
        sh: (B, H, 9, 3) SH lighting per hand (see :mod:`smhr.render.sh`), or None for
            ambient light that shows the albedo unchanged.
        mode: "soft": SoftRas-style probabilistic coverage, differentiable in ``verts``,
            ``colors`` and ``sh`` (training losses). "sharp": z-buffer with
            ``settings.supersample``^2 samples per pixel (data synthesis, pictures);
            ``rgb`` and ``depth`` keep gradients inside faces, ``alpha`` does not.
        settings: see :class:`~smhr.render.settings.RenderSettings`.
        flip_winding: (B, H) bool: True for meshes with mirrored winding (left hands made by
            mirroring a right-hand model without reordering faces), whose normals are then
            negated for shading. None: all meshes wind counter-clockwise seen from outside
            (normal ``(v1 - v0) x (v2 - v0)`` points out).

    Returns:
        :class:`~smhr.render.settings.RenderOutput`: alpha (B, h, w), hand_index (B, h, w)
        (-1 background), depth (B, h, w) metres (0 background), rgb (B, h, w, 3).
    """
    check_inputs(verts, faces, K, hand_mask, image_size, colors, sh, mode, flip_winding)
    slots = real_slots_first(hand_mask)
    if slots is None:
        return _render(verts, faces, K, hand_mask, image_size, colors, sh, mode, settings, flip_winding)
    # Render only as many slots as the fullest image has hands: the per-face work (screen
    # coordinates, edge functions, shading, the face table and its backward) scales with the
    # slots, padded or not (a single-hand training batch has max_hands slots and one hand).
    # Real slots keep their order, so every face keeps its rank and the result is bitwise that
    # of rendering all slots (tests/render/test_api.py).
    def pick(t: torch.Tensor | None) -> torch.Tensor | None:
        return None if t is None else gather_slots(t, slots)

    out = _render(pick(verts), faces if faces.dim() == 2 else pick(faces), pick(K), pick(hand_mask), image_size,
                  pick(colors), pick(sh), mode, settings, pick(flip_winding))
    B = slots.shape[0]
    index = out.hand_index.reshape(B, -1)
    original = torch.where(index >= 0, slots.gather(1, index.clamp(min=0)), index)
    return out._replace(hand_index=original.view_as(out.hand_index))


def real_slots_first(hand_mask: torch.Tensor) -> torch.Tensor | None:
    """The slots to render: per image, its real slots in order, then padded ones, as many as the
    fullest image has real hands (at least one).

    Args:
        hand_mask: (B, H) bool.

    Returns:
        (B, n) long slot indices into H, n <= H, or None when n == H (nothing to drop).
    """
    H = hand_mask.shape[1]
    n = max(1, int(hand_mask.sum(1).max())) if hand_mask.numel() else H
    if n >= H:
        return None
    return torch.argsort((~hand_mask).to(torch.uint8), dim=1, stable=True)[:, :n]


def gather_slots(t: torch.Tensor, slots: torch.Tensor) -> torch.Tensor:
    """(B, H, ...) -> (B, n, ...): the given slots of each image (differentiable)."""
    index = slots.view(*slots.shape, *([1] * (t.dim() - 2))).expand(-1, -1, *t.shape[2:])
    return torch.gather(t, 1, index)


def _render(verts: torch.Tensor, faces: torch.Tensor, K: torch.Tensor, hand_mask: torch.Tensor, image_size: tuple[int, int],
            colors: torch.Tensor | None, sh: torch.Tensor | None, mode: Mode, settings: RenderSettings,
            flip_winding: torch.Tensor | None) -> RenderOutput:
    """:func:`render_hands` on checked inputs, every slot rendered."""
    if settings.backend != "smhr":
        from smhr.render import pytorch3d_backend

        if settings.backend == "pytorch3d" or pytorch3d_backend.available():
            return pytorch3d_backend.render_hands_pytorch3d(verts, faces, K, hand_mask, image_size, colors, sh, mode, settings, flip_winding)
    B, H, _, _ = verts.shape
    h, w = image_size
    soft = mode == "soft"
    scale = 1 if soft else settings.supersample
    size = (h * scale, w * scale)
    K = K.to(verts.dtype) if scale == 1 else scale_intrinsics(K.to(verts.dtype), scale)
    # padded slots may hold anything (NaN): zeros in, so nothing non-finite reaches a gradient
    real = hand_mask[:, :, None, None]
    verts = torch.where(real, verts, torch.zeros_like(verts))
    colors = None if colors is None else torch.where(real, colors, torch.zeros_like(colors))
    sh = None if sh is None else torch.where(real, sh, torch.zeros_like(sh))
    mesh = screen_mesh(verts, faces, K, hand_mask, settings.znear)
    radius = settings.blur_radius if soft else 0.0
    k = settings.faces_per_pixel if soft else 1
    selected = rasterize(mesh, size, k, radius, settings.znear, settings.tile_size, settings.max_pairs_per_chunk)
    fragments = compute_fragments(mesh, selected, size, with_distance=soft)
    colors_at = face_colors(fragments, shade_vertices(verts, faces, colors, sh, flip_winding))
    background = verts.new_tensor(settings.background)
    total = B * size[0] * size[1]

    first = fragments.face[:, 0].clamp(min=0)
    covered = fragments.covered
    hit_pixel = fragments.pixel[covered]
    hand_index = _scatter(mesh.face_hand[first][covered], hit_pixel, total, -1)
    depth = _scatter(fragments.zbuf[covered, 0], hit_pixel, total, 0.0)
    if soft:
        d = coverage(fragments.dist, fragments.valid, settings.sigma, settings.blur_threshold)
        alpha = _scatter(soft_silhouette(d), fragments.pixel, total, 0.0)
        blended = soft_blend(d, fragments.zbuf, colors_at, background, settings.gamma,
                             settings.background_eps, settings.znear, settings.zfar)
        rgb = _scatter(blended, fragments.pixel, total, background)
        return RenderOutput(alpha.view(B, h, w), hand_index.view(B, h, w), depth.view(B, h, w), rgb.view(B, h, w, 3))

    inside = _scatter(torch.ones_like(hit_pixel, dtype=verts.dtype), hit_pixel, total, 0.0)
    rgb = _scatter(colors_at[covered, 0], hit_pixel, total, background)
    return resolve_supersampled(inside.view(B, *size), hand_index.view(B, *size), depth.view(B, *size), rgb.view(B, *size, 3), scale)
