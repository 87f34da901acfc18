"""The optional pytorch3d backend (smhr/render/pytorch3d_backend.py).

pytorch3d is not installable in the project's environment, so the backend is tested twice:

* always: its pure helpers, the missing-pytorch3d behaviour, and the whole backend (scene
  packing, face -> hand mapping, unit conversions, supersampling, shading, SoftRas blending)
  on :func:`emulated_rasterize_meshes`, a brute-force torch transcription of the documented
  behaviour of ``pytorch3d.renderer.mesh.rasterize_meshes`` (its ``rasterize_meshes_python``
  reference: pixel centres from ``pix_to_non_square_ndc`` on flipped indices, squared NDC
  distances negative inside, the ``faces_per_pixel`` nearest in depth within the squared blur
  radius, perspective-correct then clipped barycentrics);
* when pytorch3d is importable: the same parity checks on the real rasteriser, and the
  emulation against it.
"""

from __future__ import annotations

import math

import pytest
import torch

from smhr.geometry.camera import project
from smhr.render import RenderSettings, render_hands, sh_ambient
from smhr.render import pytorch3d_backend as p3d
from tests.render.conftest import icosphere, intrinsics

HAS_PYTORCH3D = p3d.available()


# ---------------------------------------------------------------------------------------
# Emulation of pytorch3d's rasterize_meshes (written from its documented Python reference).


def _pix_to_non_square_ndc(i: torch.Tensor, s1: int, s2: int) -> torch.Tensor:
    ndc_range = 2.0 * s1 / s2 if s1 > s2 else 2.0
    offset = ndc_range / 2.0
    return -offset + (ndc_range * i + offset) / s1


def _pixel_centres_ndc(image_size: tuple[int, int], dtype=torch.float64) -> torch.Tensor:
    """(h, w, 2) NDC of pytorch3d's sample of pixel (row, col): indices flipped, +X left, +Y up."""
    h, w = image_size
    yi, xi = torch.meshgrid(torch.arange(h, dtype=dtype), torch.arange(w, dtype=dtype), indexing="ij")
    return torch.stack([_pix_to_non_square_ndc(w - 1 - xi, w, h), _pix_to_non_square_ndc(h - 1 - yi, h, w)], -1)


def _edge(p, a, b):
    return (p[..., 0] - a[..., 0]) * (b[..., 1] - a[..., 1]) - (p[..., 1] - a[..., 1]) * (b[..., 0] - a[..., 0])


def _segment_dist2(p, a, b):
    ab = b - a
    t = (((p - a) * ab).sum(-1) / (ab * ab).sum(-1).clamp(min=1e-30)).clamp(0.0, 1.0)
    d = a + t[..., None] * ab - p
    return (d * d).sum(-1)


def emulated_rasterize_meshes(points, faces, image_size, blur_radius, faces_per_pixel) -> p3d.Rasterized:
    """Same arguments and output as :func:`smhr.render.pytorch3d_backend.rasterize_pytorch3d`."""
    h, w = image_size
    k = faces_per_pixel
    B = points.shape[0]
    pix = _pixel_centres_ndc(image_size, points.dtype).to(points.device).reshape(-1, 1, 2)
    out = [torch.full((B, h * w, k), -1, dtype=torch.long, device=points.device)]
    out += [points.new_full((B, h * w, k), -1.0), points.new_full((B, h * w, k, 3), -1.0), points.new_full((B, h * w, k), -1.0)]
    first = 0
    for b in range(B):
        fv_all = points[b][faces[b]]  # (F, 3, 3)
        # only faces whose blur-grown bounding box meets a block of pixels (to save time)
        grow = math.sqrt(blur_radius) + 1e-6
        lo, hi = fv_all[:, :, :2].amin(1) - grow, fv_all[:, :, :2].amax(1) + grow
        for y0 in range(0, h, 16):
            for x0 in range(0, w, 16):
                sel = ((torch.arange(y0, min(h, y0 + 16)) * w)[:, None] + torch.arange(x0, min(w, x0 + 16))).reshape(-1).to(points.device)
                _rasterize_block(out, b, sel, pix[sel], fv_all, lo, hi, first, blur_radius, k)
        first += len(fv_all)
    return p3d.Rasterized(out[0].view(B, h, w, k), out[1].view(B, h, w, k), out[2].view(B, h, w, k, 3), out[3].view(B, h, w, k))


