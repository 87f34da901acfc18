"""Sharp and soft rasterisation against the independent NumPy z-buffer (tests/render/reference.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from smhr.render import RenderSettings, render_hands
from tests.render.conftest import icosphere, intrinsics
from tests.render.reference import zbuffer


def _compare(verts, faces, K, mask, size, device, mode, settings=RenderSettings()):
    out = render_hands(verts.to(device), faces.to(device), K.to(device), mask.to(device), size, mode=mode, settings=settings)
    for b in range(verts.shape[0]):
        ref = zbuffer(verts[b].numpy(), faces.numpy(), K[b].numpy(), mask[b].numpy(), size)
        index = out.hand_index[b].cpu().numpy()
        depth = out.depth[b].cpu().numpy()
        fg, ref_fg = index >= 0, ref.hand_index >= 0
        assert ref_fg.sum() > 100, "test scene is empty"
        iou = (fg & ref_fg).sum() / (fg | ref_fg).sum()
        assert iou >= 0.99
        both = fg & ref_fg
        assert (index[both] == ref.hand_index[both]).mean() >= 0.99
        assert (np.abs(depth[both] - ref.depth[both]) < 1e-4).mean() >= 0.99
        assert np.all(depth[~fg] == 0.0)
    return out


@pytest.mark.parametrize("mode", ["sharp", "soft"])
def test_posed_hands_match_reference(posed_hands, device, mode):
    verts, faces, K = posed_hands
    mask = torch.ones(2, 2, dtype=torch.bool)
    out = _compare(verts, faces, K, mask, (96, 96), device, mode)
    # both hands are visible and they overlap
    for b in range(2):
        assert {0, 1} <= set(out.hand_index[b].unique().tolist())


def test_two_overlapping_spheres_occlude_by_depth(device):
    v, f = icosphere(3)
    size = (64, 80)
    verts = torch.stack([0.05 * v + torch.tensor([-0.02, 0.0, 0.5], dtype=v.dtype),
                         0.05 * v + torch.tensor([0.03, 0.01, 0.45], dtype=v.dtype)])[None]
    K = intrinsics(300.0, size).expand(1, 2, 3, 3)
    out = _compare(verts, f, K, torch.ones(1, 2, dtype=torch.bool), size, device, "sharp")
    # the nearer sphere (slot 1) wins the overlap: the image centre column between them
    assert out.hand_index[0, 32, 40].item() == 1


def test_tiling_and_chunking_do_not_change_the_result(posed_hands, device):
    verts, faces, K = (t.to(device) for t in posed_hands)
    mask = torch.ones(2, 2, dtype=torch.bool, device=device)
    base = render_hands(verts, faces, K, mask, (96, 96), mode="soft")
    for settings in (RenderSettings(tile_size=5), RenderSettings(tile_size=32, max_pairs_per_chunk=32 * 32)):
        other = render_hands(verts, faces, K, mask, (96, 96), mode="soft", settings=settings)
        for a, b in zip(base, other):
            torch.testing.assert_close(a, b)


def test_sharp_alpha_is_coverage(posed_hands, device):
    verts, faces, K = (t.to(device) for t in posed_hands)
    mask = torch.ones(2, 2, dtype=torch.bool, device=device)
    out = render_hands(verts, faces, K, mask, (96, 96), mode="sharp")
    assert out.alpha.min() >= 0 and out.alpha.max() <= 1
    # every pixel whose centre is covered has some coverage; fully empty 3x3 neighbourhoods have none
    assert bool((out.alpha[out.hand_index >= 0] > 0).all())
    fg = (out.hand_index >= 0).float()[:, None]
    dilated = torch.nn.functional.max_pool2d(fg, 3, stride=1, padding=1)[:, 0]
    assert bool((out.alpha[dilated == 0] == 0).all())
    one = render_hands(verts, faces, K, mask, (96, 96), mode="sharp", settings=RenderSettings(supersample=1))
    torch.testing.assert_close(one.alpha, (one.hand_index >= 0).to(one.alpha.dtype))
    torch.testing.assert_close(one.hand_index, out.hand_index)
