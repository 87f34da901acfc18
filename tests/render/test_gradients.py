"""Gradients: finite differences in float64, and silhouette fitting that moves the right way."""

from __future__ import annotations

import torch

from smhr.render import RenderSettings, render_hands
from tests.render.conftest import intrinsics, tiny_box_scene


def _tiny_scene(device):
    return [t.to(device) for t in tiny_box_scene()]


def test_soft_mode_matches_finite_differences(device):
    verts, faces, K, colors, sh = _tiny_scene(device)
    mask = torch.ones(1, 1, dtype=torch.bool, device=device)
    settings = RenderSettings(sigma=2.0, faces_per_pixel=12, gamma=0.05)

    def render(v, c, s):
        out = render_hands(v, faces, K, mask, (10, 10), colors=c, sh=s, settings=settings)
        return out.alpha, out.rgb

    inputs = tuple(t.clone().requires_grad_(True) for t in (verts, colors, sh))
    assert render(*inputs)[0].sum() > 5.0  # the box is in view
    assert torch.autograd.gradcheck(render, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=True)


def test_sharp_depth_and_colour_match_finite_differences(device):
    verts, faces, K, colors, sh = _tiny_scene(device)
    mask = torch.ones(1, 1, dtype=torch.bool, device=device)

    def render(v, c, s):
        out = render_hands(v, faces, K, mask, (10, 10), colors=c, sh=s, mode="sharp", settings=RenderSettings(supersample=1))
        return out.depth, out.rgb

    inputs = tuple(t.clone().requires_grad_(True) for t in (verts, colors, sh))
    assert torch.autograd.gradcheck(render, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=True)


def test_fitting_a_silhouette_recovers_translation_and_rotation(hand_models, device):
    right = hand_models[0].to(device, torch.float32)
    size = (40, 40)
    K = intrinsics(70.0, size, torch.float32).expand(1, 1, 3, 3).to(device)
    mask = torch.ones(1, 1, dtype=torch.bool, device=device)
    settings = RenderSettings(sigma=2.0)
    pose = torch.zeros(1, 45, dtype=torch.float32, device=device)

    def silhouette(transl, angle):
        orient = torch.stack([torch.zeros_like(angle), torch.zeros_like(angle), angle], -1)[None]
        verts = right(global_orient=orient, hand_pose=pose, transl=transl[None]).vertices
        return render_hands(verts[None], right.faces, K, mask, size, settings=settings).alpha

    true_t = torch.tensor([-0.01, 0.02, 0.5], dtype=torch.float32, device=device)
    true_a = torch.tensor(0.2, dtype=torch.float32, device=device)
    with torch.no_grad():
        target = silhouette(true_t, true_a)
    t = (true_t + torch.tensor([0.015, -0.01, 0.0], dtype=torch.float32, device=device)).requires_grad_(True)
    a = torch.tensor(-0.1, dtype=torch.float32, device=device, requires_grad=True)
    opt = torch.optim.Adam([{"params": [t], "lr": 1.5e-3}, {"params": [a], "lr": 3e-2}])
    first = None
    for _ in range(40):
        opt.zero_grad()
        loss = ((silhouette(t, a) - target) ** 2).mean()
        first = float(loss.detach()) if first is None else first
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.05 * first
    assert float((t.detach() - true_t)[:2].norm()) < 0.2 * 0.018
    assert abs(float(a.detach() - true_a)) < 0.2 * 0.3


def test_face_geometry_backward_matches_finite_differences():
    """The hand-written backward of barycentrics, depth and signed distance, on pixels inside,
    outside and beyond a corner of random faces (float64)."""
    from smhr.render.fragments import _FaceGeometry

    gen = torch.Generator().manual_seed(7)
    n, k = 6, 3
    corners = 4.0 * torch.rand(n, k, 6, generator=gen, dtype=torch.float64)
    inv_z = 1.0 / (0.3 + torch.rand(n, k, 3, generator=gen, dtype=torch.float64))
    g = torch.cat([corners, inv_z], -1).requires_grad_(True)
    px = 5.0 * torch.rand(n, 1, generator=gen, dtype=torch.float64) - 0.5
    py = 5.0 * torch.rand(n, 1, generator=gen, dtype=torch.float64) - 0.5
    px[:3, 0] = corners[:3, 1, 0:3].mean(-1)  # inside face 1 of the first rows
    py[:3, 0] = corners[:3, 1, 3:6].mean(-1)
    valid = torch.ones(n, k, dtype=torch.bool)
    valid[0, 2] = False
    bary, zbuf, dist = _FaceGeometry.apply(g, px, py, valid, True)
    assert bool((dist > 0).any()) and bool((dist < 0).any()), "fixture needs pixels inside and outside faces"
    assert torch.autograd.gradcheck(lambda t: _FaceGeometry.apply(t, px, py, valid, True), (g,), eps=1e-6, atol=1e-6, rtol=1e-4)
    assert torch.autograd.gradcheck(lambda t: _FaceGeometry.apply(t, px, py, valid, False)[:2], (g,), eps=1e-6, atol=1e-6, rtol=1e-4)