def _rasterize_block(out, b, sel, p, fv_all, lo, hi, first, blur_radius, k) -> None:
    """Writes the emulated rasteriser output of pixels ``sel`` (NDC centres ``p``) of image b."""
    p_lo, p_hi = p[:, 0].amin(0), p[:, 0].amax(0)
    ids = ((hi >= p_lo) & (lo <= p_hi)).all(-1).nonzero()[:, 0]
    if len(ids) == 0:
        return
    fv = fv_all[ids]
    v0, v1, v2 = fv[:, 0, :2], fv[:, 1, :2], fv[:, 2, :2]
    z = fv[:, :, 2]
    area = _edge(v2, v0, v1)
    l = torch.stack([_edge(p, v1, v2), _edge(p, v2, v0), _edge(p, v0, v1)], -1) / area[:, None]
    top = l * torch.stack([z[:, 1] * z[:, 2], z[:, 0] * z[:, 2], z[:, 0] * z[:, 1]], -1)
    bary = top / top.sum(-1, keepdim=True)
    inside = (bary > 0).all(-1)
    clip = bary.clamp(min=0.0)
    clip = clip / clip.sum(-1, keepdim=True).clamp(min=1e-5)
    pz = (clip * z).sum(-1)
    dist = torch.minimum(torch.minimum(_segment_dist2(p, v0, v1), _segment_dist2(p, v0, v2)), _segment_dist2(p, v1, v2))
    keep = (area != 0) & (z.amin(-1) >= 1e-8) & (inside | (dist < blur_radius)) & (pz >= 0)
    key = torch.where(keep, pz, torch.inf)
    best, arg = key.topk(min(k, len(fv)), dim=-1, largest=False)
    ok = torch.isfinite(best)
    kk = best.shape[-1]
    signed = torch.where(inside, -dist, dist).gather(-1, arg)
    out[0][b, sel, :kk] = torch.where(ok, ids[arg] + first, -1)
    out[1][b, sel, :kk] = torch.where(ok, best, -1.0)
    out[2][b, sel, :kk] = torch.where(ok[..., None], clip.gather(1, arg[..., None].expand(-1, -1, 3)), -1.0)
    out[3][b, sel, :kk] = torch.where(ok, signed, -1.0)


@pytest.fixture(params=["emulated", pytest.param("pytorch3d", marks=pytest.mark.skipif(not HAS_PYTORCH3D, reason="pytorch3d not installed"))])
def rasterizer(request, monkeypatch) -> str:
    """Runs a test on the emulated rasteriser (always) and on pytorch3d's (when importable)."""
    if request.param == "emulated":
        monkeypatch.setattr(p3d, "available", lambda: True)
        monkeypatch.setattr(p3d, "rasterize_pytorch3d", emulated_rasterize_meshes)
    return request.param


# ---------------------------------------------------------------------------------------
# Scenes and comparison helpers.


def two_spheres(dtype=torch.float64):
    """Two overlapping icospheres, each seen through its own K, plus a padded slot.

    Returns:
        verts (2, 3, V, 3), faces (F, 3), K (2, 3, 3, 3), mask (2, 3) for a 64x80 image.
    """
    v, f = icosphere(2)
    centres = torch.tensor([[[-0.04, 0.0, 0.5], [0.05, 0.02, 0.55], [0.0, 0.0, 0.5]],
                            [[0.0, -0.03, 0.45], [0.01, 0.04, 0.5], [0.0, 0.0, 0.5]]], dtype=dtype)
    radii = torch.tensor([[0.08, 0.1, 0.1], [0.07, 0.09, 0.1]], dtype=dtype)
    verts = v.to(dtype) * radii[..., None, None] + centres[:, :, None, :]
    K = intrinsics(1.0, (64, 80), dtype).expand(2, 3, 3, 3).clone()
    focal = torch.tensor([[150.0, 170.0, 160.0], [140.0, 160.0, 160.0]], dtype=dtype)
    K[..., 0, 0], K[..., 1, 1] = focal, focal
    K[1, 1, 0, 2] += 3.0  # a principal point off the centre
    mask = torch.tensor([[True, True, False], [True, True, False]])
    return verts, f, K, mask


