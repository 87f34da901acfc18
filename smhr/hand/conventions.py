"""Hand-model conventions, each written once.

Public MANO code disagrees on almost every one of these; the choices below are the ones smhr uses,
with the alternatives named so that numbers from other code can be converted.

**Fingertip vertex ids** (MANO topology, order thumb, index, middle, ring, pinky). The 21-joint
skeleton takes its five tips from mesh vertices, and three sets are in use:

* :data:`FINGERTIPS_SMPLX` ``744, 320, 443, 554, 671``: smplx's ``vertex_ids['mano']``.
* :data:`FINGERTIPS_FREIHAND` ``744, 320, 443, 555, 672``: ``kpId2vertices`` in
  lmb-freiburg/freihand ``utils/mano_utils.py``; FreiHAND's ``*_xyz.json`` were made with these.
* :data:`FINGERTIPS_MANOPTH` ``745, 317, 444, 556, 673`` (left hand: middle tip 445): manopth's
  ``ManoLayer`` and the code built on it (HO3D-era tools, InterHand2.6M/HandOccNet regressors).

smhr uses FreiHAND's set for the real MANO (:data:`MANO_FINGERTIP_VERTEX_IDS`), because FreiHAND's
evaluation is the one our metrics reproduce. Our own model files store their own ids.

**hands_mean.** MANO's finger pose is ``full = hands_mean + hand_pose`` when
``flat_hand_mean=False`` (the default in MANO's loader, smplx and here), and ``full = hand_pose``
otherwise. FreiHAND's ``*_mano.json`` holds 61 numbers: 48 pose (3 global + 45 fingers), 10 betas,
3 = (u, v of the root, scale). Its ``pose_hand`` builds MANO with ``use_mean_pose=True``, i.e.
``flat_hand_mean=False``: **the 45 finger values there exclude hands_mean**, the model adds it.
So FreiHAND's pose goes straight into ``HandModel(flat_hand_mean=False)``.

**Left-hand shapedirs.** The official ``MANO_LEFT.pkl`` has ``shapedirs[:, 0, :]`` (the x
component) equal to the right model's instead of its mirror, so shapes do not mirror
(smplx issue #48; InterHand2.6M and HaMeR negate it when it is close to the right one).
:func:`fix_left_shapedirs` applies that fix; the loader does it by default, because left hands must
be the mirror images of right hands with the same betas (see ``docs/hand_model.md``).

**Mirroring.** Left = right with ``x -> -x``: vertices ``v * (-1, 1, 1)``, faces with reversed
winding, axis-angle rotations ``r * (1, -1, -1)`` (:data:`MIRROR_AXIS_ANGLE`).

**Camera axes.** Everything in smhr is in OpenCV camera axes: x right, y down, z forward (the
camera looks along +z). OpenGL's are x right, y up, z backward; convert points with
:data:`OPENGL_TO_OPENCV` (its own inverse).
"""

from __future__ import annotations

import numpy as np

FINGERTIP_ORDER = ("thumb", "index", "middle", "ring", "pinky")
"""Order of every fingertip-id array in smhr."""

FINGERTIPS_SMPLX = np.array([744, 320, 443, 554, 671], dtype=np.int64)
"""smplx's ``vertex_ids['mano']`` tips (thumb, index, middle, ring, pinky)."""

FINGERTIPS_FREIHAND = np.array([744, 320, 443, 555, 672], dtype=np.int64)
"""FreiHAND's tips (``kpId2vertices`` in lmb-freiburg/freihand ``utils/mano_utils.py``)."""

FINGERTIPS_MANOPTH = np.array([745, 317, 444, 556, 673], dtype=np.int64)
"""manopth's right-hand tips; its left hand uses 445 for the middle finger."""

MANO_FINGERTIP_VERTEX_IDS = FINGERTIPS_FREIHAND
"""Tips smhr uses for the real MANO topology (778 vertices)."""

MANO_NUM_VERTS = 778
MANO_NUM_FACES = 1538
SMPL_NUM_VERTS = 6890
NUM_BETAS = 10
NUM_POSE_PARAMS = 45
"""15 finger joints x 3 axis-angle components."""

MANO_KINTREE_PARENTS = np.array([-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 0, 10, 11, 0, 13, 14], dtype=np.int64)
"""Parent of each of MANO's 16 joints (native order, see :mod:`smhr.hand.joints`)."""

MANO_REQUIRED_KEYS = (
    "v_template",
    "f",
    "J_regressor",
    "weights",
    "kintree_table",
    "shapedirs",
    "posedirs",
    "hands_components",
    "hands_mean",
)
"""Keys every MANO-format file must hold."""

MIRROR_POINTS = np.array([-1.0, 1.0, 1.0])
"""Multiply points by this to mirror right <-> left (``x -> -x``)."""

MIRROR_AXIS_ANGLE = np.array([1.0, -1.0, -1.0])
"""Multiply axis-angle vectors by this to mirror a rotation through the x=0 plane."""

OPENGL_TO_OPENCV = np.diag([1.0, -1.0, -1.0])
"""Point conversion between OpenGL camera axes (y up, z back) and OpenCV's (y down, z forward)."""

SIDES = ("left", "right")


def fix_left_shapedirs(shapedirs_left: np.ndarray, shapedirs_right: np.ndarray | None = None) -> np.ndarray:
    """Negates the x component of the official left model's shape directions.

    Args:
        shapedirs_left: (V, 3, 10) the left file's ``shapedirs``.
        shapedirs_right: (V, 3, 10) the right file's, if at hand. When given, the fix is applied
            only if the x components are (nearly) equal, i.e. the file still has the bug; when
            omitted, the fix is applied unconditionally (official files all have it).

    Returns:
        (V, 3, 10) a fixed copy.
    """
    out = np.array(shapedirs_left, dtype=np.float64, copy=True)
    if shapedirs_right is not None:
        if np.abs(out[:, 0, :] - shapedirs_right[:, 0, :]).sum() >= 1.0:
            return out
    out[:, 0, :] *= -1.0
    return out


def mirror_axis_angle(aa: np.ndarray) -> np.ndarray:
    """Mirrors axis-angle rotations between right and left hands.

    Args:
        aa: (..., 3k) axis-angle vectors, any number of joints flattened.

    Returns:
        Same shape, each 3-vector multiplied by :data:`MIRROR_AXIS_ANGLE`.
    """
    shape = np.shape(aa)
    return (np.reshape(aa, (-1, 3)) * MIRROR_AXIS_ANGLE).reshape(shape)
