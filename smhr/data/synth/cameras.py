"""Viewpoint and camera sampling for synthetic hands.

Camera frame: OpenCV axes (x right, y down, z forward), pixel centres at integers
(:mod:`smhr.geometry.camera`). A hand is placed in three steps:

1. :func:`hand_frame` reads the model's canonical frame from its rest-pose joints: the finger
   axis (wrist -> middle MCP), the lateral axis (pinky MCP -> index MCP, the thumb's side, negated
   for a left hand) and the palm normal (their cross product, pointing out of the palm).
2. :func:`sample_global_rotation` turns that frame towards the camera: palm or back view with
   equal probability, tilted up to ``max_tilt_deg`` about the camera's x and y axes, rolled by any
   angle about its optical axis; a fraction of hands get a uniformly random rotation instead.
3. :func:`sample_intrinsics` draws a FreiHAND-like pinhole camera, and :func:`place_hand` picks
   the translation that makes the posed hand fill a sampled fraction of the image around a
   jittered centre, or, for a fraction of samples, cross an image border (partial crops).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from smhr.hand.joints import OPENPOSE_JOINT_NAMES, WRIST

_INDEX_MCP = OPENPOSE_JOINT_NAMES.index("index1")
_MIDDLE_MCP = OPENPOSE_JOINT_NAMES.index("middle1")
_PINKY_MCP = OPENPOSE_JOINT_NAMES.index("pinky1")

# Where the canonical frame's axes go in a "palm view, fingers up" camera pose (OpenCV axes):
# lateral -> image right (+x), fingers -> image up (-y), palm normal -> towards the camera (-z).
_PALM_VIEW = np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]]).T


@dataclass(frozen=True)
class CameraRanges:
    """Ranges of viewpoint, intrinsics and placement sampling.

    Attributes:
        focal_px: focal length range in pixels for a 224-pixel image (scaled with the image size).
        principal_jitter_px: std of the principal point's offset from the image centre (224 px scale).
        hand_fill: range of the projected hand's longer box side as a fraction of the image side.
        center_jitter: std of the hand box centre's offset from the image centre, fraction of the
            image side (the box is kept inside the image unless the sample is a partial crop).
        crop_prob: fraction of samples whose hand crosses an image border.
        crop_outside: range of the fraction of the hand box (along the crossing axis) outside the image.
        back_prob: probability of a back-of-hand view (else palm view) before tilting.
        max_tilt_deg: largest tilt about the camera's x and y axes, degrees.
        random_rotation_prob: fraction of hands with a uniformly random global rotation.
    """

    focal_px: tuple[float, float] = (450.0, 900.0)
    principal_jitter_px: float = 3.0
    hand_fill: tuple[float, float] = (0.55, 0.85)
    center_jitter: float = 0.08
    crop_prob: float = 0.15
    crop_outside: tuple[float, float] = (0.1, 0.4)
    back_prob: float = 0.5
    max_tilt_deg: float = 60.0
    random_rotation_prob: float = 0.2


def hand_frame(rest_joints: np.ndarray, side: str) -> np.ndarray:
    """The hand's canonical frame from its rest-pose joints.

    Args:
        rest_joints: (21, 3) joints in OpenPose order, model coordinates.
        side: ``"right"`` or ``"left"``.

    Returns:
        (3, 3) rotation whose columns are, in model coordinates: the lateral axis (towards the
        thumb for a right hand, away from it for a left one: the image's right in a palm view),
        the finger axis and the palm normal (out of the palm); a right-handed frame.
    """
    fingers = rest_joints[_MIDDLE_MCP] - rest_joints[WRIST]
    fingers = fingers / np.linalg.norm(fingers)
    lateral = rest_joints[_INDEX_MCP] - rest_joints[_PINKY_MCP]
    lateral = lateral - fingers * (lateral @ fingers)
    lateral = lateral / np.linalg.norm(lateral)
    if side == "left":
        # Mirror image: in a palm view with the fingers up, a left thumb points to the image's left.
        lateral = -lateral
    normal = np.cross(lateral, fingers)
    return np.stack([lateral, fingers, normal], axis=1)


def rotation_about(axis: int, angle: float) -> np.ndarray:
    """(3, 3) rotation by ``angle`` radians about coordinate axis 0 (x), 1 (y) or 2 (z)."""
    c, s = math.cos(angle), math.sin(angle)
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    R = np.eye(3)
    R[i, i], R[i, j], R[j, i], R[j, j] = c, -s, s, c
    return R


def uniform_rotation(rng: np.random.Generator) -> np.ndarray:
    """(3, 3) rotation drawn uniformly from SO(3) (normalised Gaussian quaternion)."""
    w, x, y, z = rng.standard_normal(4)
    n = math.sqrt(w * w + x * x + y * y + z * z)
    w, x, y, z = w / n, x / n, y / n, z / n
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def sample_global_rotation(frame: np.ndarray, rng: np.random.Generator, ranges: CameraRanges) -> np.ndarray:
    """Samples the hand's global rotation (model coordinates -> camera frame).

    Args:
        frame: (3, 3) the hand's canonical frame (:func:`hand_frame`).
        rng: random generator.
        ranges: sampling ranges.

    Returns:
        (3, 3) rotation matrix, applied about the root joint (MANO's ``global_orient``).
    """
    if rng.uniform() < ranges.random_rotation_prob:
        return uniform_rotation(rng)
    R = _PALM_VIEW @ frame.T  # palm view, fingers up
    if rng.uniform() < ranges.back_prob:
        R = rotation_about(1, math.pi) @ R
    tilt = math.radians(ranges.max_tilt_deg)
    R = rotation_about(0, rng.uniform(-tilt, tilt)) @ rotation_about(1, rng.uniform(-tilt, tilt)) @ R
    return rotation_about(2, rng.uniform(-math.pi, math.pi)) @ R


def sample_intrinsics(image_size: int, rng: np.random.Generator, ranges: CameraRanges) -> np.ndarray:
    """Samples a pinhole camera for a square image.

    Args:
        image_size: image side in pixels.
        rng: random generator.
        ranges: sampling ranges (pixel values are given for 224 pixels and scaled).

    Returns:
        (3, 3) float64 intrinsics, zero skew, square pixels.
    """
    scale = image_size / 224.0
    focal = rng.uniform(*ranges.focal_px) * scale
    centre = (image_size - 1) / 2.0
    cx, cy = centre + ranges.principal_jitter_px * scale * rng.standard_normal(2)
    return np.array([[focal, 0.0, cx], [0.0, focal, cy], [0.0, 0.0, 1.0]])


def place_hand(verts: np.ndarray, K: np.ndarray, image_size: int, rng: np.random.Generator, ranges: CameraRanges) -> np.ndarray:
    """Translation that puts a rotated hand in front of the camera at a sampled size and position.

    The hand's box (in x, y) is scaled to ``hand_fill`` of the image by its depth, and its centre
    is projected to the image centre plus jitter (keeping the whole box inside the image), or,
    with probability ``crop_prob``, to a point where ``crop_outside`` of the box lies beyond a
    random image border.

    Args:
        verts: (V, 3) vertices after the global rotation, before translation (metres).
        K: (3, 3) intrinsics.
        image_size: image side in pixels.
        rng: random generator.
        ranges: sampling ranges.

    Returns:
        (3,) translation in metres (camera frame) to add to ``verts`` (MANO's ``transl``).
    """
    lo, hi = verts.min(axis=0), verts.max(axis=0)
    centre = (lo + hi) / 2.0
    extent = float(max(hi[0] - lo[0], hi[1] - lo[1], 1e-3))
    focal = float(K[0, 0])
    fill = rng.uniform(*ranges.hand_fill)
    depth = focal * extent / (fill * image_size)
    depth = max(depth, float(hi[2] - lo[2]) + 0.05)  # every vertex stays well in front of the camera
    half_px = (hi[:2] - lo[:2]) * focal / depth / 2.0  # half box size in pixels (x, y)
    edge_lo, edge_hi = -0.5, image_size - 0.5
    target = np.empty(2)
    for axis in range(2):
        low, high = edge_lo + half_px[axis], edge_hi - half_px[axis]
        wanted = (image_size - 1) / 2.0 + ranges.center_jitter * image_size * rng.standard_normal()
        target[axis] = np.clip(wanted, low, high) if low <= high else (image_size - 1) / 2.0
    if rng.uniform() < ranges.crop_prob:
        axis = int(rng.integers(2))
        outside = rng.uniform(*ranges.crop_outside) * 2.0 * half_px[axis]
        if rng.uniform() < 0.5:
            target[axis] = edge_lo + half_px[axis] - outside
        else:
            target[axis] = edge_hi - half_px[axis] + outside
    cx, cy = K[0, 2], K[1, 2]
    txy = (target - np.array([cx, cy])) * depth / focal - centre[:2]
    return np.array([txy[0], txy[1], depth - centre[2]])
