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
from smhr.model.heads import params_layout

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
    cam = camera_from_root(root, cell_px, K_img, 64, cfg.root_offset_scale, cfg.depth_ref)
    maps = blank_maps()
    maps.center[0, 0, cy, cx] = 3.0
    maps.params[0, params_layout(cfg.rotation)["camera"], cy, cx] = cam
    pred = decode(maps, (left, right), cfg, K=None if K is None else K[None])
    assert bool(pred.mask[0, 0]) and int(pred.side[0, 0]) == 0
    assert_close(pred.joints2d[0, 0, 0], root_px, atol=1e-4, rtol=0)  # wrist lands on the pixel
    assert float(pred.joints3d[0, 0, 0, 2]) == pytest.approx(depth, abs=1e-6)
    assert_close(pred.joints3d[0, 0, 0], root, atol=1e-6, rtol=0)
    px, back = root_from_camera(cam, cell_px, K_img, 64, cfg.root_offset_scale, cfg.depth_ref)
    assert_close(px, root_px, atol=1e-4, rtol=0)
    assert_close(back, root, atol=1e-6, rtol=0)
