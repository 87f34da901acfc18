"""Joint orders, written once.

Three orders appear in this field:

* **MANO native** (16 joints, the kinematic tree of the model file): wrist, then index, middle,
  pinky, ring, thumb, three joints each (base to distal).
* **HO3D / "MANO with tips"** (21): the 16 MANO joints, then the five fingertips in the order
  thumb, index, middle, ring, pinky. HO3D's ``handJoints3D`` and predictions use it.
* **OpenPose / FreiHAND** (21): wrist, then thumb, index, middle, ring, pinky, four joints each,
  base to tip. *This is the order used everywhere inside smhr.*

Permutations are "gather" indices: ``x_openpose = x_other[..., PERM, :]``.
"""

from __future__ import annotations

import numpy as np

NUM_JOINTS = 21
NUM_MANO_JOINTS = 16
FINGERS = ("thumb", "index", "middle", "ring", "pinky")

OPENPOSE_JOINT_NAMES: tuple[str, ...] = ("wrist",) + tuple(
    f"{finger}{k}" for finger in FINGERS for k in (1, 2, 3, 4)
)
"""21 names, OpenPose order: ``thumb1`` is the thumb's base (CMC) joint and ``thumb4`` its tip."""

MANO_JOINT_NAMES: tuple[str, ...] = ("wrist",) + tuple(
    f"{finger}{k}" for finger in ("index", "middle", "pinky", "ring", "thumb") for k in (1, 2, 3)
)
"""16 names, MANO's native kinematic order."""

HO3D_JOINT_NAMES: tuple[str, ...] = MANO_JOINT_NAMES + tuple(f"{finger}4" for finger in FINGERS)
"""21 names, HO3D order: MANO's 16 joints followed by the tips (thumb, index, middle, ring, pinky)."""

HO3D_TO_OPENPOSE = np.array([HO3D_JOINT_NAMES.index(n) for n in OPENPOSE_JOINT_NAMES], dtype=np.int64)
"""Gather indices: ``joints_openpose = joints_ho3d[..., HO3D_TO_OPENPOSE, :]``."""

OPENPOSE_TO_HO3D = np.array([OPENPOSE_JOINT_NAMES.index(n) for n in HO3D_JOINT_NAMES], dtype=np.int64)
"""Gather indices: ``joints_ho3d = joints_openpose[..., OPENPOSE_TO_HO3D, :]``."""

OPENPOSE_PARENTS = np.array(
    [-1] + [0 if k == 0 else 1 + 4 * f + k - 1 for f in range(5) for k in range(4)], dtype=np.int64
)
"""Parent of each OpenPose joint (the wrist has none): the skeleton's bones are ``(PARENT[j], j)``."""

OPENPOSE_BONES: tuple[tuple[int, int], ...] = tuple((int(OPENPOSE_PARENTS[j]), j) for j in range(1, NUM_JOINTS))
"""The 20 bones, ``(parent, child)`` pairs in OpenPose indices."""

WRIST = 0
MIDDLE_MCP = OPENPOSE_JOINT_NAMES.index("middle1")
MIDDLE_PIP = OPENPOSE_JOINT_NAMES.index("middle2")
"""FreiHAND's ``*_scale.json`` holds the length of the bone MIDDLE_MCP -> MIDDLE_PIP (joints 9 -> 10)."""
