"""Turning a right hand into a left one (and back): image, 2D, 3D, MANO parameters and ``K``.

Mirroring is done in the camera frame, across its y-z plane: ``X -> -X`` (``smhr.hand.conventions.MIRROR_POINTS``). With the
image flipped horizontally at the same time (pixel centres: ``u -> W - 1 - u``), the mirrored 3D
projects onto the flipped 2D with ``K' = flip_intrinsics_x(K, W)`` (``cx' = W - 1 - cx``).

MANO parameters for the other side's model (the left model is the mirror image of the right one:
``v_template``, joint regressor and ``shapedirs`` mirrored in x, after the known left-hand
``shapedirs`` sign fix):

* pose: every joint's axis-angle ``(x, y, z) -> (x, -y, -z)`` (global orientation included),
  because ``M R(w) M = R(det(M) M w)`` for the reflection ``M = diag(-1, 1, 1)``. The map is
  linear, so it applies equally with or without ``hands_mean`` added, as long as the left
  model's ``hands_mean`` is the mirror of the right one's (true of MANO and of our model);
* betas: unchanged;
* trans: ``(tx, ty, tz) -> (-tx, ty, tz)``, since the root joint of the mirrored rest shape is
  the mirrored root joint.
"""

from __future__ import annotations

import numpy as np

from smhr.data.datasets.sample import Hand, ManoParams, Sample
from smhr.geometry.camera import flip_intrinsics_x
from smhr.hand.conventions import MIRROR_POINTS, mirror_axis_angle

OTHER_SIDE = {"left": "right", "right": "left"}
"""The side a mirrored hand has."""

def mirror_points(points: np.ndarray) -> np.ndarray:
    """Mirrors (..., 3) camera-frame points: ``X -> -X``. Keeps the dtype."""
    return (points * MIRROR_POINTS.astype(points.dtype)).astype(points.dtype, copy=False)


def mirror_pose(pose: np.ndarray) -> np.ndarray:
    """Mirrors MANO axis-angle pose vectors.

    Args:
        pose: (..., 3k) axis-angle, k joints (48 for MANO: global orientation + 15 joints).

    Returns:
        (..., 3k) same dtype: each joint's ``(x, y, z) -> (x, -y, -z)``.
    """
    return mirror_axis_angle(pose).astype(pose.dtype, copy=False)


def mirror_mano(mano: ManoParams) -> ManoParams:
    """MANO parameters of the mirrored hand for the other side's model (see module docstring)."""
    return ManoParams(
        pose=mirror_pose(mano.pose),
        betas=mano.betas.copy(),
        trans=mirror_points(mano.trans[None])[0],
    )


def mirror_hand(hand: Hand, width: int) -> Hand:
    """The hand seen in the horizontally flipped image of width ``width``, as the other side.

    Args:
        hand: a hand annotated in an image ``width`` pixels wide.
        width: image width W; pixel ``u`` maps to ``W - 1 - u``.

    Returns:
        A new Hand: side swapped; ``joints2d`` and ``bbox`` flipped; ``joints3d``, ``verts3d``
        and MANO mirrored; ``K`` from :func:`~smhr.geometry.camera.flip_intrinsics_x`; mask flipped.
    """
    flip_u = width - 1.0
    joints2d = hand.joints2d.copy()
    joints2d[:, 0] = flip_u - joints2d[:, 0]
    x0, y0, x1, y1 = hand.bbox
    return Hand(
        side=OTHER_SIDE[hand.side],  # type: ignore[arg-type]
        joints2d=joints2d,
        visible=hand.visible.copy(),
        bbox=np.array([flip_u - x1, y0, flip_u - x0, y1], dtype=hand.bbox.dtype),
        K=flip_intrinsics_x(hand.K, width),
        joints3d=None if hand.joints3d is None else mirror_points(hand.joints3d),
        verts3d=None if hand.verts3d is None else mirror_points(hand.verts3d),
        mano=None if hand.mano is None else mirror_mano(hand.mano),
        mask=None if hand.mask is None else np.ascontiguousarray(hand.mask[:, ::-1]),
        joints3d_valid=None if hand.joints3d_valid is None else hand.joints3d_valid.copy(),
    )


def mirror_sample(sample: Sample) -> Sample:
    """Flips the image horizontally and mirrors every hand (rights become lefts and vice versa)."""
    return Sample(
        image=np.ascontiguousarray(sample.image[:, ::-1]),
        hands=[mirror_hand(h, sample.width) for h in sample.hands],
        source=sample.source,
    )
