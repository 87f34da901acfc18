"""render_hands' contract: padded slots, per-hand faces, culling, batch independence, errors."""

from __future__ import annotations

import pytest
import torch

from smhr.render import RenderSettings, render_hands


def test_padded_slots_render_nothing(posed_hands, device):
    verts, faces, K = (t.to(device) for t in posed_hands)
    alone = render_hands(verts[:, :1], faces, K[:, :1], torch.ones(2, 1, dtype=torch.bool, device=device), (96, 96))
    garbage, garbage_K = verts.clone(), K.clone()
    garbage[:, 1] = float("nan")
    garbage_K[:, 1] = 0.0  # collate pads K with zeros
    mask = torch.tensor([[True, False], [True, False]], device=device)
    padded = render_hands(garbage, faces, garbage_K, mask, (96, 96))
    for a, b in zip(alone, padded):
        torch.testing.assert_close(a, b)
    empty = render_hands(verts, faces, K, torch.zeros(2, 2, dtype=torch.bool, device=device), (96, 96))
    assert float(empty.alpha.abs().sum()) == 0.0 and bool((empty.hand_index == -1).all())


@pytest.mark.parametrize("mode", ["soft", "sharp"])
def test_padded_slots_are_dropped_without_changing_a_bit(posed_hands, mode):
    """render_hands renders only as many slots as the fullest image has hands; the result,
    its gradients and its slot numbers are bitwise those of rendering every slot."""
    from smhr.render.renderer import _render, real_slots_first

    hands, faces, K2 = posed_hands
    V = hands.shape[2]
    # image 0: real hands in slots 1 and 3; image 1: one real hand in slot 2; the rest garbage
    place = {(0, 1): (0, 0), (0, 3): (0, 1), (1, 2): (1, 1)}
    mask = torch.zeros(2, 4, dtype=torch.bool)
    verts = torch.full((2, 4, V, 3), float("nan"), dtype=hands.dtype)
    K = torch.zeros(2, 4, 3, 3, dtype=hands.dtype)
    for (b, h), (sb, sh_) in place.items():
        mask[b, h] = True
        verts[b, h], K[b, h] = hands[sb, sh_], K2[sb, sh_]
    gen = torch.Generator().manual_seed(1)
    colors = torch.rand(2, 4, V, 3, generator=gen, dtype=hands.dtype)
    sh = 0.3 * torch.randn(2, 4, 9, 3, generator=gen, dtype=hands.dtype)
    flip = torch.tensor([[False, True, False, False], [False, False, True, False]])
    assert real_slots_first(mask).tolist() == [[1, 3], [2, 0]]

    colors[~mask], sh[~mask] = float("nan"), float("nan")  # padded slots may hold anything

    def run(fn):
        leaves = [t.clone().requires_grad_(True) for t in (verts, colors, sh)]
        out = fn(leaves[0], faces, K, mask, (96, 96), leaves[1], leaves[2], mode, RenderSettings(), flip)
        (out.alpha.square().sum() + out.rgb.square().sum() + out.depth.sum()).backward()
        return list(out) + [leaf.grad for leaf in leaves]

    dropped, every_slot = run(render_hands), run(_render)
    for a, b in zip(dropped, every_slot):
        assert torch.equal(a, b)
    assert set(dropped[1].unique().tolist()) == {-1, 1, 2, 3}  # slot numbers of the input, not of the packed slots
    for grad in dropped[4:]:  # verts, colors, sh: real slots get a gradient, padded ones exactly none
        assert float(grad[mask].abs().sum()) > 0.0 and bool((grad[~mask] == 0).all())


def test_per_hand_faces_and_batch_independence(posed_hands, device):
    verts, faces, K = (t.to(device) for t in posed_hands)
    mask = torch.ones(2, 2, dtype=torch.bool, device=device)
    shared = render_hands(verts, faces, K, mask, (96, 96), mode="sharp")
    per_hand = render_hands(verts, faces.expand(2, 2, *faces.shape), K, mask, (96, 96), mode="sharp")
    single = render_hands(verts[1:], faces, K[1:], mask[1:], (96, 96), mode="sharp")
    for a, b, c in zip(shared, per_hand, single):
        torch.testing.assert_close(a, b)
        torch.testing.assert_close(a[1:], c)