def smooth_colors(verts: torch.Tensor) -> torch.Tensor:
    """(B, H, V, 3) albedo varying smoothly over each mesh, in [0, 1]."""
    local = verts - verts.mean(2, keepdim=True)
    return 0.5 + 0.5 * torch.tanh(local / local.abs().amax(2, keepdim=True))


def assert_sharp_parity(ours, ref, min_pixels: int = 100) -> None:
    """hand_index IoU >= 0.99, same hand on >= 99% of common pixels, depth within 0.1 mm there."""
    fg, ref_fg = ours.hand_index >= 0, ref.hand_index >= 0
    assert int(ref_fg.sum()) > min_pixels, "test scene is empty"
    iou = float((fg & ref_fg).sum() / (fg | ref_fg).sum())
    assert iou >= 0.99, iou
    both = fg & ref_fg
    assert float((ours.hand_index[both] == ref.hand_index[both]).double().mean()) >= 0.99
    assert float(((ours.depth[both] - ref.depth[both]).abs() < 1e-4).double().mean()) >= 0.99
    assert bool((ours.depth[~fg] == 0).all())


# ---------------------------------------------------------------------------------------
# Always run: settings, missing pytorch3d, pure helpers.


def test_unknown_backend_is_rejected():
    with pytest.raises(ValueError, match="backend"):
        RenderSettings(backend="nope")


@pytest.mark.skipif(HAS_PYTORCH3D, reason="pytorch3d is installed")
def test_missing_pytorch3d_gives_one_clear_error(posed_hands):
    verts, faces, K = posed_hands
    with pytest.raises(ImportError) as info:
        render_hands(verts, faces, K, torch.ones(2, 2, dtype=torch.bool), (96, 96), settings=RenderSettings(backend="pytorch3d"))
    message = str(info.value)
    for part in ("optional", "pytorch3d", "INSTALL", "backend='smhr'", "default"):
        assert part in message


@pytest.mark.skipif(HAS_PYTORCH3D, reason="pytorch3d is installed")
@pytest.mark.parametrize("mode", ["soft", "sharp"])
def test_auto_without_pytorch3d_is_the_default_backend(posed_hands, mode):
    verts, faces, K = posed_hands
    args = (verts, faces, K, torch.ones(2, 2, dtype=torch.bool), (96, 96))
    colors, sh = smooth_colors(verts), sh_ambient(torch.float64).expand(2, 2, 9, 3) * 0.9
    auto = render_hands(*args, colors, sh, mode, RenderSettings(backend="auto"))
    default = render_hands(*args, colors, sh, mode, RenderSettings())
    for a, b in zip(auto, default):
        assert torch.equal(a, b)


@pytest.mark.parametrize("size", [(64, 128), (128, 64), (96, 96)])
def test_pixels_to_ndc_hits_pytorch3d_pixel_centres(size):
    h, w = size
    v, u = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    ndc = p3d.pixels_to_ndc(torch.stack([u, v], -1), size)
    torch.testing.assert_close(ndc, _pixel_centres_ndc(size))
    # the shorter side spans [-1, 1] edge to edge, +X left, +Y up
    corners = p3d.pixels_to_ndc(torch.tensor([[-0.5, -0.5], [w - 0.5, h - 0.5]], dtype=torch.float64), size)
    s = min(h, w)
    torch.testing.assert_close(corners, torch.tensor([[w / s, h / s], [-w / s, -h / s]], dtype=torch.float64))


def test_unit_conversions_agree_with_the_pixel_mapping():
    size = (48, 80)
    a, b = torch.tensor([[3.0, 7.0]]), torch.tensor([[3.0 + 0.6, 7.0 + 0.8]])  # 1 px apart
    d_ndc = (p3d.pixels_to_ndc(a, size) - p3d.pixels_to_ndc(b, size)).norm()
    assert math.isclose(float(d_ndc), p3d.ndc_per_pixel(size), rel_tol=1e-6)
    r = 2.5
    assert math.isclose(p3d.ndc_blur_radius(r, size), (r * float(d_ndc)) ** 2, rel_tol=1e-6)
    # pytorch3d's dists: squared NDC, negative inside -> ours: px^2, positive inside
    dists = torch.tensor([-(1.5 * 2 / 48) ** 2, (0.5 * 2 / 48) ** 2])
    torch.testing.assert_close(p3d.dists_to_px2(dists, size), torch.tensor([2.25, -0.25]))


