"""Similarity transforms of annotated hands: every annotation follows the pixels, 3D included.

An image transformed by a 2D similarity ``A`` (scale, in-plane rotation, translation, optionally a
mirror) is what another camera would see. For the rotation/scale/translation part ``A``, write the
new projection ``A @ K = K' @ Rz`` (an RQ decomposition of its top-left 2x2 block): ``K'`` stays
upper triangular with a positive diagonal, and ``Rz`` is a rotation about the optical axis
applied to the 3D (``X' = Rz X``), so ``project(X', K') == A(project(X, K))`` exactly. When
``fx == fy`` and skew is 0, ``Rz`` is the image rotation itself and ``K'`` has focal ``s * f``
and principal point ``A(c)``. A mirror is done first by :func:`smhr.data.transforms.mirror.mirror_hand`.

MANO under ``Rz``: the global orientation becomes ``Rz @ R0``; MANO rotates about the root joint
``J0`` (where the wrist ``j0 = J0 + trans`` is), so ``trans' = Rz j0 - j0 + trans``. That needs the
hand's 3D wrist; without ``joints3d`` a rotated hand's MANO parameters are dropped (set None).
"""

from __future__ import annotations

import numpy as np

from smhr.data.transforms.mirror import mirror_hand
from smhr.data.datasets.sample import Hand, ManoParams, Sample, bbox_from_points
from smhr.data.transforms.warp import apply_affine, warp_affine
from smhr.geometry.rotations import axis_angle_to_matrix_np, matrix_to_axis_angle_np
from smhr.hand.joints import WRIST

_ROT_EPS = 1e-12


def rq2(B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``B = U @ Q`` with ``U`` upper triangular (positive diagonal) and ``Q`` a 2D rotation.

    Args:
        B: (2, 2) with ``det(B) > 0``.

    Returns:
        ``(U, Q)``, both (2, 2) float64.
    """
    row1 = B[1].astype(np.float64)
    u11 = float(np.hypot(row1[0], row1[1]))
    q2 = row1 / u11
    q1 = np.array([q2[1], -q2[0]])
    Q = np.stack([q1, q2])
    U = np.array([[B[0] @ q1, B[0] @ q2], [0.0, u11]])
    return U, Q


def _bbox_in_image(hand_mask: np.ndarray | None, corners: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """Box of the mask's pixels if it has any, else of the given corner points; clipped to the image."""
    h, w = out_hw
    if hand_mask is not None and hand_mask.any():
        rows, cols = np.nonzero(hand_mask.any(axis=1))[0], np.nonzero(hand_mask.any(axis=0))[0]
        return np.array([cols[0] - 0.5, rows[0] - 0.5, cols[-1] + 0.5, rows[-1] + 0.5], dtype=np.float32)
    box = bbox_from_points(corners)
    return np.clip(box, [-0.5, -0.5, -0.5, -0.5], [w - 0.5, h - 0.5, w - 0.5, h - 0.5]).astype(np.float32)


def inside_image(points: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """(N,) bool: which (N, 2) pixel points lie inside an image of ``out_hw = (H, W)``."""
    h, w = out_hw
    return (points[:, 0] >= -0.5) & (points[:, 0] < w - 0.5) & (points[:, 1] >= -0.5) & (points[:, 1] < h - 0.5)


def _rotate_mano(mano: ManoParams, Rz: np.ndarray, wrist: np.ndarray) -> ManoParams:
    R0 = axis_angle_to_matrix_np(mano.pose[:3])
    pose = mano.pose.copy()
    pose[:3] = matrix_to_axis_angle_np(Rz @ R0).astype(pose.dtype)
    wrist = wrist.astype(np.float64)
    trans = (Rz @ wrist - wrist + mano.trans).astype(mano.trans.dtype)
    return ManoParams(pose=pose, betas=mano.betas.copy(), trans=trans)


def transform_hand(hand: Hand, A: np.ndarray, src_width: int, out_hw: tuple[int, int], warp_mask: bool = True) -> Hand:
    """Applies the pixel similarity ``A`` to every annotation of ``hand``.

    Args:
        hand: a hand annotated in a source image of width ``src_width``.
        A: (3, 3) similarity from source to destination pixels; ``det(A[:2, :2]) < 0`` means it
            mirrors, and the hand then changes side (:func:`~smhr.data.transforms.mirror.mirror_hand`).
        src_width: width of the source image (the mirror's axis).
        out_hw: destination image ``(height, width)``.
        warp_mask: warp ``hand.mask`` too (nearest); if False the result has ``mask=None``.

    Returns:
        A new Hand in the destination image: ``joints2d`` mapped, ``visible`` cleared outside the
        image, ``K``/3D/MANO updated so that ``project(joints3d, K) == joints2d``, ``bbox`` from
        the warped mask (or the mapped old box when there is no mask).
    """
    A = np.asarray(A, dtype=np.float64)
    if np.linalg.det(A[:2, :2]) < 0:
        hand = mirror_hand(hand, src_width)
        flip = np.array([[-1.0, 0.0, src_width - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        A = A @ flip  # flip is its own inverse: A = (A @ flip) @ flip
    K = hand.K.astype(np.float64)
    U, Q = rq2(A[:2, :2] @ K[:2, :2])
    K_new = np.eye(3)
    K_new[:2, :2] = U
    K_new[:2, 2] = A[:2, :2] @ K[:2, 2] + A[:2, 2]
    Rz = np.eye(3)
    Rz[:2, :2] = Q
    rotated = abs(Q[0, 1]) > _ROT_EPS

    def rot(points: np.ndarray | None) -> np.ndarray | None:
        if points is None or not rotated:
            return None if points is None else points.copy()
        return (points.astype(np.float64) @ Rz.T).astype(points.dtype)

    mano = hand.mano
    if mano is not None and rotated:
        mano = None if hand.joints3d is None else _rotate_mano(mano, Rz, hand.joints3d[WRIST])
    joints2d = apply_affine(A, hand.joints2d).astype(np.float32)
    mask = None
    if warp_mask and hand.mask is not None:
        mask = warp_affine(hand.mask, A, out_hw, interp="nearest")
    x0, y0, x1, y1 = hand.bbox
    corners = apply_affine(A, np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]]))
    return Hand(
        side=hand.side,
        joints2d=joints2d,
        visible=hand.visible & inside_image(joints2d, out_hw),
        bbox=_bbox_in_image(mask, corners, out_hw),
        K=K_new.astype(np.float32),
        joints3d=rot(hand.joints3d),
        verts3d=rot(hand.verts3d),
        mano=mano,
        mask=mask,
        joints3d_valid=None if hand.joints3d_valid is None else hand.joints3d_valid.copy(),
    )


def transform_sample(sample: Sample, A: np.ndarray, out_hw: tuple[int, int], fill: int = 0) -> Sample:
    """Warps the image (bilinear) and every hand by the pixel similarity ``A``.

    Args:
        sample: the source sample.
        A: (3, 3) similarity from source to destination pixels (may mirror).
        out_hw: destination ``(height, width)``.
        fill: value of image pixels that fall outside the source.

    Returns:
        A new Sample of size ``out_hw``.
    """
    image = warp_affine(sample.image, A, out_hw, interp="bilinear", fill=fill)
    hands = [transform_hand(h, A, sample.width, out_hw) for h in sample.hands]
    return Sample(image=image, hands=hands, source=sample.source)
