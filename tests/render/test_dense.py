"""The dense all-pairs reference (smhr/render/dense.py) against render_hands, gradients included.

render_hands keeps, per pixel, the z-buffer face and the ``faces_per_pixel - 1`` faces of largest
coverage among candidates found by tiles and bounding boxes; render_hands_dense evaluates every
face of the image. Both ignore faces beyond the blur radius (coverage below ``blur_threshold``).
Where ``faces_per_pixel`` is at least the number of faces within the blur radius of any pixel,
they compute the same sums and must agree to rounding; on hand meshes, whose faces are small
next to the blur radius, the default 8 faces per pixel truncate the sums, which is measured here.
"""

from __future__ import annotations

import pytest
import torch

from smhr.geometry.camera import crop_intrinsics
from smhr.render import RenderSettings, render_hands
from smhr.render.dense import render_hands_dense
from smhr.render.sh import sh_ambient
from tests.render.conftest import icosphere, intrinsics, tiny_box_scene

SIZE = (32, 40)


def _two_spheres(device):
    """Two overlapping icospheres (80 faces each) with random albedo and SH lighting, 32x40 px."""
    v, f = icosphere(1)
    gen = torch.Generator().manual_seed(1)
    verts = torch.stack([0.05 * v + torch.tensor([-0.01, 0.0, 0.5], dtype=v.dtype),
                         0.04 * v + torch.tensor([0.015, 0.005, 0.45], dtype=v.dtype)])[None]
    K = intrinsics(150.0, SIZE).expand(1, 2, 3, 3)
    colors = torch.rand(1, 2, len(v), 3, generator=gen, dtype=v.dtype)
    sh = sh_ambient(v.dtype).expand(1, 2, 9, 3) + 0.3 * torch.randn(1, 2, 9, 3, generator=gen, dtype=v.dtype)
    mask = torch.ones(1, 2, dtype=torch.bool)
    return [t.to(device) for t in (verts, f, K, mask, colors, sh)]


def _both(verts, faces, K, mask, size, **kwargs):
    return render_hands(verts, faces, K, mask, size, **kwargs), render_hands_dense(verts, faces, K, mask, size, **kwargs)


def test_small_scene_soft_matches_render_hands(device):
    verts, faces, K, mask, colors, sh = _two_spheres(device)
    settings = RenderSettings(faces_per_pixel=160)  # every face of the scene
    fast, dense = _both(verts, faces, K, mask, SIZE, colors=colors, sh=sh, settings=settings)
    assert (dense.hand_index >= 0).sum() > 300 and set(dense.hand_index.unique().tolist()) == {-1, 0, 1}
    assert ((dense.alpha > 0.01) & (dense.alpha < 0.99)).sum() > 50  # soft edges
    # Same sums over the same faces: rounding only (measured 4e-16 alpha, 1.2e-13 rgb; the rgb
    # weights are exp(z' / gamma) with gamma = 1e-4, which amplifies rounding of the depths).
    torch.testing.assert_close(dense.alpha, fast.alpha, rtol=0, atol=1e-10)
    torch.testing.assert_close(dense.rgb, fast.rgb, rtol=0, atol=1e-9)
    assert torch.equal(dense.hand_index, fast.hand_index)
    torch.testing.assert_close(dense.depth, fast.depth, rtol=0, atol=1e-12)


def test_small_scene_sharp_matches_render_hands(device):
    verts, faces, K, mask, colors, sh = _two_spheres(device)
    fast, dense = _both(verts, faces, K, mask, SIZE, colors=colors, sh=sh, mode="sharp")
    # Same z-buffer at 3x3 samples per pixel: identical up to rounding (measured 3e-16).
    assert torch.equal(dense.hand_index, fast.hand_index)
    for name in ("alpha", "depth", "rgb"):
        torch.testing.assert_close(getattr(dense, name), getattr(fast, name), rtol=0, atol=1e-9, msg=name)
    assert 0 < ((dense.alpha > 0) & (dense.alpha < 1)).sum()  # antialiased edges


