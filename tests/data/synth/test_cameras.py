"""Viewpoint, intrinsics and placement sampling."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from smhr.data.synth.cameras import (
    CameraRanges,
    hand_frame,
    place_hand,
    rotation_about,
    sample_global_rotation,
    sample_intrinsics,
    uniform_rotation,
)
from smhr.geometry.camera import project

MIRROR = np.diag([-1.0, 1.0, 1.0])


def _flat_right_hand() -> np.ndarray:
    """(21, 3) joints of a flat right hand in a palm-view pose: fingers +y, thumb side +x, palm +z."""
    joints = np.zeros((21, 3))
    for f, x in enumerate([0.04, 0.02, 0.0, -0.02, -0.035]):  # thumb, index, middle, ring, pinky
        for k in range(4):
            joints[1 + 4 * f + k] = [x * (1 + 0.2 * k), 0.08 + 0.025 * k, 0.0]
    return joints


def test_hand_frame_is_a_rotation_and_mirrors_for_the_left_hand():
    rng = np.random.default_rng(0)
    R0 = uniform_rotation(rng)
    right = _flat_right_hand() @ R0.T
    frame = hand_frame(right, "right")
    np.testing.assert_allclose(frame.T @ frame, np.eye(3), atol=1e-12)
    assert np.linalg.det(frame) == pytest.approx(1.0)
    # The palm normal of the flat hand is +z in its own coordinates.
    np.testing.assert_allclose(frame[:, 2], R0 @ [0.0, 0.0, 1.0], atol=1e-12)
    left = hand_frame(right @ MIRROR, "left")
    assert np.linalg.det(left) == pytest.approx(1.0)
    np.testing.assert_allclose(left[:, 2], MIRROR @ frame[:, 2], atol=1e-12)


@pytest.mark.parametrize("back, normal_z", [(0.0, -1.0), (1.0, 1.0)])
def test_palm_and_back_views(back, normal_z):
    frame = hand_frame(_flat_right_hand(), "right")
    ranges = CameraRanges(back_prob=back, max_tilt_deg=0.0, random_rotation_prob=0.0)
    R = sample_global_rotation(frame, np.random.default_rng(1), ranges)
    np.testing.assert_allclose(R @ frame[:, 2], [0.0, 0.0, normal_z], atol=1e-12)


def test_rotations_are_rotations_and_cover_the_sphere():
    frame = hand_frame(_flat_right_hand(), "right")
    rng = np.random.default_rng(2)
    normals = []
    for _ in range(400):
        R = sample_global_rotation(frame, rng, CameraRanges())
        np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-10)
        assert np.linalg.det(R) == pytest.approx(1.0)
        normals.append(R @ frame[:, 2])
    nz = np.array(normals)[:, 2]
    assert (nz < -0.5).mean() > 0.25 and (nz > 0.5).mean() > 0.25  # palm and back views


def test_uniform_rotation_has_zero_mean():
    rng = np.random.default_rng(3)
    mean = np.mean([uniform_rotation(rng) for _ in range(3000)], axis=0)
    assert np.abs(mean).max() < 0.05
    np.testing.assert_allclose(rotation_about(2, np.pi / 2) @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], atol=1e-12)


def test_intrinsics_scale_with_image_size():
    K224 = sample_intrinsics(224, np.random.default_rng(4), CameraRanges())
    K96 = sample_intrinsics(96, np.random.default_rng(4), CameraRanges())
    np.testing.assert_allclose(K96[0, 0], K224[0, 0] * 96 / 224)
    assert abs(K224[0, 2] - 111.5) < 15 and K224[2, 2] == 1.0


def _box(verts, K):
    uv = project(verts, K)
    return uv.min(0), uv.max(0)


def test_place_hand_keeps_hand_in_view_at_the_sampled_size():
    rng = np.random.default_rng(5)
    ranges = CameraRanges(crop_prob=0.0)
    for _ in range(50):
        verts = rng.normal(size=(300, 3)) * [0.05, 0.08, 0.02]
        K = sample_intrinsics(224, rng, ranges)
        t = place_hand(verts, K, 224, rng, ranges)
        lo, hi = _box(verts + t, K)
        assert (verts + t)[:, 2].min() > 0.05
        assert lo.min() > -3.0 and hi.max() < 227.0  # perspective moves the edges by a few pixels
        fill = (hi - lo).max() / 224
        assert ranges.hand_fill[0] * 0.85 < fill < ranges.hand_fill[1] * 1.15


def test_place_hand_partial_crops():
    rng = np.random.default_rng(6)
    ranges = dataclasses.replace(CameraRanges(), crop_prob=1.0, crop_outside=(0.2, 0.3))
    for _ in range(30):
        verts = rng.normal(size=(300, 3)) * [0.05, 0.08, 0.02]
        K = sample_intrinsics(224, rng, ranges)
        lo, hi = _box(verts + place_hand(verts, K, 224, rng, ranges), K)
        outside = np.maximum(-0.5 - lo, 0.0) + np.maximum(hi - 223.5, 0.0)
        size = hi - lo
        assert 0.1 < (outside / size).max() < 0.45

