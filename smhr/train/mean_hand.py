"""The mean-hand baseline: the floor every method must beat.

Every hand is predicted as the training set's **mean hand** (mean MANO pose and shape), placed
at a given box (ground truth or a detector's): the root depth makes the projected hand as large as
the box and the root's x, y put the projected hand's box centre on the box centre. It sees no
image, so a method that does not beat it has learnt nothing about pose or shape.

Means: betas and the 15 finger rotations are averaged as vectors (FreiHAND's ``*_mano.json``
convention: finger pose *without* ``hands_mean``, which the hand model adds); the global
orientation is the chordal mean rotation (average of rotation matrices projected back onto
SO(3)), because averaging axis-angle vectors of widely different orientations is meaningless. The
training set's hands are right hands (FreiHAND's convention); a left hand gets the mirrored pose.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from smhr.data.datasets.sample import SIDES, Sample
from smhr.geometry.camera import project
from smhr.geometry.rotations import axis_angle_to_matrix_np, matrix_to_axis_angle_np
from smhr.hand.conventions import mirror_axis_angle
from smhr.model.decode import run_hand_models
from smhr.model.outputs import HandPredictions

PLACEMENT_ITERATIONS = 3
"""Fixed-point rounds fitting the perspective projection's box to the target box."""


@dataclass(frozen=True)
class MeanHand:
    """The mean right hand.

    Attributes:
        global_orient: (3,) axis-angle, the chordal mean orientation.
        hand_pose: (45,) mean finger pose (without ``hands_mean``).
        betas: (10,) mean shape.
        count: hands averaged.
    """

    global_orient: np.ndarray
    hand_pose: np.ndarray
    betas: np.ndarray
    count: int


def mean_rotation(aa: np.ndarray) -> np.ndarray:
    """Chordal L2 mean of rotations.

    Args:
        aa: (N, 3) axis-angle.

    Returns:
        (3,) axis-angle of the rotation nearest (Frobenius) to the mean rotation matrix.
    """
    mean = axis_angle_to_matrix_np(np.asarray(aa, np.float64)).mean(0)
    u, _, vt = np.linalg.svd(mean)
    d = np.sign(np.linalg.det(u @ vt))
    return matrix_to_axis_angle_np(u @ np.diag([1.0, 1.0, d]) @ vt)


def mean_hand(pose: np.ndarray, betas: np.ndarray) -> MeanHand:
    """The mean of N right hands' MANO parameters.

    Args:
        pose: (N, 48) axis-angle, ``pose[:, :3]`` global orientation, finger pose without hands_mean.
        betas: (N, 10).

    Raises:
        ValueError: no hands, or non-finite values.
    """
    pose, betas = np.asarray(pose, np.float64), np.asarray(betas, np.float64)
    if len(pose) == 0 or not (np.isfinite(pose).all() and np.isfinite(betas).all()):
        raise ValueError("mean_hand: needs at least one hand with finite MANO parameters")
    return MeanHand(mean_rotation(pose[:, :3]).astype(np.float32), pose[:, 3:].mean(0).astype(np.float32),
                    betas.mean(0).astype(np.float32), len(pose))


def mean_hand_from_freihand(root: str | Path, split: str = "training") -> MeanHand:
    """The mean hand of a FreiHAND-layout split's ``<split>_mano.json``.

    Raises:
        DatasetError: the annotation files are missing or malformed, or have no MANO labels.
    """
    from smhr.data.datasets.freihand import FreiHAND, annotation_path, split_mano
    from smhr.errors import DatasetError

    ds = FreiHAND(root, split, version=0, load_verts=False, load_mask=False)
    if ds.mano is None:
        raise DatasetError(f"{annotation_path(root, split, 'mano')}: not found; the mean hand needs MANO labels")
    parts = [split_mano(m.reshape(-1)) for m in ds.mano]
    return mean_hand(np.stack([p.pose for p in parts]), np.stack([p.betas for p in parts]))


