"""render_hands' contract: padded slots, per-hand faces, culling, batch independence, errors."""

from __future__ import annotations

import pytest
import torch

from smhr.render import RenderSettings, render_hands


def test_padded_slots_render_nothing(posed_hands, device):
    verts, faces, K = (t.to(device) for t in posed_hands)
    alone = render_hands(verts[:, :1], faces, K[:, :1], torch.ones(2, 1, dtype=torch.bool, device=device), (96, 96))
    garbage = verts.clone()
    garbage[:, 1] = float("nan")
    mask = torch.tensor([[True, False], [True, False]], device=device)
    padded = render_hands(garbage, faces, K, mask, (96, 96))
    for a, b in zip(alone, padded):
        torch.testing.assert_close(a, b)
    empty = render_hands(verts, faces, K, torch.zeros(2, 2, dtype=torch.bool, device=device), (96, 96))
    assert float(empty.alpha.abs().sum()) == 0.0 and bool((empty.hand_index == -1).all())


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
    (lambda a: a["verts"].__setitem__((0, 0, 0, 0), float("nan")), "NaN"),
])
def test_bad_input_gets_one_clear_error(posed_hands, change, message):
    verts, faces, K = posed_hands
    args = dict(verts=verts.clone(), faces=faces, K=K, hand_mask=torch.ones(2, 2, dtype=torch.bool), image_size=(96, 96))
    change(args)
    with pytest.raises(ValueError, match=message):
        render_hands(**args)


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="supersample"):
        RenderSettings(supersample=2)
    with pytest.raises(ValueError, match="sigma"):
        RenderSettings(sigma=0.0)