def test_faces_behind_the_near_plane_are_culled(posed_hands):
    verts, faces, K = posed_hands
    behind = verts.clone()
    behind[..., 2] = -behind[..., 2]
    out = render_hands(behind, faces, K, torch.ones(2, 2, dtype=torch.bool), (96, 96))
    assert float(out.alpha.sum()) == 0.0


@pytest.mark.parametrize("change, message", [
    (lambda a: a.update(verts=a["verts"][0]), "verts"),
    (lambda a: a.update(K=a["K"][:, :1]), "K"),
    (lambda a: a.update(hand_mask=a["hand_mask"].long()), "bool"),
    (lambda a: a.update(faces=a["faces"].int()), "faces"),
    (lambda a: a.update(mode="hard"), "mode"),
    (lambda a: a["verts"].__setitem__((0, 0, 0, 0), float("nan")), "verts .* NaN"),
    (lambda a: a["K"].__setitem__((0, 1, 0, 2), float("nan")), "K .* NaN"),
    (lambda a: a["K"].__setitem__((1, 0, 1, 1), float("inf")), "K .* NaN or inf"),
    (lambda a: a["K"][1, 1].zero_(), "K .* focal length"),
    (lambda a: a["K"][0, 0, 0, 0].neg_(), "K .* focal length"),
    (lambda a: a["colors"].__setitem__((0, 1, 7, 2), float("nan")), "colors .* NaN"),
    (lambda a: a["sh"].__setitem__((1, 0, 3, 0), float("inf")), "sh .* NaN or inf"),
])
def test_bad_input_gets_one_clear_error(posed_hands, change, message):
    verts, faces, K = posed_hands
    args = dict(verts=verts.clone(), faces=faces, K=K.clone(), hand_mask=torch.ones(2, 2, dtype=torch.bool), image_size=(96, 96),
                colors=torch.full_like(verts, 0.5), sh=torch.zeros(2, 2, 9, 3, dtype=verts.dtype))
    change(args)
    with pytest.raises(ValueError, match=message):
        render_hands(**args)


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="supersample"):
        RenderSettings(supersample=2)
    with pytest.raises(ValueError, match="sigma"):
        RenderSettings(sigma=0.0)


def test_faces_beyond_the_blur_radius_do_not_colour_a_pixel():
    """A nearer face whose corner lies just beyond the blur radius of a pixel passes the
    rasteriser's conservative candidate test; its coverage (below ``blur_threshold``) must
    count as zero, or at a small gamma its depth weight would swamp the covering face."""
    settings = RenderSettings()
    r = settings.blur_radius
    size, focal, centre = (21, 21), 50.0, 10.0

    def lift(uv, z):
        uv = torch.tensor(uv, dtype=torch.float64)
        return torch.cat([(uv - centre) * z / focal, torch.full((len(uv), 1), z, dtype=torch.float64)], 1)

    d = (r + 0.3) / 2**0.5  # corner of the near face, r + 0.3 px from pixel (10, 10)
    corner = (centre + d, centre + d)
    far = lift([(-40.0, -40.0), (60.0, -40.0), (10.0, 60.0)], 1.0)
    near = lift([corner, (corner[0] + 4, corner[1] + 1), (corner[0] + 1, corner[1] + 4)], 0.5)
    verts = torch.cat([far, near])[None, None]
    faces = torch.tensor([[0, 1, 2], [3, 4, 5]])
    colors = torch.tensor([[1.0, 0, 0]] * 3 + [[0, 1.0, 0]] * 3, dtype=torch.float64)[None, None]
    K = torch.tensor([[focal, 0, centre], [0, focal, centre], [0, 0, 1]], dtype=torch.float64).expand(1, 1, 3, 3)
    out = render_hands(verts, faces, K, torch.ones(1, 1, dtype=torch.bool), size, colors=colors, settings=settings)
    torch.testing.assert_close(out.rgb[0, 10, 10], torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64))
    # one pixel nearer to that corner, the near face is within reach and takes the colour
    assert out.rgb[0, 11, 11, 1] > 0.5
