"""SH lighting: basis, Lambertian constants, vertex normals, and shaded renders."""

from __future__ import annotations

import math

import torch

from smhr.render import RenderSettings, render_hands, sh_ambient, sh_shading, vertex_normals
from tests.render.conftest import icosphere, intrinsics


def _ramamoorthi_irradiance(n: torch.Tensor, L: torch.Tensor) -> torch.Tensor:
    """Irradiance by the quadratic form of Ramamoorthi & Hanrahan 2001, eq. 13 (their constants)."""
    c1, c2, c3, c4, c5 = 0.429043, 0.511664, 0.743125, 0.886227, 0.247708
    x, y, z = n.unbind(-1)
    L00, L1m1, L10, L11, L2m2, L2m1, L20, L21, L22 = L.unbind(-2)
    return (c1 * L22 * (x * x - y * y)[..., None] + c3 * L20 * (z * z)[..., None] + c4 * L00 - c5 * L20
            + 2 * c1 * (L2m2 * (x * y)[..., None] + L21 * (x * z)[..., None] + L2m1 * (y * z)[..., None])
            + 2 * c2 * (L11 * x[..., None] + L1m1 * y[..., None] + L10 * z[..., None]))


def test_shading_matches_the_published_quadratic_form():
    gen = torch.Generator().manual_seed(0)
    n = torch.randn(50, 3, generator=gen, dtype=torch.float64)
    n = n / n.norm(dim=-1, keepdim=True)
    L = torch.randn(50, 9, 3, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(sh_shading(n, L), _ramamoorthi_irradiance(n, L) / math.pi, atol=2e-6, rtol=1e-5)


def test_known_normal_known_irradiance():
    # only L_10 = 1 (light along +z): E(n) = A_1 * 0.488603 * z, shading = E / pi = (2/3) 0.488603 z
    L = torch.zeros(9, 3, dtype=torch.float64)
    L[2] = 1.0
    for z in (1.0, 0.5, -1.0):
        n = torch.tensor([math.sqrt(1 - z * z), 0.0, z], dtype=torch.float64)
        torch.testing.assert_close(sh_shading(n, L), torch.full((3,), 2.0 / 3.0 * 0.488603 * z, dtype=torch.float64), atol=1e-6, rtol=0)


def test_constant_lighting_gives_the_albedo():
    gen = torch.Generator().manual_seed(1)
    n = torch.randn(20, 3, generator=gen, dtype=torch.float64)
    n = n / n.norm(dim=-1, keepdim=True)
    torch.testing.assert_close(sh_shading(n, sh_ambient(torch.float64)), torch.ones(20, 3, dtype=torch.float64))


def test_vertex_normals_point_out_and_flip():
    v, f = icosphere(2)
    verts = (0.1 * v + torch.tensor([0.0, 0.0, 0.5], dtype=v.dtype))[None, None]
    n = vertex_normals(verts, f)[0, 0]
    assert float((n * v).sum(-1).min()) > 0.99
    flipped = vertex_normals(verts, f[:, [0, 2, 1]], torch.tensor([[True]]))[0, 0]
    torch.testing.assert_close(flipped, n)


def _sphere_scene(device, flip: bool = False):
    v, f = icosphere(3)
    size = (48, 48)
    verts = (0.05 * v + torch.tensor([0.0, 0.0, 0.5], dtype=v.dtype))[None, None].to(device)
    faces = (f[:, [0, 2, 1]] if flip else f).to(device)
    K = intrinsics(150.0, size).expand(1, 1, 3, 3).to(device)  # sphere radius 15 px
    gen = torch.Generator().manual_seed(2)
    colors = torch.rand(1, 1, v.shape[0], 3, generator=gen, dtype=v.dtype).to(device)
    return verts, faces, K, torch.ones(1, 1, dtype=torch.bool, device=device), size, colors


def test_ambient_render_shows_the_albedo(device):
    verts, faces, K, mask, size, colors = _sphere_scene(device)
    sh = sh_ambient(torch.float64, device).expand(1, 1, 9, 3)
    for mode in ("sharp", "soft"):
        lit = render_hands(verts, faces, K, mask, size, colors=colors, sh=sh, mode=mode)
        plain = render_hands(verts, faces, K, mask, size, colors=colors, mode=mode)
        torch.testing.assert_close(lit.rgb, plain.rgb)


def test_rendered_sphere_centre_has_the_known_irradiance(device):
    verts, faces, K, mask, size, _ = _sphere_scene(device)
    sh = torch.zeros(1, 1, 9, 3, dtype=torch.float64, device=device)
    sh[..., 0, :] = 2.0 * math.sqrt(math.pi)  # ambient 1
    sh[..., 2, :] = -1.0  # light towards -z, i.e. from the camera side
    out = render_hands(verts, faces, K, mask, size, sh=sh, mode="sharp", settings=RenderSettings(supersample=1))
    # the sphere's centre pixel sees normal (0, 0, -1): shading = 1 + (2/3) 0.488603
    expected = 1.0 + 2.0 / 3.0 * 0.488603
    torch.testing.assert_close(out.rgb[0, 23:25, 23:25], torch.full((2, 2, 3), expected, dtype=torch.float64, device=device), atol=5e-3, rtol=0)
    # the rim faces sideways: less light than the centre
    row = out.rgb[0, 24, :, 0]
    lit = row[out.hand_index[0, 24] >= 0]
    assert float(lit[0]) < expected - 0.2 and float(lit[-1]) < expected - 0.2


def test_left_hand_winding_is_handled(device):
    verts, faces, K, mask, size, colors = _sphere_scene(device)
    _, mirrored, _, _, _, _ = _sphere_scene(device, flip=True)
    sh = torch.zeros(1, 1, 9, 3, dtype=torch.float64, device=device)
    sh[..., 2, :] = -1.0
    right = render_hands(verts, faces, K, mask, size, colors=colors, sh=sh)
    left = render_hands(verts, mirrored, K, mask, size, colors=colors, sh=sh, flip_winding=torch.tensor([[True]], device=device))
    unflipped = render_hands(verts, mirrored, K, mask, size, colors=colors, sh=sh)
    for a, b in zip(right, left):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(unflipped.alpha, right.alpha)  # silhouettes ignore winding
    assert float((unflipped.rgb - right.rgb).abs().max()) > 0.1  # shading does not
