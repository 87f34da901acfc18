"""Appearance sampling for synthetic hands: per-vertex skin albedo and spherical-harmonics lighting.

Albedo is a base skin tone (interpolated along a palette spanning very light to very dark skin,
Fitzpatrick I to VI) modulated by low-frequency noise over the hand's surface (random Fourier
features of the rest-pose vertex positions, so the pattern is smooth and moves with the skin)
and a little per-vertex noise. Values are in [0, 1], the renderer's colour space.

Lighting is nine order-2 SH radiance coefficients per colour channel, ``(9, 3)``, in the
renderer's convention (:mod:`smhr.render.sh`: Ramamoorthi & Hanrahan, shading factor
``sum_lm (A_l / pi) L_lm Y_lm(n)`` multiplies the albedo), built from an ambient term plus one
directional light whose shading approximates ``color * max(0, n . d)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from smhr.render.sh import sh_basis

SKIN_TONES: np.ndarray = np.array(
    [
        [0.96, 0.82, 0.73],
        [0.93, 0.75, 0.63],
        [0.86, 0.64, 0.51],
        [0.76, 0.54, 0.40],
        [0.62, 0.42, 0.29],
        [0.46, 0.30, 0.20],
        [0.32, 0.21, 0.14],
    ],
    dtype=np.float32,
)
"""(7, 3) RGB skin albedos in [0, 1], lightest to darkest; a base tone is sampled between neighbours."""

@dataclass(frozen=True)
class AppearanceRanges:
    """Ranges of the appearance sampling (all colours in [0, 1]).

    Attributes:
        tone_range: sub-range of the palette, 0 = lightest, 1 = darkest tone of ``SKIN_TONES``.
        tone_jitter: std of a per-hand multiplicative brightness jitter of the base tone (a
            further 1.5% per channel varies its hue).
        surface_noise: amplitude of the low-frequency multiplicative noise over the surface.
        surface_wavelength_m: typical wavelength of that noise in metres.
        vertex_noise: std of the per-vertex additive noise.
        ambient: range of the ambient intensity.
        directional: range of the directional light's intensity.
        light_tint: std of the per-channel multiplicative tint of both lights.
        min_light_toward_camera: lower bound of ``-d_z`` for the light direction ``d`` in camera
            coordinates (OpenCV axes: ``-1`` allows lights from behind, ``0`` keeps them on the camera's side).
    """

    tone_range: tuple[float, float] = (0.0, 1.0)
    tone_jitter: float = 0.04
    surface_noise: float = 0.08
    surface_wavelength_m: float = 0.05
    vertex_noise: float = 0.015
    ambient: tuple[float, float] = (0.35, 0.7)
    directional: tuple[float, float] = (0.3, 0.8)
    light_tint: float = 0.06
    min_light_toward_camera: float = -0.2


def sample_skin_albedo(rest_verts: np.ndarray, rng: np.random.Generator, ranges: AppearanceRanges) -> np.ndarray:
    """Samples one hand's per-vertex skin albedo.

    Args:
        rest_verts: (V, 3) rest-pose vertex positions in metres (the pattern's coordinates).
        rng: random generator (the only source of randomness).
        ranges: sampling ranges.

    Returns:
        (V, 3) float32 albedo in [0.02, 1].
    """
    lo, hi = ranges.tone_range
    t = rng.uniform(lo, hi) * (len(SKIN_TONES) - 1)
    i = min(int(t), len(SKIN_TONES) - 2)
    base = SKIN_TONES[i] * (1.0 - (t - i)) + SKIN_TONES[i + 1] * (t - i)
    base = base * (1.0 + ranges.tone_jitter * rng.standard_normal()) * (1.0 + 0.015 * rng.standard_normal(3))
    # Low-frequency noise: a few random plane waves over the rest-pose surface.
    n_waves = 6
    dirs = rng.standard_normal((n_waves, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    freq = 2.0 * math.pi / (ranges.surface_wavelength_m * rng.uniform(0.5, 1.5, n_waves))
    phase = rng.uniform(0.0, 2.0 * math.pi, n_waves)
    waves = np.sin(rest_verts @ (dirs * freq[:, None]).T + phase).mean(axis=1)  # (V,)
    waves = waves / max(float(np.abs(waves).max()), 1e-6)
    redness = rng.uniform(0.0, 1.0)  # part of the surface noise that shifts towards red (blood flow)
    tint = np.array([1.0, 1.0 - 0.5 * redness, 1.0 - 0.7 * redness])
    albedo = base[None, :] * (1.0 + ranges.surface_noise * waves[:, None] * tint[None, :])
    albedo = albedo + ranges.vertex_noise * rng.standard_normal(albedo.shape)
    return np.clip(albedo, 0.02, 1.0).astype(np.float32)


def directional_sh(direction: np.ndarray, color: np.ndarray) -> np.ndarray:
    """SH radiance coefficients of one distant directional light.

    Args:
        direction: (3,) unit vector from the surface towards the light (camera frame).
        color: (3,) RGB intensity.

    Returns:
        (9, 3) ``L_lm = pi * color * Y_lm(direction)``: the renderer's shading factor
        (:func:`smhr.render.sh.sh_shading`) is then ~ ``color * max(0, n . direction)``.
    """
    basis = sh_basis(torch.as_tensor(direction, dtype=torch.float64)).numpy()
    return math.pi * basis[:, None] * np.asarray(color, dtype=np.float64)[None, :]


def ambient_sh(color: np.ndarray) -> np.ndarray:
    """SH radiance coefficients of uniform light with shading factor ``color`` everywhere. Returns (9, 3)."""
    out = np.zeros((9, 3))
    out[0] = np.asarray(color, dtype=np.float64) * 2.0 * math.sqrt(math.pi)
    return out


def sample_sh_lighting(rng: np.random.Generator, ranges: AppearanceRanges) -> np.ndarray:
    """Samples ambient + one directional light as SH coefficients.

    The light direction is uniform on the sphere restricted to ``-d_z >= min_light_toward_camera``
    (camera frame, OpenCV axes: ``d_z < 0`` is on the camera's side). Both lights share a colour
    tint (``1 + light_tint * N(0, 1)`` per channel, warm or cool light).

    Args:
        rng: random generator.
        ranges: sampling ranges.

    Returns:
        (9, 3) float32 coefficients for the renderer's SH shading.
    """
    while True:
        d = rng.standard_normal(3)
        d /= np.linalg.norm(d)
        if -d[2] >= ranges.min_light_toward_camera:
            break
    tint = np.clip(1.0 + ranges.light_tint * rng.standard_normal(3), 0.7, 1.3)
    ambient = rng.uniform(*ranges.ambient) * tint
    directional = rng.uniform(*ranges.directional) * tint
    return (ambient_sh(ambient) + directional_sh(d, directional)).astype(np.float32)
