"""Augmentation: every transform keeps 3D, K and 2D consistent, moves masks and pixels with the keypoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from smhr.data.training.augment import AugmentConfig, augment_matrix, augment_sample, color_jitter, letterbox_matrix
from smhr.data.transforms.mirror import mirror_pose
from smhr.data.datasets.toy import toy_sample
from smhr.data.transforms.similarity import rq2, transform_sample
from smhr.geometry.camera import project
from smhr.geometry.rotations import axis_angle_to_matrix_np

from tests.data.conftest import assert_3d_projects_onto_2d

TRANSFORMS = {
    "scale": dict(zoom=1.4),
    "rotation": dict(angle=0.6),
    "translation": dict(shift=(9.0, -13.0)),
    "flip": dict(flip=True),
    "all": dict(zoom=0.8, angle=-1.1, shift=(-5.0, 4.0), flip=True),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_each_augmentation_keeps_3d_on_2d(name, samples):
    for sample in samples[:3]:
        A = augment_matrix(sample.image.shape[:2], 128, **TRANSFORMS[name])
        out = transform_sample(sample, A, (128, 128))
        hand, src = out.hands[0], sample.hands[0]
        assert_3d_projects_onto_2d(hand)
        assert (hand.side != src.side) == TRANSFORMS[name].get("flip", False)
        # pixels, masks and keypoints move together: each visible keypoint sits on the hand's disk
        px = np.rint(hand.joints2d[hand.visible]).astype(int)
        assert hand.mask[px[:, 1], px[:, 0]].all()
        colour = sample.image[np.rint(src.joints2d[0, 1]).astype(int), np.rint(src.joints2d[0, 0]).astype(int)]
        assert np.abs(out.image[px[:, 1], px[:, 0]].astype(int) - colour).max() <= 2
        # the box holds the visible keypoints
        assert np.all(hand.joints2d[hand.visible] >= hand.bbox[:2] - 1) and np.all(hand.joints2d[hand.visible] <= hand.bbox[2:] + 1)


def test_random_augmentation_is_consistent_and_deterministic(samples):
    cfg = AugmentConfig(rotation_deg=180.0, scale=(0.5, 1.5), translate=0.2)
    for seed in range(8):
        a = augment_sample(samples[seed % 6], np.random.default_rng(seed), cfg, 96)
        b = augment_sample(samples[seed % 6], np.random.default_rng(seed), cfg, 96)
        np.testing.assert_array_equal(a.image, b.image)
        for hand in a.hands:
            assert_3d_projects_onto_2d(hand)
            assert not np.any(hand.visible & ((hand.joints2d < -0.5) | (hand.joints2d >= 95.5)).any(-1))


def test_flip_mirrors_mano_and_rotation_keeps_the_mano_root(samples):
    hand = samples[0].hands[0]
    flipped = transform_sample(samples[0], augment_matrix((96, 96), 96, flip=True), (96, 96)).hands[0]
    assert_close(flipped.mano.pose, mirror_pose(hand.mano.pose))
    assert_close(flipped.mano.trans, hand.mano.trans * np.array([-1, 1, 1], np.float32))
    rotated = transform_sample(samples[0], augment_matrix((96, 96), 96, angle=0.9), (96, 96)).hands[0]
    # MANO rotates about its root J0 = wrist - trans, which depends on the shape only: unchanged.
    assert_close(rotated.joints3d[0] - rotated.mano.trans, hand.joints3d[0] - hand.mano.trans, atol=1e-6, rtol=0)
    R0, R0_new = axis_angle_to_matrix_np(hand.mano.pose[:3]), axis_angle_to_matrix_np(rotated.mano.pose[:3])
    Rz = R0_new @ R0.T  # the camera roll applied to the global orientation ...
    assert_close(hand.joints3d.astype(np.float64) @ Rz.T, rotated.joints3d.astype(np.float64), atol=1e-5, rtol=0)
    assert_close(rotated.mano.pose[3:], hand.mano.pose[3:])  # ... and nothing else changes


def test_square_pixels_rotate_by_the_image_angle():
    rng = np.random.default_rng(3)
    sample = toy_sample(rng)
    sample.hands[0].K[1, 1] = sample.hands[0].K[0, 0]  # fx == fy: K' stays [[f', 0, c'], [0, f', c']]
    sample.hands[0].joints2d = project(sample.hands[0].joints3d.astype(np.float64), sample.hands[0].K.astype(np.float64)).astype(np.float32)
    out = transform_sample(sample, augment_matrix((96, 96), 96, zoom=1.5, angle=0.3), (96, 96)).hands[0]
    K = sample.hands[0].K
    assert out.K[0, 1] == pytest.approx(0.0, abs=1e-3) and out.K[0, 0] == pytest.approx(1.5 * K[0, 0], rel=1e-5)
    U, Q = rq2(np.array([[2.0, 0.5], [-0.3, 1.5]]))
    assert_close(U @ Q, np.array([[2.0, 0.5], [-0.3, 1.5]]))
    assert_close(Q @ Q.T, np.eye(2))
    assert U[1, 0] == 0 and U[0, 0] > 0 and U[1, 1] > 0


def test_letterbox_fits_a_wide_image_and_colour_jitter_stays_in_range():
    A = letterbox_matrix((60, 120), 64)
    corners = np.array([[-0.5, -0.5, 1], [119.5, 59.5, 1]]) @ A.T
    assert_close(corners[:, 0], np.array([-0.5, 63.5]))
    assert_close(corners[:, 1], np.array([15.5, 47.5]))
    image = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    out = color_jitter(image, np.random.default_rng(1), AugmentConfig(brightness=0.9, contrast=0.9, saturation=0.9))
    assert out.dtype == np.uint8 and out.shape == image.shape and not np.array_equal(out, image)
    same = color_jitter(image, np.random.default_rng(1), AugmentConfig(brightness=0.0, contrast=0.0, saturation=0.0))
    np.testing.assert_array_equal(same, image)
    dark = color_jitter(image, np.random.default_rng(1), AugmentConfig(brightness=0.5, contrast=0.0, saturation=0.0))
    factor = np.random.default_rng(1).uniform(0.5, 1.5)
    assert np.abs(dark.astype(float) - np.clip(image * factor, 0, 255)).max() <= 1.0


def test_warp_translates_exactly_and_windows_agree():
    from smhr.data.transforms.warp import similarity_matrix, warp_affine

    image = np.random.default_rng(4).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    A = similarity_matrix(1.0, tx=3.0, ty=-2.0)
    out = warp_affine(image, A, (20, 30))
    np.testing.assert_array_equal(out[0:18, 3:30], image[2:20, 0:27])
    assert not out[:, :3].any() and not out[18:].any()  # outside the source: fill
    B = similarity_matrix(1.7, angle=0.3, tx=4.0, ty=1.0, flip=True)
    full = warp_affine(image, B, (40, 50))
    np.testing.assert_array_equal(warp_affine(image, B, (40, 50), window=(5, 7, 30, 33)), full[7:33, 5:30])
    mask = image[..., 0] > 128
    warped = warp_affine(mask, B, (40, 50), interp="nearest")
    assert warped.dtype == bool and warped.shape == (40, 50)
    with pytest.raises(ValueError, match="uint8 or bool"):
        warp_affine(image.astype(np.float32), A, (20, 30))