def test_pack_scene_projects_each_hand_with_its_own_camera():
    verts, faces, K, mask = two_spheres()
    verts = verts.clone()
    verts[0, 1, 0, 2] = 0.001  # vertex 0 of hand (0, 1) is nearer than znear: its faces go
    near = (faces == 0).any(1)
    scene = p3d.pack_scene(verts, faces, K, mask, (64, 80), znear=0.01)
    B, H, V, _ = verts.shape
    F = len(faces)
    expected = p3d.pixels_to_ndc(project(verts, K), (64, 80))
    torch.testing.assert_close(scene.points.view(B, H, V, 3)[..., :2], expected)
    torch.testing.assert_close(scene.points.view(B, H, V, 3)[..., 2], verts[..., 2])
    assert [len(f) for f in scene.faces] == [2 * F - int(near.sum()), 2 * F]  # padded slot dropped
    # packed rows = per-image rows offset by the image's first vertex row
    assert torch.equal(torch.cat([f + b * H * V for b, f in enumerate(scene.faces)]), scene.face_rows)
    keep = mask.reshape(-1).repeat_interleave(F)
    keep[F:2 * F] &= ~near
    hand_faces = faces.repeat(B * H, 1) + (torch.arange(B * H) * V).repeat_interleave(F)[:, None]
    assert torch.equal(scene.face_rows, hand_faces[keep])
    assert torch.equal(scene.face_slot, torch.arange(B * H).repeat_interleave(F)[keep])