def predict_mean_hands(mean: MeanHand, hand_models, boxes: torch.Tensor, side: torch.Tensor,
                       mask: torch.Tensor, K: torch.Tensor, score: torch.Tensor | None = None) -> HandPredictions:
    """The mean hand at every box.

    Args:
        mean: the mean right hand.
        hand_models: ``(left, right)`` hand models (``SMHRNet.hand_models`` order).
        boxes: (B, H, 4) ``[x0, y0, x1, y1]`` px, ground-truth or detected.
        side: (B, H) 0 left, 1 right.
        mask: (B, H) bool, real slots.
        K: (B, 3, 3) the images' intrinsics.
        score: (B, H) detector scores, or None for 1.

    Returns:
        :class:`HandPredictions` with one hand per real slot (``keypoints2d`` = ``joints2d``).
    """
    b, h = side.shape
    dtype = K.dtype
    left = torch.tensor(np.concatenate([mirror_axis_angle(mean.global_orient), mirror_axis_angle(mean.hand_pose)]),
                        dtype=dtype)
    right = torch.tensor(np.concatenate([mean.global_orient, mean.hand_pose]), dtype=dtype)
    pose = torch.where(side[..., None] == 0, left, right)
    betas = torch.tensor(mean.betas, dtype=dtype).expand(b, h, -1).clone()
    verts, joints = run_hand_models(hand_models, side, mask, pose[..., :3], pose[..., 3:], betas)
    verts, joints = verts.to(dtype), joints.to(dtype)
    transl = _place(joints, boxes.to(dtype), K[:, None].expand(b, h, 3, 3))
    transl = torch.where(mask[..., None], transl, torch.zeros_like(transl))
    joints3d, vertices = joints + transl[..., None, :], verts + transl[..., None, :]
    joints2d = project(joints3d, K[:, None])
    zero2 = torch.zeros_like(joints2d)
    joints2d = torch.where(mask[..., None, None], joints2d, zero2)
    keep = mask[..., None]
    return HandPredictions(
        mask=mask.clone(), score=(score if score is not None else torch.ones(b, h, dtype=dtype)) * mask,
        side=torch.where(mask, side, torch.zeros_like(side)), center=(boxes[..., :2] + boxes[..., 2:]) / 2 * keep,
        box=boxes.to(dtype) * keep, global_orient=pose[..., :3] * keep, hand_pose=pose[..., 3:] * keep,
        betas=betas * keep, transl=transl, vertices=vertices * keep[..., None],
        joints3d=joints3d * keep[..., None], joints2d=joints2d, keypoints2d=joints2d.clone(), K=K)


def predict_samples(mean: MeanHand, hand_models, samples: Sequence[Sample]) -> HandPredictions:
    """The mean hand at every labelled hand's box of each sample, in the samples' own pixels.

    Each image's camera is its first hand's ``K`` (single-camera images: FreiHAND, HO-3D, RHD); an
    image without hands gets no prediction.

    Args:
        mean: the mean right hand.
        hand_models: ``(left, right)``.
        samples: images with labelled hands (their ``side``, ``bbox`` and ``K`` are read).

    Returns:
        :class:`HandPredictions` padded to the largest hand count.
    """
    b, h = len(samples), max([len(s.hands) for s in samples] + [1])
    boxes = torch.zeros(b, h, 4)
    side = torch.zeros(b, h, dtype=torch.long)
    mask = torch.zeros(b, h, dtype=torch.bool)
    K = torch.eye(3).repeat(b, 1, 1)
    for i, sample in enumerate(samples):
        for k, hand in enumerate(sample.hands):
            boxes[i, k] = torch.as_tensor(hand.bbox, dtype=torch.float32)
            side[i, k] = SIDES.index(hand.side)
            mask[i, k] = True
        if sample.hands:
            K[i] = torch.as_tensor(sample.hands[0].K, dtype=torch.float32)
    return predict_mean_hands(mean, hand_models, boxes, side, mask, K)


def _place(joints: torch.Tensor, boxes: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """(B, H, 3) translations putting the model-frame ``joints`` (B, H, J, 3) into ``boxes``."""
    f = (K[..., 0, 0] + K[..., 1, 1]) / 2
    size2d = (boxes[..., 2:] - boxes[..., :2]).amax(-1).clamp(min=1.0)
    centre2d = (boxes[..., :2] + boxes[..., 2:]) / 2
    extent = (joints[..., :2].amax(-2) - joints[..., :2].amin(-2)).amax(-1).clamp(min=1e-3)
    z = f * extent / size2d - joints[..., 0, 2]
    transl = torch.stack([torch.zeros_like(z), torch.zeros_like(z), z], -1)
    for _ in range(PLACEMENT_ITERATIONS):
        uv = project(joints + transl[..., None, :], K)
        box_size = (uv.amax(-2) - uv.amin(-2)).amax(-1).clamp(min=1e-3)
        box_centre = (uv.amax(-2) + uv.amin(-2)) / 2
        depth = (joints[..., 0, 2] + transl[..., 2])
        new_depth = depth * box_size / size2d
        shift = (centre2d - box_centre) / torch.stack([K[..., 0, 0], K[..., 1, 1]], -1) * new_depth[..., None]
        transl = transl + torch.cat([shift, (new_depth - depth)[..., None]], -1)
    return transl