def test_posed_hands_agree_with_render_hands(posed_hands):
    # The 96x96 scene's first image, cropped to its 32x32 centre where the two hands overlap
    # (the crop keeps the test fast: the reference evaluates 1024 px x 2976 faces), float32.
    verts, faces, K = posed_hands
    verts, K = verts[:1].float(), crop_intrinsics(K[:1].float(), 32, 32)
    mask = torch.ones(1, 2, dtype=torch.bool)
    size = (32, 32)
    with torch.no_grad():
        dense = render_hands_dense(verts, faces, K, mask, size)
        fast = render_hands(verts, faces, K, mask, size)  # default settings: 8 faces per pixel
        fast64 = render_hands(verts, faces, K, mask, size, settings=RenderSettings(faces_per_pixel=64))
        sharp_dense = render_hands_dense(verts, faces, K, mask, size, mode="sharp", settings=RenderSettings(supersample=1))
        sharp_fast = render_hands(verts, faces, K, mask, size, mode="sharp", settings=RenderSettings(supersample=1))
    fg_fast, fg_dense = fast.hand_index >= 0, dense.hand_index >= 0
    assert 200 < fg_dense.sum() < 1000 and set(dense.hand_index.unique().tolist()) == {-1, 0, 1}
    assert ((fg_fast & fg_dense).sum() / (fg_fast | fg_dense).sum()) >= 0.99
    both = fg_fast & fg_dense
    assert (fast.hand_index[both] == dense.hand_index[both]).float().mean() >= 0.99
    assert ((fast.depth - dense.depth)[both].abs() < 1e-5).float().mean() >= 0.99
    # Sharp mode is the same z-buffer (measured: identical on the 48x48 centre).
    assert (sharp_fast.hand_index == sharp_dense.hand_index).float().mean() >= 0.99
    for name in ("alpha", "depth"):
        assert ((getattr(sharp_fast, name) - getattr(sharp_dense, name)).abs() < 1e-5).float().mean() >= 0.99, name
    assert ((sharp_fast.rgb - sharp_dense.rgb).abs().amax(-1) < 1e-5).float().mean() >= 0.99
    # Soft alpha. The hand's faces are small next to the blur radius (3 px), so dozens of them
    # reach a pixel near an edge; render_hands sums the 8 of largest coverage, the reference all
    # of them. Dropping faces only lowers alpha. Measured on the 48x48 centre of this image:
    # |diff| median 3.4e-3, 90% 1.0e-2, 99% 7.1e-2, max 0.20; with 64 faces per pixel, max 2.6e-5
    # (float32 rounding of products over dozens of faces).
    diff = dense.alpha - fast.alpha
    assert diff.min() > -1e-4
    assert diff.abs().median() < 1e-2 and diff.abs().flatten().quantile(0.9) < 3e-2 and diff.abs().max() < 0.4
    torch.testing.assert_close(fast64.alpha, dense.alpha, rtol=0, atol=2e-4)
    # White hands on black: the colour is the faces' share of the blend weight, which the nearest
    # (kept) faces dominate (gamma = 1e-4): measured max |diff| 3.6e-7 with 8 faces per pixel.
    torch.testing.assert_close(fast.rgb, dense.rgb, rtol=0, atol=1e-4)


def _tiny_scene():
    """The rotated box of test_gradients.py, with albedo and SH."""
    verts, f, K, colors, sh = tiny_box_scene()
    return verts, f, K, torch.ones(1, 1, dtype=torch.bool), colors, sh


@pytest.mark.parametrize("mode", ["soft", "sharp"])
def test_gradients_agree_with_render_hands(mode):
    verts, faces, K, mask, colors, sh = _tiny_scene()
    settings = RenderSettings(sigma=2.0, faces_per_pixel=12, gamma=0.05)  # all 12 faces kept
    weights = torch.rand(4, 10, 10, generator=torch.Generator().manual_seed(0), dtype=verts.dtype)
    grads = []
    for render in (render_hands, render_hands_dense):
        v = verts.clone().requires_grad_(True)
        out = render(v, faces, K, mask, (10, 10), colors=colors, sh=sh, mode=mode, settings=settings)
        loss = (weights[0] * out.alpha).sum() + (weights[1:].permute(1, 2, 0) * out.rgb).sum() + 10.0 * out.depth.sum()
        grads.append(torch.autograd.grad(loss, v)[0])
    assert grads[1].abs().max() > 1.0
    # Same faces, same formulas: measured max |difference| / max |gradient| 5e-16 (soft), 1e-15 (sharp).
    torch.testing.assert_close(grads[1], grads[0], rtol=0, atol=1e-10 * grads[1].abs().max().item())


def test_soft_gradients_match_finite_differences():
    verts, faces, K, mask, colors, sh = _tiny_scene()
    settings = RenderSettings(sigma=2.0, gamma=0.05)

    def render(v, c, s):
        out = render_hands_dense(v, faces, K, mask, (10, 10), colors=c, sh=s, settings=settings, pixels_per_chunk=16)
        return out.alpha, out.rgb

    inputs = tuple(t.clone().requires_grad_(True) for t in (verts, colors, sh))
    assert torch.autograd.gradcheck(render, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=True)


@pytest.mark.parametrize("mode", ["soft", "sharp"])
def test_chunking_does_not_change_the_result(mode):
    verts, faces, K, mask, colors, sh = (t.clone() for t in _two_spheres(torch.device("cpu")))
    results = []
    for chunk in (173, 5000):
        v = verts.clone().requires_grad_(True)
        out = render_hands_dense(v, faces, K, mask, SIZE, colors=colors, sh=sh, mode=mode, pixels_per_chunk=chunk)
        grad = torch.autograd.grad(out.alpha.sum() + out.rgb.sum() + out.depth.sum(), v, allow_unused=True)[0]
        results.append((*out, grad))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_padded_slots_render_nothing_and_bad_input_is_named():
    verts, faces, K, mask, colors, sh = _two_spheres(torch.device("cpu"))
    mask = torch.tensor([[True, False]])
    garbage = verts.clone()
    garbage[0, 1] = torch.nan
    out = render_hands_dense(garbage, faces, K, mask, SIZE, colors=colors, sh=sh)
    alone = render_hands_dense(verts[:, :1], faces, K[:, :1], mask[:, :1], SIZE, colors=colors[:, :1], sh=sh[:, :1])
    for a, b in zip(out, alone):
        torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="mode"):
        render_hands_dense(verts, faces, K, mask, SIZE, mode="hard")
    with pytest.raises(ValueError, match="pixels_per_chunk"):
        render_hands_dense(verts, faces, K, mask, SIZE, pixels_per_chunk=0)
