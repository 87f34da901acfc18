"""Optional pytorch3d backend of :func:`smhr.render.render_hands` (same arguments, same output).

Selected with ``RenderSettings(backend="pytorch3d")`` (error when pytorch3d is missing) or
``backend="auto"`` (pytorch3d when importable, else this package's rasteriser). Nothing else
in the project depends on it, and this module imports without pytorch3d: pytorch3d is only
imported inside :func:`available` and :func:`rasterize_pytorch3d`.

How the interface maps onto pytorch3d:

* **One scene per image.** Every hand is projected with its own ``K`` to pixels, the pixels
  are mapped to pytorch3d's NDC (:func:`pixels_to_ndc`) and z stays the camera-frame depth
  (what ``MeshRasterizer`` hands to ``rasterize_meshes`` too), so all hands of an image share
  one screen and one z-buffer and are rasterised together in one call
  (``pytorch3d.renderer.mesh.rasterize_meshes.rasterize_meshes``, perspective-correct).
  Faces of padded slots and faces with a corner nearer than ``znear`` are dropped first.
* **Units.** pytorch3d's NDC spans ``[-1, 1]`` along the shorter image side, so one pixel is
  ``2 / min(h, w)`` NDC units; its ``blur_radius`` and ``dists`` are *squared* NDC distances.
  :func:`ndc_blur_radius` and :func:`dists_to_px2` convert from and to this package's px and
  px^2 (``RenderSettings.sigma`` is px^2 and is applied to the converted distances).
* **Screen axes.** pytorch3d's NDC has +X left and +Y up and puts pixel ``(row i, col j)``'s
  centre at ``((W - 1 - 2j) / S, (H - 1 - 2i) / S)``, ``S = min(H, W)``; our pixels (OpenCV
  axes, centres at integers) map there exactly (no half-pixel offset).
* **Shading and blending** are the default backend's own (:mod:`smhr.render.shaders`):
  the SH-shaded vertex colours of ``shade_vertices`` interpolated with pytorch3d's
  barycentrics; soft mode ``coverage``, ``soft_silhouette`` and ``soft_blend`` over the
  ``faces_per_pixel`` slots; sharp mode ``resolve_supersampled``.

Known differences from the default backend (see docs/render.md): pytorch3d keeps the
``faces_per_pixel`` faces *nearest in depth* within the blur radius (exact distance), the
default keeps the z-buffer face plus the faces of *largest coverage* (both count only
coverages of at least ``blur_threshold``, i.e. faces within the blur radius). When more faces than
``faces_per_pixel`` lie within the radius (hand faces of ~1 px at the default 3 px radius) the
soft sums run over different faces; with few faces per pixel pytorch3d's rule fills the slots
with an occluder's rim faces and leaves alpha holes beside occluding edges, so raise
``faces_per_pixel`` (e.g. 64) with this backend. In soft mode ``hand_index`` and ``depth`` come
from the nearest kept face that covers the pixel centre. pytorch3d rasterises in float32;
outputs are cast back to the dtype of ``verts``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import torch

from smhr.geometry.camera import project, scale_intrinsics
from smhr.render.settings import Mode, RenderOutput, RenderSettings
from smhr.render.shaders import coverage, resolve_supersampled, shade_vertices, soft_blend, soft_silhouette

MISSING_MESSAGE = (
    "RenderSettings(backend='pytorch3d') needs pytorch3d, which is an optional dependency of "
    "smhr and is not importable here. Install it following "
    "https://github.com/facebookresearch/pytorch3d/blob/main/INSTALL.md (prebuilt wheels for your "
    "torch/CUDA, or `pip install 'git+https://github.com/facebookresearch/pytorch3d.git'`), or use "
    "backend='smhr' (the default, needs nothing extra) or backend='auto' (pytorch3d when present)."
)


@lru_cache(maxsize=1)
def available() -> bool:
    """Whether pytorch3d's mesh rasteriser can be imported (checked once, then cached)."""
    try:
        from pytorch3d.renderer.mesh.rasterize_meshes import rasterize_meshes  # noqa: F401
        from pytorch3d.structures import Meshes  # noqa: F401
    except ImportError:
        return False
    return True


def require() -> None:
    """Raises ImportError with install instructions when pytorch3d is not importable."""
    if not available():
        raise ImportError(MISSING_MESSAGE)


# ---------------------------------------------------------------------------------------
# Unit conversions between this package's pixels and pytorch3d's NDC (pure, tested without
# pytorch3d).


def ndc_per_pixel(image_size: tuple[int, int]) -> float:
    """Length of one pixel in pytorch3d NDC units: ``2 / min(h, w)``."""
    return 2.0 / min(image_size)


