"""Camera term: translation decoding inverts the projection, with the default K and another one."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from smhr.model.camera import (DEFAULT_FOV_DEG, camera_from_root, default_focal, default_intrinsics,
                               root_from_camera)
from smhr.model.config import ModelConfig
from smhr.model.decode import decode
from smhr.errors import ConfigError
from smhr.model.heads import HeadMaps, num_params, params_layout, params_rest

from tests.model.test_decode import STRIDE, blank_maps


def test_default_focal_is_the_documented_field_of_view() -> None:
    f = default_focal(128)
    assert 2 * math.degrees(math.atan(64 / f)) == pytest.approx(DEFAULT_FOV_DEG)
    K = default_intrinsics(128, batch=2)
    assert K.shape == (2, 3, 3)
    assert_close(K[1], torch.tensor([[f, 0, 63.5], [0, f, 63.5], [0, 0, 1.0]]))


def test_zero_camera_puts_the_root_at_the_cell_at_reference_depth() -> None:
    K = default_intrinsics(64)[0]
    px, root = root_from_camera(torch.zeros(3), torch.tensor([10.0, 20.0]), K, 64, 0.1, 0.4)
    assert_close(px, torch.tensor([10.0, 20.0]))
    assert float(root[2]) == pytest.approx(0.4 * default_focal(64) / 64)


@pytest.mark.parametrize("K", [None, torch.tensor([[200.0, 0.0, 25.0], [0.0, 180.0, 40.0], [0.0, 0.0, 1.0]])])
def test_hand_at_known_pixel_and_depth_decodes_back(hand_models, K) -> None:
    right, left = hand_models
    cfg = ModelConfig(width=0.25, input_size=64)
    K_img = default_intrinsics(64)[0] if K is None else K
    root_px, depth = torch.tensor([37.3, 21.8]), 0.62
    cy, cx = 6, 9
    cell_px = (torch.tensor([cx, cy], dtype=torch.float32) + 0.5) * STRIDE - 0.5
    z = torch.tensor(depth)
    root = torch.stack([(root_px[0] - K_img[0, 2]) * z / K_img[0, 0], (root_px[1] - K_img[1, 2]) * z / K_img[1, 1], z])
    cam = camera_from_root(root, cell_px, K_img, cfg.ref_size(64), cfg.root_offset_scale, cfg.depth_ref)
    maps = blank_maps()
    maps.center[0, 0, cy, cx] = 3.0
    maps.params[0, params_layout(cfg.rotation)["camera"], cy, cx] = cam
    pred = decode(maps, (left, right), cfg, K=None if K is None else K[None])
    assert bool(pred.mask[0, 0]) and int(pred.side[0, 0]) == 0
    assert_close(pred.joints2d[0, 0, 0], root_px, atol=1e-4, rtol=0)  # wrist lands on the pixel
    assert float(pred.joints3d[0, 0, 0, 2]) == pytest.approx(depth, abs=1e-6)
    assert_close(pred.joints3d[0, 0, 0], root, atol=1e-6, rtol=0)
    px, back = root_from_camera(cam, cell_px, K_img, cfg.ref_size(64), cfg.root_offset_scale, cfg.depth_ref)
    assert_close(px, root_px, atol=1e-4, rtol=0)
    assert_close(back, root, atol=1e-6, rtol=0)


def _rest_maps(h: int, cy: int, cx: int, cfg: ModelConfig) -> HeadMaps:
    """h x h maps with one right hand at cell (cx, cy) and rest parameters (zero camera) everywhere."""
    n = num_params(cfg.rotation)
    maps = HeadMaps(center=torch.full((1, 2, h, h), -8.0), center_offset=torch.zeros(1, 2, h, h),
                    params=params_rest(cfg.rotation)[None, :, None, None].expand(1, n, h, h).clone(),
                    keypoint_heatmap=torch.full((1, 21, h, h), -8.0), keypoint_offset=torch.zeros(1, 42, h, h),
                    appearance=torch.zeros(1, 30, h, h))
    maps.center[0, 1, cy, cx] = 3.0
    return maps


@pytest.mark.parametrize("ref", [128, None])
def test_the_same_head_output_means_the_same_pixels_at_every_input_size(hand_models, ref) -> None:
    """With a fixed ``camera_ref_size`` a head output is a hand size in pixels, whatever S is.

    A 96-pixel single-hand crop and a 192-pixel multi-hand image show a hand of one size with the
    same pixels, so the network should read it with the same output; with ``R = S`` (None, old
    checkpoints) the same output meant a hand twice as large at twice the input.
    """
    right, left = hand_models
    sides, depths = {}, {}
    for size in (96, 192):
        cfg = ModelConfig(width=0.25, input_size=size, camera_ref_size=ref)
        h = size // STRIDE
        c = (h // 2 + 0.5) * STRIDE - 0.5  # the centre cell's pixel: the principal point, same lens
        K = torch.tensor([[[100.0, 0.0, c], [0.0, 100.0, c], [0.0, 0.0, 1.0]]])
        pred = decode(_rest_maps(h, h // 2, h // 2, cfg), (left, right), cfg, K=K)
        assert bool(pred.mask[0, 0])
        box = pred.box[0, 0]
        sides[size] = float((box[2:] - box[:2]).max())
        depths[size] = float(pred.joints3d[0, 0, 0, 2])
    if ref is None:
        assert depths[192] == pytest.approx(depths[96] / 2, rel=1e-6)  # twice the input: twice the hand
        assert sides[192] > 1.8 * sides[96]
    else:
        assert depths[192] == pytest.approx(depths[96], rel=1e-6)
        assert sides[192] == pytest.approx(sides[96], rel=1e-5)
        assert 0.3 * ref < sides[96] < 0.7 * ref  # about 0.45 R: the documented rest size


def test_camera_ref_size_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="camera_ref_size"):
        ModelConfig(camera_ref_size=0)
    assert ModelConfig(camera_ref_size=None).ref_size(96) == 96
    assert ModelConfig().ref_size(96) == 128
