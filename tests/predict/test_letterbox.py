"""Letterbox forward/inverse mapping: exact round trips, agreement with the training dataset."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from smhr.data.training.dataset import DatasetConfig, HandDataset
from smhr.data.datasets.toy import toy_sample
from smhr.geometry.camera import project
from smhr.predict.letterbox import Letterbox, focal_intrinsics, normalise


@pytest.mark.parametrize("hw", [(50, 80), (90, 40), (64, 64), (1, 300)])
def test_points_round_trip_exactly(hw):
    lb = Letterbox.fit(hw, 64)
    rng = np.random.default_rng(0)
    pts = rng.uniform(-10, 100, size=(7, 21, 2))
    np.testing.assert_allclose(lb.to_source(lb.to_input(pts)), pts, atol=1e-10)
    np.testing.assert_allclose(lb.to_input(lb.to_source(pts)), pts, atol=1e-10)


def test_non_square_image_fills_the_long_side_and_centres_the_short():
    lb = Letterbox.fit((50, 80), 64)  # H 50, W 80: scale 0.8, 40 rows of content centred in 64
    # pixel edges of the source (-0.5 .. W - 0.5) land on the input's edges (-0.5 .. S - 0.5)
    np.testing.assert_allclose(lb.to_input(np.array([[-0.5, -0.5], [79.5, 49.5]])), [[-0.5, 11.5], [63.5, 51.5]], atol=1e-12)
    np.testing.assert_allclose(lb.box_to_source(np.array([-0.5, 11.5, 63.5, 51.5])), [-0.5, -0.5, 79.5, 49.5], atol=1e-12)


@pytest.mark.parametrize("hw", [(50, 80), (120, 30)])
def test_intrinsics_follow_the_pixels(hw):
    lb = Letterbox.fit(hw, 64)
    K = focal_intrinsics(90.0, hw)
    K_in = lb.K_to_input(K)
    np.testing.assert_allclose(K_in, lb.A @ K, atol=1e-12)
    np.testing.assert_allclose(lb.K_to_source(K_in), K, atol=1e-12)
    X = np.random.default_rng(1).uniform([-0.1, -0.1, 0.3], [0.1, 0.1, 0.6], size=(21, 3))
    np.testing.assert_allclose(lb.to_input(project(X, K)), project(X, K_in), atol=1e-9)
    np.testing.assert_allclose(lb.to_source(project(X, K_in)), project(X, K), atol=1e-9)


def test_input_equals_the_training_datasets_letterbox():
    """predict feeds the network exactly what HandDataset(train=False) gives, and maps its annotations alike."""
    sample = toy_sample(np.random.default_rng(3), size=96)
    sample = dataclasses.replace(sample, image=np.ascontiguousarray(sample.image[:, :70]))  # non-square, same pixels
    cfg = DatasetConfig(image_size=64)
    item = HandDataset([sample], cfg, train=False)[0]
    lb = Letterbox.fit(sample.image.shape[:2], 64)
    np.testing.assert_array_equal(normalise(lb.warp(sample.image), cfg.mean, cfg.std), item.image.numpy())
    np.testing.assert_allclose(lb.to_input(sample.hands[0].joints2d), item.joints2d[0].numpy(), atol=1e-4)
    np.testing.assert_allclose(lb.K_to_input(sample.hands[0].K), item.K[0].numpy(), atol=1e-4)


def test_warp_rejects_an_image_of_another_size():
    lb = Letterbox.fit((50, 80), 64)
    with pytest.raises(ValueError):
        lb.warp(np.zeros((80, 50, 3), np.uint8))

