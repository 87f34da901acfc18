"""Appearance sampling for synthetic hands: per-vertex skin albedo and spherical-harmonics lighting.

Albedo is a base skin tone (interpolated along a palette spanning very light to very dark skin,
Fitzpatrick I to VI) modulated by low-frequency noise over the hand's surface (random Fourier
features of the rest-pose vertex positions, so the pattern is smooth and moves with the skin)
and a little per-vertex noise. Values are in [0, 1], the renderer's colour space. Like real hands, the palm side is lighter than
the back (palmar skin holds far less melanin: a large contrast on dark skin, a pinker tone on light
skin) and the fingertips carry nails on their back side. These two cues are what tells a left hand
from a right one in an image: without them a right palm view and a left back view (its mirror
image) differ only in subtle shading, and handedness is at chance (see :func:`surface_regions`).

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

from smhr.hand.joints import MANO_JOINT_NAMES, OPENPOSE_JOINT_NAMES
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

PALM_TONE: np.ndarray = np.array([0.93, 0.71, 0.62], dtype=np.float32)
"""RGB albedo the palm side moves towards: light and pink on every skin tone."""

NAIL_TONE: np.ndarray = np.array([0.95, 0.80, 0.78], dtype=np.float32)
"""RGB albedo the nails move towards: pale pink-white."""

_FINGER_NAMES = ("thumb", "index", "middle", "ring", "pinky")


@dataclass(frozen=True)
class SurfaceRegions:
    """Per-vertex weights of a hand's skin regions, from its rest pose (see :func:`surface_regions`).

    Attributes:
        palm: (V,) in [0, 1]: 1 on the palm side (palm and the fingers' palmar faces), 0 on the back.
        nail: (V,) in [0, 1]: 1 on the nail plates (back of each distal phalanx, towards the tip).
    """

    palm: np.ndarray
    nail: np.ndarray


def _smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def vertex_normals(verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals. verts: (V, 3); faces: (F, 3) int. Returns (V, 3)."""
    v = np.asarray(verts, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    face_n = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])  # (F, 3), length = 2 x area
    normals = np.zeros_like(v)
    for k in range(3):
        np.add.at(normals, f[:, k], face_n)
    return normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)


def surface_regions(
    rest_verts: np.ndarray, faces: np.ndarray, lbs_weights: np.ndarray, rest_joints: np.ndarray, palm_normal: np.ndarray
) -> SurfaceRegions:
    """Palm-side and nail weights of every vertex of a MANO-format hand.

    Pass the flat hand (zero finger pose without ``hands_mean``: every phalanx in the palm's plane).
    The palm side is where the vertex normal points along the palm normal (a smooth ramp
    from 0.15 below to 0.35 above zero of the cosine, so the fingers' sides blend). A nail is the
    back-facing part (cosine below -0.35) of a vertex skinned mostly (> 0.5) to a finger's distal
    joint (MANO's ``index3`` ... ``thumb3``) and lying in the distal 70% of the segment from that
    joint (DIP, or the thumb's IP) to the fingertip. Works for MANO and for the procedural hand,
    whose joint orders and skinning follow MANO.

    Args:
        rest_verts: (V, 3) flat-hand vertices (model coordinates).
        faces: (F, 3) triangles, wound outward.
        lbs_weights: (V, 16) skinning weights, MANO's joint order.
        rest_joints: (21, 3) flat-hand joints, OpenPose order (fingertips included).
        palm_normal: (3,) unit vector out of the palm (:func:`smhr.data.synth.cameras.hand_frame`'s 3rd column).

    Returns:
        The two (V,) weight arrays, float32.
    """
    normals = vertex_normals(rest_verts, faces)
    cos = normals @ np.asarray(palm_normal, dtype=np.float64)
    palm = _smoothstep(cos, -0.15, 0.35)
    nail = np.zeros(len(rest_verts))
    weights = np.asarray(lbs_weights, dtype=np.float64)
    verts = np.asarray(rest_verts, dtype=np.float64)
    for finger in _FINGER_NAMES:
        base = rest_joints[OPENPOSE_JOINT_NAMES.index(f"{finger}3")]
        tip = rest_joints[OPENPOSE_JOINT_NAMES.index(f"{finger}4")]
        axis = tip - base
        length = float(np.linalg.norm(axis))
        t = (verts - base) @ axis / max(length * length, 1e-12)  # 0 at the joint, 1 at the tip
        distal = weights[:, MANO_JOINT_NAMES.index(f"{finger}3")]
        nail = np.maximum(nail, _smoothstep(distal, 0.4, 0.6) * _smoothstep(t, 0.25, 0.4) * _smoothstep(-cos, 0.25, 0.45))
    return SurfaceRegions(palm.astype(np.float32), nail.astype(np.float32))

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
        palm_lighten: range of the fraction of the way the palm side moves from the hand's tone
            towards ``PALM_TONE`` (0: palm and back alike).
        nail_strength: range of the fraction of the way the nails move towards ``NAIL_TONE``.
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
    palm_lighten: tuple[float, float] = (0.5, 0.9)
    nail_strength: tuple[float, float] = (0.4, 0.8)


def sample_skin_albedo(
    rest_verts: np.ndarray, rng: np.random.Generator, ranges: AppearanceRanges, regions: SurfaceRegions | None = None
) -> np.ndarray:
    """Samples one hand's per-vertex skin albedo.

    Args:
        rest_verts: (V, 3) rest-pose vertex positions in metres (the pattern's coordinates).
        rng: random generator (the only source of randomness).
        ranges: sampling ranges.
        regions: the hand's palm and nail weights; None gives a uniform tone (no palm or nails).

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
    tone = np.broadcast_to(base, rest_verts.shape)
    if regions is not None:
        palm = rng.uniform(*ranges.palm_lighten) * regions.palm[:, None]
        nail = rng.uniform(*ranges.nail_strength) * regions.nail[:, None]
        tone = tone + palm * (PALM_TONE - tone)
        tone = tone + nail * (NAIL_TONE - tone)
    albedo = tone * (1.0 + ranges.surface_noise * waves[:, None] * tint[None, :])
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
