"""Appearance: skin albedo ranges and SH lighting."""

from __future__ import annotations

import numpy as np
import torch

from smhr.data.synth.appearance import (
    SKIN_TONES,
    AppearanceRanges,
    ambient_sh,
    directional_sh,
    sample_sh_lighting,
    sample_skin_albedo,
)
from smhr.render.sh import sh_shading


def _sphere(n: int = 2000, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, 3))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_albedo_range_and_determinism():
    verts = 0.05 * _sphere(500)
    ranges = AppearanceRanges()
    a = sample_skin_albedo(verts, np.random.default_rng(0), ranges)
    b = sample_skin_albedo(verts, np.random.default_rng(0), ranges)
    assert a.shape == (500, 3) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert a.min() >= 0.02 and a.max() <= 1.0


def test_albedo_is_skin_like_and_varies_across_hands():
    verts = 0.05 * _sphere(300)
    rng = np.random.default_rng(1)
    means = np.stack([sample_skin_albedo(verts, rng, AppearanceRanges()).mean(0) for _ in range(200)])
    # Skin: red >= green >= blue on average, for every hand.
    assert np.all(means[:, 0] > means[:, 1]) and np.all(means[:, 1] > means[:, 2])
    # The palette's range is covered: light and dark hands both occur.
    assert means[:, 0].max() > 0.85 and means[:, 0].min() < 0.45
    assert means.max() <= SKIN_TONES.max() + 0.1


def test_albedo_noise_is_low_frequency_over_the_surface():
    verts = 0.05 * _sphere(2000)
    albedo = sample_skin_albedo(verts, np.random.default_rng(2), AppearanceRanges(vertex_noise=0.0))
    # Nearby vertices have closer colours than far-apart ones.
    d = np.linalg.norm(verts[:, None] - verts[None, :200], axis=-1)  # (2000, 200)
    diff = np.abs(albedo[:, None, 0] - albedo[None, :200, 0])
    assert diff[d < 0.01].mean() < 0.5 * diff[d > 0.06].mean()


def _shading(normals: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """The renderer's shading factor, (N, 3)."""
    return sh_shading(torch.as_tensor(normals), torch.as_tensor(coeffs, dtype=torch.float64)).numpy()


def test_directional_sh_approximates_clamped_cosine():
    d = np.array([0.3, -0.5, -0.8])
    d /= np.linalg.norm(d)
    color = np.array([1.0, 0.5, 0.2])
    coeffs = directional_sh(d, color)
    n = _sphere(5000, seed=4)
    exact = np.maximum(n @ d, 0.0)[:, None] * color
    assert np.abs(_shading(n, coeffs) - exact).mean() < 0.05
    # Order-2 SH of the clamped cosine peaks at 1.0625 (Ramamoorthi & Hanrahan 2001).
    np.testing.assert_allclose(_shading(d[None], coeffs)[0], 1.0625 * color, rtol=1e-4)


def test_ambient_sh_is_constant():
    shading = _shading(_sphere(100), ambient_sh(np.array([0.4, 0.5, 0.6])))
    np.testing.assert_allclose(shading, np.tile([0.4, 0.5, 0.6], (100, 1)), rtol=1e-5)


def test_sampled_lighting_ranges():
    rng = np.random.default_rng(5)
    ranges = AppearanceRanges()
    n = _sphere(1000)
    toward_camera = np.array([[0.0, 0.0, -1.0]])
    for _ in range(50):
        sh = sample_sh_lighting(rng, ranges)
        assert sh.shape == (9, 3) and sh.dtype == np.float32
        shading = _shading(n, sh)
        # Never pitch dark, never blown out; the camera-facing side gets at least the ambient.
        assert shading.min() > 0.15 and shading.max() < 2.0
        assert _shading(toward_camera, sh).min() > ranges.ambient[0] * 0.7 - 0.1
