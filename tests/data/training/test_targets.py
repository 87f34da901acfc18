"""Target encoding: CenterNet radius, heatmap peaks at the centres, slots, keypoints, masks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from smhr.data.training.targets import TargetConfig, draw_gaussian, encode_targets, gaussian_radius, hand_centers


def test_gaussian_radius_matches_the_overlap_cases():
    # Worked by hand for h=20, w=12, overlap 0.7 (CenterNet's three quadratics):
    # r1 = (32 + sqrt(32^2 - 4 * 240 * 0.3 / 1.7)) / 2 = 30.617
    # r2 = (64 + sqrt(64^2 - 16 * 72)) / 2 = 59.130
    # r3 = (-44.8 + sqrt(44.8^2 + 4 * 2.8 * 72)) / 2 = 4.1209  <- the minimum
    h, w = 20.0, 12.0
    r = gaussian_radius(h, w, 0.7)
    assert r == pytest.approx((-44.8 + np.sqrt(44.8**2 + 4 * 2.8 * 72)) / 2, rel=1e-12)
    assert r == pytest.approx(4.1209, abs=1e-4)
    assert gaussian_radius(2 * h, 2 * w, 0.7) == pytest.approx(2 * r)
    assert gaussian_radius(h, w, 0.9) < r


def test_draw_gaussian_peak_and_max_composition():
    hm = np.zeros((16, 16), np.float32)
    draw_gaussian(hm, np.array([5.0, 7.0]), 1.5)
    assert hm[7, 5] == pytest.approx(1.0) and np.unravel_index(hm.argmax(), hm.shape) == (7, 5)
    assert hm[7, 6] == pytest.approx(np.exp(-1 / (2 * 1.5**2)), rel=1e-6)
    before = hm.copy()
    draw_gaussian(hm, np.array([5.0, 7.0]), 0.5)  # smaller one under the max: nothing changes
    np.testing.assert_array_equal(hm, before)
    draw_gaussian(hm, np.array([-30.0, -30.0]), 1.0)  # far outside: no effect, no error
    np.testing.assert_array_equal(hm, before)


def _two_hands():
    rng = np.random.default_rng(0)
    joints = np.stack([rng.uniform(10, 40, (21, 2)), rng.uniform(60, 120, (21, 2))]).astype(np.float32)
    visible = np.ones((2, 21), bool)
    visible[1, :5] = False
    bbox = np.stack([np.r_[j.min(0), j.max(0)] for j in joints]).astype(np.float32)
    return joints, visible, bbox


@pytest.mark.parametrize("center", ["box", "keypoints"])
@pytest.mark.parametrize("radius", ["box", "fixed"])
def test_heatmap_peaks_at_centres_per_side(center, radius):
    joints, visible, bbox = _two_hands()
    cfg = TargetConfig(stride=4, center=center, radius=radius)
    t = encode_targets(joints, visible, bbox, ["left", "right"], (128, 128), cfg)
    assert t.centers.shape == (2, 32, 32) and t.keypoints.shape == (21, 32, 32) and t.masks.shape == (2, 32, 32)
    centres_px = hand_centers(joints, visible, bbox, center)
    for k, channel in enumerate((0, 1)):  # left -> channel 0, right -> channel 1
        hm = t.centers[channel]
        y, x = divmod(int(t.index[k]), 32)
        assert hm[y, x] == pytest.approx(1.0) and hm.max() == pytest.approx(1.0)
        # decoding the slot gives the centre back
        decoded = (np.array([x, y]) + t.offset[k] + 0.5) * 4 - 0.5
        assert_close(torch.as_tensor(decoded), torch.as_tensor(centres_px[k]), atol=1e-4, rtol=0)
        assert np.all(np.abs(t.offset[k]) <= 0.5)
    assert t.center_valid.all()
    # the other hand's channel has no peak at this hand's centre
    y, x = divmod(int(t.index[0]), 32)
    assert t.centers[1, y, x] < 0.5


def test_keypoint_heatmaps_have_focal_positives():
    """Every visible keypoint inside the map gives exactly one cell == 1 (focal loss positives)."""
    from smhr.train.losses import focal_heatmap_loss

    joints, visible, bbox = _two_hands()
    t = encode_targets(joints, visible, bbox, ["left", "right"], (128, 128), TargetConfig(stride=4))
    cells = np.floor((joints + 0.5) / 4 - 0.5 + 0.5)
    inside = visible & np.all((cells >= 0) & (cells < 32), axis=-1)
    positives = int((t.keypoints == 1.0).sum())
    assert 0 < positives <= int(inside.sum())
    target = torch.from_numpy(t.keypoints)[None]
    confident = torch.where(target == 1.0, 8.0, -8.0)  # a map that fires at the positives only
    assert focal_heatmap_loss(confident, target) < 0.05 * focal_heatmap_loss(torch.full_like(target, -2.19), target)


def test_keypoint_heatmaps_only_for_visible_joints():
    joints, visible, bbox = _two_hands()
    t = encode_targets(joints, visible, bbox, ["left", "right"], (128, 128), TargetConfig(stride=4, keypoint_sigma=1.0))
    for j in range(21):
        cell = (joints[0, j] + 0.5) / 4 - 0.5
        y, x = np.rint(cell[::-1]).astype(int)
        inside = 0 <= x < 32 and 0 <= y < 32
        assert not inside or t.keypoints[j, y, x] == 1.0  # the focal loss's positive: exactly 1 at the nearest cell
    # joint 2 of hand 1 is invisible: no peak near it unless hand 0's joint is close
    far = np.linalg.norm(joints[0, 2] - joints[1, 2]) > 40
    cell = np.rint(((joints[1, 2] + 0.5) / 4 - 0.5)[::-1]).astype(int)
    assert not far or t.keypoints[2, cell[0], cell[1]] < 1e-3


def test_masks_at_stride_and_outside_centres():
    joints, visible, bbox = _two_hands()
    masks = np.zeros((2, 64, 64), bool)
    masks[0, :8, :4] = True
    t = encode_targets(joints / 2, visible, bbox / 2, ["left", "right"], (64, 64), TargetConfig(stride=4), masks)
    assert_close(t.masks[0, :2, :1], np.ones((2, 1), np.float32))
    assert t.masks[0].sum() == pytest.approx(32 / 16) and t.masks[1].sum() == 0
    # a hand centred outside the image has no slot target and no centre peak
    t = encode_targets(joints + 500, visible, bbox + 500, ["left", "right"], (64, 64), TargetConfig(stride=4))
    assert not t.center_valid.any() and t.centers.max() == 0.0
    with pytest.raises(ValueError, match="multiple of the stride"):
        encode_targets(joints, visible, bbox, ["left", "right"], (66, 64), TargetConfig(stride=4))
