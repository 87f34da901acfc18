"""Hand pose prior: anatomical joint frames, joint limits, finger synergies, named poses, sampling.

Angles are handled per finger joint as three *anatomical* components in a frame built from the
model's rest skeleton (so the same code serves the real MANO and our procedural hand):

* ``flex``: about ``a = d x n`` (``d`` the bone direction, ``n`` the palmar normal); positive
  curls the finger towards the palm.
* ``abduct``: about ``c = d x a``; positive swings the finger towards the thumb side.
* ``twist``: about ``d``.

A joint's axis-angle is ``flex * a + abduct * c + twist * d``. For a left model the frames are the
mirrored right ones (see :mod:`smhr.hand.conventions`), so one set of angles means the same
gesture on both hands.
"""

from __future__ import annotations

import numpy as np
import torch

from smhr.hand import conventions as C
from smhr.hand.model_file import ModelData

FINGER_JOINTS = {"index": (1, 2, 3), "middle": (4, 5, 6), "pinky": (7, 8, 9), "ring": (10, 11, 12), "thumb": (13, 14, 15)}
"""MANO native joint indices of each finger (base to distal); the wrist is 0."""

TIP_OF = {"thumb": 0, "index": 1, "middle": 2, "ring": 3, "pinky": 4}
"""Row of each finger in ``fingertip_vertex_ids``."""

COMPONENTS = ("flex", "abduct", "twist")

_F, _P, _D = (-0.30, 1.60), (-0.05, 1.90), (-0.10, 1.40)  # finger MCP, PIP, DIP flexion
_FINGER = [[_F, (-0.35, 0.35), (-0.15, 0.15)], [_P, (-0.08, 0.08), (-0.10, 0.10)], [_D, (-0.08, 0.08), (-0.10, 0.10)]]
_THUMB = [[(-0.50, 1.00), (-0.60, 0.80), (-0.60, 0.60)], [(-0.20, 1.10), (-0.15, 0.15), (-0.20, 0.20)],
          [(-0.30, 1.40), (-0.10, 0.10), (-0.15, 0.15)]]
JOINT_LIMITS = np.array([_FINGER] * 4 + [_THUMB], dtype=np.float64).reshape(15, 3, 2)
"""(15, 3, 2) radians: [lo, hi] of (flex, abduct, twist) for MANO's 15 finger joints (native order
index1..thumb3), applied to the full pose (hands_mean included)."""

THUMB_PRONATION_RAD = 0.7
"""The thumb's palmar side faces the fingers: its palmar normal is the palm normal turned this much
towards the fingers, about the thumb's bone."""

MANO_PCA_STD_RAD = 0.7 * 0.82 ** np.arange(C.NUM_POSE_PARAMS)
"""Per-component standard deviations used to sample a model that stores none (the real MANO)."""


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def joint_frames(data: ModelData) -> np.ndarray:
    """Anatomical frames of the 15 finger joints, from the model's rest skeleton.

    Args:
        data: a MANO-format model (left models use the mirrored right frames).

    Returns:
        (15, 3, 3) rows ``(a, c, d)``: flexion, abduction and twist axes per joint.
    """
    j = data.rest_joints()
    tips = data.v_template[data.fingertip_vertex_ids]
    mirror = data.side == "left"
    if mirror:
        j, tips = j * C.MIRROR_POINTS, tips * C.MIRROR_POINTS
    n = _unit(np.cross(j[FINGER_JOINTS["index"][0]] - j[0], j[FINGER_JOINTS["pinky"][0]] - j[0]))
    frames = np.zeros((15, 3, 3))
    for finger, ids in FINGER_JOINTS.items():
        chain = [j[i] for i in ids] + [tips[TIP_OF[finger]]]
        for k, jid in enumerate(ids):
            d = _unit(chain[k + 1] - chain[k])
            nn = n
            if finger == "thumb":
                m = _unit(np.cross(n, d))
                m = m if m @ (j[FINGER_JOINTS["middle"][0]] - j[jid]) > 0 else -m
                nn = np.cos(THUMB_PRONATION_RAD) * n + np.sin(THUMB_PRONATION_RAD) * m
            a = _unit(np.cross(d, nn))
            c = _unit(np.cross(d, a))
            frames[jid - 1] = np.stack([a, c, d])
    if mirror:
        frames = frames * C.MIRROR_AXIS_ANGLE
    return frames


