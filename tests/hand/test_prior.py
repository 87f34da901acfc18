"""The pose prior: limits, conventions, determinism, and little self-intersection."""

from __future__ import annotations

import numpy as np
import torch

from smhr.hand import HandModel
from smhr.hand.prior import (
    JOINT_LIMITS,
    angles_to_axis_angle,
    axis_angle_to_angles,
    joint_frames,
    named_pose,
    sample_hand_pose,
)

FINGERS = {"thumb": (13, 14, 15), "index": (1, 2, 3), "middle": (4, 5, 6), "ring": (10, 11, 12), "pinky": (7, 8, 9)}
TIP_ROW = {"thumb": 0, "index": 1, "middle": 2, "ring": 3, "pinky": 4}


def test_frames_are_orthonormal_and_flexion_curls_to_the_palm(procedural_right):
    f = joint_frames(procedural_right)
    np.testing.assert_allclose(np.einsum("jab,jcb->jac", f, f), np.broadcast_to(np.eye(3), f.shape), atol=1e-12)
    assert np.all(f[:12, 0, 2] > 0.85)  # finger flexion about ~+z on the right hand (palm faces -y)
    ang = np.random.default_rng(0).normal(size=(4, 15, 3))
    np.testing.assert_allclose(axis_angle_to_angles(angles_to_axis_angle(ang, f), f), ang, atol=1e-12)


def test_samples_respect_limits_and_convention(procedural_right):
    pose = sample_hand_pose(procedural_right, 256, np.random.default_rng(0))
    assert pose.shape == (256, 45) and pose.dtype == np.float32
    ang = axis_angle_to_angles(pose.astype(np.float64) + procedural_right.hands_mean, joint_frames(procedural_right))
    assert np.all(ang >= JOINT_LIMITS[None, :, :, 0] - 1e-5) and np.all(ang <= JOINT_LIMITS[None, :, :, 1] + 1e-5)
    assert pose.std(axis=0).max() > 0.1


def test_sampling_is_deterministic_for_every_generator_kind(procedural_right, fake_mano_files):
    a = sample_hand_pose(procedural_right, 8, 5)
    np.testing.assert_array_equal(a, sample_hand_pose(procedural_right, 8, np.random.default_rng(5)))
    t1 = sample_hand_pose(procedural_right, 8, torch.Generator().manual_seed(1))
    np.testing.assert_array_equal(t1, sample_hand_pose(procedural_right, 8, torch.Generator().manual_seed(1)))
    model = HandModel.from_file(fake_mano_files.right)  # no stored std: the documented MANO scales
    assert sample_hand_pose(model, 4, 0).shape == (4, 45)


def _finger_capsules(data, joints21: np.ndarray):
    """Per finger: (3, 2, 3) bone segments from the OpenPose joints, and a radius."""
    out = {}
    for k, finger in enumerate(("thumb", "index", "middle", "ring", "pinky")):
        ids = [1 + 4 * k + i for i in range(4)]
        out[finger] = np.stack([joints21[ids[:-1]], joints21[ids[1:]]], axis=1)
    return out


def _dist_to_segments(p: np.ndarray, seg: np.ndarray) -> np.ndarray:
    a, b = seg[:, 0], seg[:, 1]
    ab = b - a
    t = np.clip(np.einsum("psi,si->ps", p[:, None] - a[None], ab) / np.einsum("si,si->s", ab, ab), 0, 1)
    closest = a[None] + t[..., None] * ab[None]
    return np.linalg.norm(p[:, None] - closest, axis=-1).min(axis=1)


def test_self_intersection_is_small_for_prior_samples(procedural_right):
    """Fraction of a finger's vertices inside another finger's capsule (radius 6 mm)."""
    d = procedural_right
    model = HandModel(d).double()
    pose = torch.from_numpy(sample_hand_pose(d, 48, 0).astype(np.float64))
    out = model(hand_pose=pose)
    owner = d.weights.argmax(axis=1)
    members = {f: np.flatnonzero(np.isin(owner, ids[1:])) for f, ids in FINGERS.items()}
    fractions = []
    for b in range(len(pose)):
        verts, caps = out.vertices[b].numpy(), _finger_capsules(d, out.joints[b].numpy())
        inside = 0
        total = 0
        for f, ids in members.items():
            others = [caps[g] for g in caps if g != f]
            dist = np.min([_dist_to_segments(verts[ids], seg) for seg in others], axis=0)
            inside += int((dist < 0.006).sum())
            total += len(ids)
        fractions.append(inside / total)
    assert np.mean(fractions) < 0.02, np.mean(fractions)
    assert np.max(fractions) < 0.10, np.max(fractions)


def test_named_poses_close_the_fist(procedural_right):
    d = procedural_right
    model = HandModel(d).double()
    open_ = model(hand_pose=torch.from_numpy(named_pose(d, "open") - d.hands_mean)[None]).joints[0]
    fist = model(hand_pose=torch.from_numpy(named_pose(d, "fist") - d.hands_mean)[None]).joints[0]
    # fingertips come much closer to the wrist in a fist
    assert (fist[[8, 12, 16, 20]] - fist[0]).norm(dim=-1).max() < 0.7 * (open_[[8, 12, 16, 20]] - open_[0]).norm(dim=-1).min()