def pixels_to_ndc(uv: torch.Tensor, image_size: tuple[int, int]) -> torch.Tensor:
    """OpenCV pixel coordinates (centres at integers) -> pytorch3d NDC (+X left, +Y up).

    Args:
        uv: (..., 2) pixel coordinates (column u, row v).
        image_size: (h, w) of the raster.

    Returns:
        (..., 2) NDC ``((w - 1 - 2u) / S, (h - 1 - 2v) / S)`` with ``S = min(h, w)``: pixel
        ``(row i, col j)``'s centre lands where pytorch3d's rasteriser samples that pixel.
    """
    h, w = image_size
    s = float(min(h, w))
    return torch.stack([(w - 1 - 2.0 * uv[..., 0]) / s, (h - 1 - 2.0 * uv[..., 1]) / s], -1)


def ndc_blur_radius(radius_px: float, image_size: tuple[int, int]) -> float:
    """pytorch3d's ``blur_radius`` (a *squared* NDC distance) for a radius given in pixels."""
    return (radius_px * ndc_per_pixel(image_size)) ** 2


def dists_to_px2(dists: torch.Tensor, image_size: tuple[int, int]) -> torch.Tensor:
    """pytorch3d's ``dists`` -> this package's signed squared distance in px^2.

    pytorch3d's are squared NDC distances, negative inside the face; ours are px^2, positive
    inside (so that coverage is ``sigmoid(d2 / sigma)`` with ``sigma`` in px^2).
    """
    return -dists / ndc_per_pixel(image_size) ** 2


# ---------------------------------------------------------------------------------------
# Scene packing and rasterisation.


class Scene(NamedTuple):
    """All hands of a batch as one pytorch3d-ready mesh per image.

    Attributes:
        points: (B, H*V, 3) vertices as (x_ndc, y_ndc, z) with z the camera-frame depth.
        faces: B tensors (F_b, 3) long, rows of ``points[b]`` (kept faces only).
        face_rows: (sum F_b, 3) long, rows of the flattened (B*H*V) vertex tensors of each
            packed face (pytorch3d's ``pix_to_face`` indexes this packed order).
        face_slot: (sum F_b,) long, hand slot ``b * H + h`` of each packed face.
    """

    points: torch.Tensor
    faces: list[torch.Tensor]
    face_rows: torch.Tensor
    face_slot: torch.Tensor


def pack_scene(verts: torch.Tensor, faces: torch.Tensor, K: torch.Tensor, hand_mask: torch.Tensor, image_size: tuple[int, int], znear: float) -> Scene:
    """Projects each hand with its own camera into one NDC screen per image.

    Args:
        verts: (B, H, V, 3) camera-frame vertices (finite; padded slots already zeroed).
        faces: (F, 3) or (B, H, F, 3) long.
        K: (B, H, 3, 3) intrinsics of the raster (already supersampled if needed).
        hand_mask: (B, H) bool.
        image_size: (h, w) of the raster.
        znear: faces with a corner nearer than this are dropped.

    Returns:
        :class:`Scene`.
    """
    B, H, V, _ = verts.shape
    ndc = pixels_to_ndc(project(verts, K), image_size)
    points = torch.cat([ndc, verts[..., 2:]], -1).reshape(B, H * V, 3)
    if faces.dim() == 2:
        faces = faces.expand(B, H, *faces.shape)
    F = faces.shape[2]
    local = (faces + (torch.arange(H, device=faces.device) * V).view(1, H, 1, 1)).reshape(B, H * F, 3)
    z = verts[..., 2].detach().reshape(B, H * V)
    keep = hand_mask.repeat_interleave(F, dim=1) & (torch.gather(z, 1, local.reshape(B, -1)).view(B, H * F, 3) >= znear).all(-1)
    slot = torch.arange(B * H, device=faces.device).view(B, H).repeat_interleave(F, dim=1)
    offset = (torch.arange(B, device=faces.device) * (H * V)).view(B, 1, 1)
    return Scene(points, [local[b][keep[b]] for b in range(B)], (local + offset)[keep], slot[keep])


class Rasterized(NamedTuple):
    """pytorch3d's rasteriser output (``Fragments`` fields), (B, h, w, k) unless stated.

    Attributes:
        pix_to_face: long packed face index, nearest in depth first, -1 for empty slots.
        zbuf: depth z at the (clipped) point of the face nearest the pixel centre.
        bary: (B, h, w, k, 3) perspective-correct barycentrics of that point.
        dists: signed squared NDC distance from the pixel centre to the face, negative inside.
    """

    pix_to_face: torch.Tensor
    zbuf: torch.Tensor
    bary: torch.Tensor
    dists: torch.Tensor