def angles_to_axis_angle(angles: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Anatomical angles -> axis-angle finger pose.

    Args:
        angles: (N, 15, 3) (flex, abduct, twist) radians.
        frames: (15, 3, 3) from :func:`joint_frames`.

    Returns:
        (N, 45) axis-angle.
    """
    return np.einsum("njk,jkd->njd", angles, frames).reshape(len(angles), 45)


def axis_angle_to_angles(pose: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Inverse of :func:`angles_to_axis_angle` (frames are orthonormal). (N, 45) -> (N, 15, 3)."""
    return np.einsum("njd,jkd->njk", pose.reshape(len(pose), 15, 3), frames)


def clip_to_limits(full_pose: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Clips a full finger pose (hands_mean included) to :data:`JOINT_LIMITS`. (N, 45) -> (N, 45)."""
    ang = axis_angle_to_angles(full_pose, frames)
    ang = np.clip(ang, JOINT_LIMITS[None, :, :, 0], JOINT_LIMITS[None, :, :, 1])
    return angles_to_axis_angle(ang, frames)


def gesture_angles(curl: np.ndarray, spread: np.ndarray, thumb: np.ndarray) -> np.ndarray:
    """Anatomical angles of a gesture from a few synergy values.

    Args:
        curl: (N, 4) closure of index, middle, ring, pinky in [-0.1, 1] (0 straight, 1 fist).
        spread: (N,) finger spread in radians (positive fans the fingers out).
        thumb: (N, 3) thumb (opposition, curl, abduction): opposition swings it across the palm,
            curl flexes its MCP and IP joints, abduction lifts it away from the index finger.

    Returns:
        (N, 15, 3) angles, MANO native joint order.
    """
    n = len(curl)
    ang = np.zeros((n, 15, 3))
    gains = np.array([1.45, 1.75, 1.15])  # MCP, PIP, DIP flexion at curl = 1
    fan = {"index": 0.8, "middle": 0.1, "ring": -0.6, "pinky": -1.2}
    for col, finger in enumerate(("index", "middle", "ring", "pinky")):
        ids = np.array(FINGER_JOINTS[finger]) - 1
        ang[:, ids, 0] = curl[:, col : col + 1] * gains
        ang[:, ids[0], 1] = fan[finger] * spread * np.clip(1.0 - curl[:, col], 0.0, 1.0)
    t = np.array(FINGER_JOINTS["thumb"]) - 1
    ang[:, t[0], 0] = 0.75 * thumb[:, 0]
    ang[:, t[0], 1] = -0.5 * thumb[:, 2] - 0.2 * thumb[:, 0]
    ang[:, t[0], 2] = 0.35 * thumb[:, 0]
    ang[:, t[1], 0] = 0.8 * thumb[:, 1]
    ang[:, t[2], 0] = 1.1 * thumb[:, 1]
    return ang


NAMED_GESTURES: dict[str, tuple[tuple[float, float, float, float], float, tuple[float, float, float]]] = {
    "flat": ((0.0, 0.0, 0.0, 0.0), 0.0, (0.0, 0.0, 0.0)),
    "open": ((0.05, 0.05, 0.05, 0.05), 0.25, (0.0, 0.0, 0.4)),
    "fist": ((1.0, 1.0, 1.0, 1.0), 0.0, (0.8, 0.7, 0.0)),
    "pointing": ((0.0, 1.0, 1.0, 1.0), 0.0, (0.8, 0.6, 0.0)),
    "thumbs_up": ((1.0, 1.0, 1.0, 1.0), 0.0, (-0.2, 0.0, 0.6)),
}
"""Gestures as (curl index..pinky, spread, thumb (opposition, curl, abduction))."""


def named_pose(data: ModelData, name: str) -> np.ndarray:
    """A named gesture as a *full* finger pose for ``data`` (hands_mean included).

    Args:
        data: the model (its rest skeleton gives the joint frames).
        name: one of :data:`NAMED_GESTURES`.

    Returns:
        (45,) axis-angle; pass ``full - hands_mean`` as ``hand_pose`` (flat_hand_mean=False).
    """
    curl, spread, thumb = NAMED_GESTURES[name]
    ang = gesture_angles(np.array([curl]), np.array([spread]), np.array([thumb]))
    return angles_to_axis_angle(ang, joint_frames(data))[0]


def synergy_angles(n: int, rng: np.random.Generator) -> np.ndarray:
    """Samples plausible hand poses from finger synergies (the procedural model's distribution).

    A shared grasp closure drives every finger, each finger deviates from it independently (so
    pointing and counting gestures occur), the thumb opposes more as the hand closes, and a little
    independent noise keeps every direction of the 45-d space populated.

    Args:
        n: number of poses.
        rng: numpy generator.

    Returns:
        (n, 15, 3) anatomical angles within :data:`JOINT_LIMITS`.
    """
    grasp = rng.beta(1.0, 2.0, size=(n, 1))
    own = rng.uniform(-0.1, 1.0, size=(n, 4))
    mix = rng.uniform(0.4, 0.9, size=(n, 1))
    curl = np.clip(mix * grasp + (1 - mix) * own, -0.1, 1.0)
    spread = rng.uniform(-0.05, 0.3, size=n)
    thumb = np.stack([np.clip(grasp[:, 0] + rng.normal(0, 0.25, n), -0.3, 1.0),
                      np.clip(0.7 * grasp[:, 0] + rng.normal(0, 0.25, n), -0.1, 1.0),
                      rng.uniform(0.0, 0.8, n)], axis=1)
    ang = gesture_angles(curl, spread, thumb) + rng.normal(0.0, 0.03, size=(n, 15, 3))
    return np.clip(ang, JOINT_LIMITS[None, :, :, 0], JOINT_LIMITS[None, :, :, 1])


def _normal(shape: tuple[int, int], generator: np.random.Generator | torch.Generator | int) -> np.ndarray:
    if isinstance(generator, torch.Generator):
        return torch.randn(shape, generator=generator, dtype=torch.float64).numpy()
    rng = generator if isinstance(generator, np.random.Generator) else np.random.default_rng(generator)
    return rng.standard_normal(shape)


def sample_hand_pose(
    model: ModelData | torch.nn.Module, n: int, generator: np.random.Generator | torch.Generator | int
) -> np.ndarray:
    """Samples finger poses from the model's pose prior.

    Gaussian in the model's pose-PCA space (per-component std from the file when stored, else
    :data:`MANO_PCA_STD_RAD`) around ``hands_mean``, then clipped to :data:`JOINT_LIMITS`.

    Args:
        model: :class:`~smhr.hand.model_file.ModelData`, or a ``HandModel`` built from one
            (``model.data``).
        n: number of poses.
        generator: a numpy Generator, a torch Generator, or an int seed.

    Returns:
        (n, 45) float32 axis-angle in ``HandModel.forward``'s ``hand_pose`` convention for
        ``flat_hand_mean=False`` (hands_mean *not* included).
    """
    data = model if isinstance(model, ModelData) else model.data
    comps = data.hands_components
    std = data.hands_components_std if data.hands_components_std is not None else MANO_PCA_STD_RAD[: len(comps)]
    coeffs = _normal((n, len(comps)), generator) * std
    full = data.hands_mean + coeffs @ comps
    full = clip_to_limits(full, joint_frames(data))
    return (full - data.hands_mean).astype(np.float32)
