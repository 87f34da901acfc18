"""SMHRNet end to end: map shapes, decoded shapes for 0, 1 and many hands, build choices."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from smhr.errors import ModelFileError
from smhr.model.build import BACKBONES, build_model, load_hand_models
from smhr.model.config import ModelConfig
from smhr.model.heads import HEATMAP_BIAS, num_params

from tests.model.conftest import TINY


@pytest.mark.parametrize("rotation", ["rot6d", "axis_angle"])
def test_forward_map_shapes(hand_models, rotation: str) -> None:
    cfg = ModelConfig(width=0.25, input_size=64, neck_channels=16, head_channels=8, rotation=rotation)
    net = build_model(cfg, *hand_models)
    with torch.no_grad():
        maps = net(torch.randn(3, 3, 64, 64))
    shapes = {k: tuple(v.shape) for k, v in maps._asdict().items()}
    assert shapes == {"center": (3, 2, 16, 16), "center_offset": (3, 2, 16, 16),
                      "params": (3, num_params(rotation), 16, 16), "keypoint_heatmap": (3, 21, 16, 16),
                      "keypoint_offset": (3, 42, 16, 16), "appearance": (3, 30, 16, 16)}
    assert num_params(rotation) == {"rot6d": 16 * 6 + 13, "axis_angle": 16 * 3 + 13}[rotation]
    assert all(v.dtype == torch.float32 for v in maps)
    # CenterNet's prior at initialisation: heatmap logits around -2.19 (sigmoid about 0.1).
    assert abs(float(maps.center.mean()) - HEATMAP_BIAS) < 0.2
    assert abs(float(maps.keypoint_heatmap.mean()) - HEATMAP_BIAS) < 0.2


def _force_centers(maps, cells: list[tuple[int, int, int, int]]):
    """Sets the centre logits: very negative everywhere, +4 at (b, side, y, x) of each cell."""
    center = torch.full_like(maps.center, -10.0)
    for b, s, y, x in cells:
        center[b, s, y, x] = 4.0
    return maps._replace(center=center)


@pytest.mark.parametrize("cells", [[], [(0, 1, 5, 7)], [(0, 0, 3, 3), (0, 1, 10, 12), (1, 1, 8, 8), (0, 0, 12, 2)]])
def test_decoded_shapes_for_zero_one_many_hands(tiny_model, cells) -> None:
    with torch.no_grad():
        maps = _force_centers(tiny_model(torch.randn(2, 3, 64, 64)), cells)
        pred = tiny_model.decode(maps)
    k, v = TINY.max_hands, tiny_model.hand_models[0].num_verts
    assert pred.mask.shape == (2, k) and pred.mask.dtype == torch.bool
    assert pred.vertices.shape == (2, k, v, 3) and pred.joints3d.shape == (2, k, 21, 3)
    assert pred.joints2d.shape == pred.keypoints2d.shape == (2, k, 21, 2)
    assert pred.hand_pose.shape == (2, k, 45) and pred.betas.shape == (2, k, 10)
    assert pred.albedo.shape == (2, k, v, 3) and pred.sh.shape == (2, k, 9, 3)
    assert pred.K.shape == (2, 3, 3) and pred.side.dtype == torch.int64
    per_image = pred.per_image()
    assert [len(h) for h in per_image] == [sum(c[0] == b for c in cells) for b in range(2)]
    for b, hands in enumerate(per_image):
        assert sorted(h.side for h in hands) == sorted(("left", "right")[c[1]] for c in cells if c[0] == b)
        for h in hands:
            assert h.vertices.shape == (v, 3) and (h.joints3d[:, 2] > 0).all()
    assert not pred.vertices[~pred.mask].any()  # padded slots are zeros


def test_predict_equals_forward_then_decode(tiny_model) -> None:
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        a = tiny_model.predict(x)
        b = tiny_model.decode(tiny_model(x))
    torch.testing.assert_close(a.score, b.score)
    torch.testing.assert_close(a.vertices, b.vertices)


def test_build_choices_and_hand_models(hand_models) -> None:
    assert sorted(BACKBONES) == ["resnet18", "resnet34", "resnet50"]
    right, left = hand_models
    net = build_model(TINY, right, left)
    assert net.hand_models[0] is left and net.hand_models[1] is right  # SIDES order
    assert net.hand_models[0].side == "left"


def test_load_hand_models_refuses_swapped_and_mismatched(procedural_model_files, fake_mano_files) -> None:
    with pytest.raises(ModelFileError, match="left hand but side='right'"):
        load_hand_models(procedural_model_files.left, procedural_model_files.right)
    with pytest.raises(ModelFileError, match="not the two sides of one hand model"):
        load_hand_models(procedural_model_files.right, fake_mano_files.left)


def test_neck_upsamples_each_stage_exactly_to_stride_4() -> None:
    from smhr.model.neck import L2Norm, Neck

    neck = Neck((8, 16, 32, 64), channels=12)
    feats = [torch.randn(2, c, 32 // 2**i, 32 // 2**i) for i, c in enumerate((8, 16, 32, 64))]
    ups = [branch(f) for branch, f in zip(neck.branches, feats[1:])]
    assert [tuple(u.shape) for u in ups] == [(2, 12, 32, 32)] * 3
    assert tuple(neck(feats).shape) == (2, 12, 32, 32)
    norm = L2Norm(12, init_scale=10.0)
    x = torch.randn(2, 12, 4, 4)
    assert_close(norm(x).norm(dim=1), torch.full((2, 4, 4), 10.0))