def rasterize_pytorch3d(points: torch.Tensor, faces: list[torch.Tensor], image_size: tuple[int, int], blur_radius: float, faces_per_pixel: int) -> Rasterized:
    """Runs pytorch3d's mesh rasteriser on NDC-space meshes (differentiable in ``points``).

    Args:
        points: (B, N, 3) (x_ndc, y_ndc, z) vertices, z the camera-frame depth.
        faces: B tensors (F_b, 3) long, rows of ``points[b]``.
        image_size: (h, w).
        blur_radius: squared NDC distance (see :func:`ndc_blur_radius`); 0 for hard edges.
        faces_per_pixel: k.

    Returns:
        :class:`Rasterized` in float32 (pytorch3d's kernels are float32 only).
    """
    require()
    from pytorch3d.renderer.mesh.rasterize_meshes import rasterize_meshes
    from pytorch3d.structures import Meshes

    points = points.float()
    meshes = Meshes(verts=list(points.unbind(0)), faces=faces)
    out = rasterize_meshes(
        meshes, image_size=tuple(image_size), blur_radius=blur_radius, faces_per_pixel=faces_per_pixel,
        perspective_correct=True, clip_barycentric_coords=True, cull_backfaces=False,
    )
    return Rasterized(*out)


# ---------------------------------------------------------------------------------------
# Shading and blending on pytorch3d's dense (B, h, w, k) fragments (pure torch).


def shade(face_rows: torch.Tensor, bary: torch.Tensor, vertex_rgb: torch.Tensor | None) -> torch.Tensor:
    """Per-fragment colour: the shaded vertex colours (:func:`smhr.render.shaders.shade_vertices`)
    interpolated with pytorch3d's barycentrics, as the default backend does.

    Args:
        face_rows: (..., 3) long vertex rows of each fragment's face.
        bary: (..., 3) barycentrics.
        vertex_rgb: (B*H*V, 3) or None (white).

    Returns:
        (..., 3) colours.
    """
    if vertex_rgb is None:
        return bary.new_ones(*bary.shape[:-1], 3)
    return (vertex_rgb[face_rows] * bary[..., None]).sum(-2)


def _empty(B: int, size: tuple[int, int], k: int, ref: torch.Tensor) -> Rasterized:
    """The rasteriser output of a scene without faces."""
    face = torch.full((B, *size, k), -1, dtype=torch.long, device=ref.device)
    zeros = ref.new_zeros(B, *size, k)
    return Rasterized(face, zeros, ref.new_zeros(B, *size, k, 3), zeros)


def render_hands_pytorch3d(
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
    """:func:`smhr.render.render_hands` on pytorch3d's rasteriser; same arguments and output.

    Called by ``render_hands`` (which validates the arguments) when ``settings.backend`` is
    "pytorch3d", or "auto" and pytorch3d is importable. See the module docstring for how
    units and axes are converted and how the result differs from the default backend.

    Args:
        verts, faces, K, hand_mask, image_size, colors, sh, mode, settings, flip_winding:
            as :func:`smhr.render.render_hands`.

    Returns:
        :class:`~smhr.render.settings.RenderOutput`.

    Raises:
        ImportError: pytorch3d is not importable (with install instructions).
    """
    require()
    B, H, V, _ = verts.shape
    h, w = image_size
    dtype = verts.dtype
    soft = mode == "soft"
    scale = 1 if soft else settings.supersample
    size = (h * scale, w * scale)
    K = K.to(dtype) if scale == 1 else scale_intrinsics(K.to(dtype), scale)
    verts = torch.where(hand_mask[:, :, None, None], verts, torch.zeros_like(verts))
    scene = pack_scene(verts, faces, K, hand_mask, size, settings.znear)
    k = settings.faces_per_pixel if soft else 1
    if scene.face_slot.numel() == 0:
        frags = _empty(B, size, k, verts)
    else:
        radius = ndc_blur_radius(settings.blur_radius, size) if soft else 0.0
        frags = rasterize_pytorch3d(scene.points, scene.faces, size, radius, k)
    valid = frags.pix_to_face >= 0
    face = frags.pix_to_face.clamp(min=0)
    zbuf, bary = frags.zbuf.to(dtype), frags.bary.to(dtype)
    d2 = torch.where(valid, dists_to_px2(frags.dists.to(dtype), size), torch.zeros_like(zbuf))

    # Nearest face covering the pixel centre: slots are sorted by depth, take the first inside.
    inside = valid & (d2 > 0)
    first = inside.to(torch.int32).argmax(-1, keepdim=True)  # first True
    hit = inside.any(-1)
    hand_index = torch.where(hit, scene.face_slot[face.gather(-1, first)[..., 0]] % H, -1)
    depth = torch.where(hit, zbuf.gather(-1, first)[..., 0], torch.zeros_like(zbuf[..., 0]))

    vertex_rgb = shade_vertices(verts, faces, None if colors is None else colors.to(dtype), None if sh is None else sh.to(dtype), flip_winding)
    face_colors = shade(scene.face_rows[face], bary, vertex_rgb)
    background = verts.new_tensor(settings.background)

    if soft:
        d = coverage(d2, valid, settings.sigma, settings.blur_threshold)
        rgb = soft_blend(d, zbuf, face_colors, background, settings.gamma, settings.background_eps, settings.znear, settings.zfar)
        return RenderOutput(soft_silhouette(d), hand_index, depth, rgb)

    covered = valid[..., 0]
    rgb = torch.where(covered[..., None], face_colors[..., 0, :], background)
    return resolve_supersampled(covered.to(dtype), hand_index, depth, rgb, scale)