def test_shade_interpolates_the_shaded_vertex_colours():
    rgb = torch.rand(6, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    rows = torch.tensor([[0, 1, 2], [3, 4, 5]])
    bary = torch.tensor([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(p3d.shade(rows, bary, rgb), torch.stack([0.2 * rgb[0] + 0.3 * rgb[1] + 0.5 * rgb[2], rgb[3]]))
    torch.testing.assert_close(p3d.shade(rows, bary, None), torch.ones(2, 3, dtype=torch.float64))


# ---------------------------------------------------------------------------------------
# Parity with backend="smhr": emulated rasteriser always, pytorch3d's when importable.


@pytest.mark.parametrize("scene", ["spheres", "hands"])
def test_sharp_parity(rasterizer, device, posed_hands, scene):
    if scene == "spheres":
        verts, faces, K, mask = two_spheres()
        size, settings = (64, 80), {}
    else:  # supersample 1 keeps the brute-force emulation fast on the 3000-face scene
        (verts, faces, K), mask, size, settings = posed_hands, torch.ones(2, 2, dtype=torch.bool), (96, 96), dict(supersample=1)
    colors = smooth_colors(verts)
    args = [t.to(device) for t in (verts, faces, K, mask)] + [size, colors.to(device)]
    ref = render_hands(*args, mode="sharp", settings=RenderSettings(**settings))
    ours = render_hands(*args, mode="sharp", settings=RenderSettings(backend="pytorch3d", **settings))
    assert_sharp_parity(ours, ref)
    assert {0, 1} <= set(ours.hand_index.unique().tolist())
    # alpha and rgb average the samples; they differ only where the two rasterisers decide
    # a sample lying on an edge differently (a tie, float32 in pytorch3d)
    assert float((ours.alpha - ref.alpha).abs().mean()) < 2e-3
    covered = (ours.alpha == 1) & (ref.alpha == 1) & (ours.hand_index == ref.hand_index)
    assert int(covered.sum()) > 100
    torch.testing.assert_close(ours.rgb[covered], ref.rgb[covered], atol=1e-4, rtol=0)


def test_soft_parity_spheres(rasterizer, device):
    # The sphere faces are 4-10 px wide: at most 40 faces lie within the blur radius
    # (3.03 px) of any pixel here (counted with the emulation), so with faces_per_pixel = 64
    # both backends keep every face within the radius and apply the same formulas.
    # Both count only coverages >= blur_threshold (faces within the radius by exact distance),
    # so alpha agrees to rounding (measured with the float64 emulation: 4e-15) and so does rgb at
    # the default gamma 1e-4 (99th percentile 1e-12, one pixel of 3398 at 3e-3 where two faces
    # at the same depth swap order). The bounds leave room for pytorch3d's float32 kernels.
    verts, faces, K, mask = two_spheres()
    colors = smooth_colors(verts)
    args = [t.to(device) for t in (verts, faces, K, mask)] + [(64, 80), colors.to(device)]
    settings = dict(faces_per_pixel=64)
    ref = render_hands(*args, settings=RenderSettings(**settings))
    ours = render_hands(*args, settings=RenderSettings(backend="pytorch3d", **settings))
    assert_sharp_parity(ours, ref)
    torch.testing.assert_close(ours.alpha, ref.alpha, atol=1e-4, rtol=0)
    covered = (ref.alpha > 0.99) & (ours.alpha > 0.99)
    assert int(covered.sum()) > 1000
    diff = (ours.rgb[covered] - ref.rgb[covered]).abs().amax(-1)
    assert float((diff < 1e-3).double().mean()) >= 0.99 and float(diff.mean()) < 1e-4


@pytest.mark.slow
def test_soft_parity_hands(rasterizer, device, posed_hands):
    # Hand faces are ~1 px wide here: up to 150+ faces lie within the 3 px blur radius, so
    # no faces_per_pixel makes the two selections equal (pytorch3d keeps the nearest in
    # depth, smhr the z-buffer face plus those of largest coverage). With 64 faces both
    # alphas saturate inside the silhouette and differ at a few rim pixels behind occluding
    # fingers (measured with the emulation: mean 6e-5, 51 of 18432 pixels above 2e-3, 14
    # above 1e-2). The bounds below are about 5x those. (With the default 8 faces pytorch3d's
    # nearest-in-depth rule fills the slots with the occluder's rim faces and leaves holes of
    # alpha ~0 beside finger edges, SoftRas' known need for enough faces per pixel.)
    verts, faces, K = posed_hands
    mask = torch.ones(2, 2, dtype=torch.bool)
    args = [t.to(device) for t in (verts, faces, K, mask)] + [(96, 96)]
    settings = dict(faces_per_pixel=64)
    ref = render_hands(*args, settings=RenderSettings(**settings))
    ours = render_hands(*args, settings=RenderSettings(backend="pytorch3d", **settings))
    assert_sharp_parity(ours, ref)
    diff = (ours.alpha - ref.alpha).abs()
    assert float(diff.mean()) < 5e-4, float(diff.mean())
    assert int((diff > 1e-2).sum()) <= 70, int((diff > 1e-2).sum())


def test_gradients_reach_vertices_colours_and_light(rasterizer, device):
    verts, faces, K, mask = two_spheres()
    verts = verts.to(device).requires_grad_()
    colors = smooth_colors(verts.detach()).requires_grad_()
    sh = (sh_ambient(torch.float64, device) * 0.8).expand(2, 3, 9, 3).clone().requires_grad_()
    out = render_hands(verts, faces.to(device), K.to(device), mask.to(device), (64, 80), colors, sh,
                       settings=RenderSettings(backend="pytorch3d"))
    (out.alpha.sum() + out.rgb.sum() + out.depth.sum()).backward()
    for t in (verts, colors, sh):
        assert t.grad is not None and torch.isfinite(t.grad).all() and t.grad[:, :2].abs().sum() > 0
    assert float(verts.grad[:, 2].abs().sum()) == 0.0  # padded slot


@pytest.mark.skipif(not HAS_PYTORCH3D, reason="pytorch3d not installed")
def test_emulation_matches_pytorch3d():
    verts, faces, K, mask = two_spheres()
    scene = p3d.pack_scene(verts, faces, K, mask, (64, 80), znear=0.01)
    radius = p3d.ndc_blur_radius(RenderSettings().blur_radius, (64, 80))
    real = p3d.rasterize_pytorch3d(scene.points.float(), scene.faces, (64, 80), radius, 16)
    emulated = emulated_rasterize_meshes(scene.points.float(), scene.faces, (64, 80), radius, 16)
    same = real.pix_to_face == emulated.pix_to_face
    assert float(same.double().mean()) > 0.999
    valid = same & (real.pix_to_face >= 0)
    for a, b in zip(real[1:], emulated[1:]):
        torch.testing.assert_close(a[valid], b[valid].to(a.dtype), atol=1e-5, rtol=1e-5)
