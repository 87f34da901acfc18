"""Mirroring a hand into the other side: round trips, projection consistency, MANO pose algebra."""

from __future__ import annotations

import numpy as np
import torch
from torch.testing import assert_close

from smhr.data.transforms.mirror import mirror_hand, mirror_pose, mirror_sample
from smhr.geometry.camera import project
from smhr.hand.conventions import MIRROR_POINTS
from smhr.geometry.rotations import axis_angle_to_matrix

from smhr.data.datasets.toy import toy_sample


def _assert_hands_equal(a, b):
    assert a.side == b.side
    for name in ("joints2d", "visible", "bbox", "K", "joints3d", "verts3d", "mask"):
        assert_close(torch.as_tensor(getattr(a, name)), torch.as_tensor(getattr(b, name)), rtol=0, atol=1e-5)
    for name in ("pose", "betas", "trans"):
        assert_close(torch.as_tensor(getattr(a.mano, name)), torch.as_tensor(getattr(b.mano, name)), rtol=0, atol=1e-6)


def test_mirror_twice_is_identity(samples):
    for sample in samples:
        hand = sample.hands[0]
        _assert_hands_equal(mirror_hand(mirror_hand(hand, sample.width), sample.width), hand)
        twice = mirror_sample(mirror_sample(sample))
        np.testing.assert_array_equal(twice.image, sample.image)


def test_mirrored_3d_projects_onto_flipped_2d(samples):
    for sample in samples:
        flipped = mirror_sample(sample)
        hand, before = flipped.hands[0], sample.hands[0]
        assert hand.side != before.side
        assert_close(
            torch.as_tensor(project(hand.joints3d.astype(np.float64), hand.K.astype(np.float64))),
            torch.as_tensor(hand.joints2d, dtype=torch.float64),
            rtol=0,
            atol=1e-3,
        )
        # Pixel u maps to W - 1 - u: a keypoint on pixel column c lands on column W - 1 - c.
        assert_close(hand.joints2d[:, 0], sample.width - 1 - before.joints2d[:, 0])
        # The flipped image shows the same colours at the flipped keypoints.
        for (u, v), (u0, v0) in zip(np.rint(hand.joints2d).astype(int)[:3], np.rint(before.joints2d).astype(int)[:3]):
            if 0 <= u < sample.width and 0 <= v < sample.height:
                np.testing.assert_array_equal(flipped.image[v, u], sample.image[v0, u0])


def test_mirror_pose_is_conjugation_by_the_mirror():
    rng = np.random.default_rng(1)
    pose = rng.normal(size=(5, 48))
    M = torch.diag(torch.as_tensor(MIRROR_POINTS))
    R = axis_angle_to_matrix(torch.as_tensor(pose).reshape(5, 16, 3))
    R_mirrored = axis_angle_to_matrix(torch.as_tensor(mirror_pose(pose)).reshape(5, 16, 3))
    assert_close(R_mirrored, M @ R @ M)
    assert_close(torch.as_tensor(mirror_pose(mirror_pose(pose))), torch.as_tensor(pose))


def _tiny_model_pair(rng: np.random.Generator):
    """A random right MANO-format model (posedirs and hands_mean included) and its mirror image."""
    from smhr.hand.conventions import MANO_KINTREE_PARENTS
    from smhr.hand.model_file import ModelData
    from smhr.hand.procedural import mirror_model

    V = 40
    J_regressor = rng.random((16, V))
    weights = rng.random((V, 16)) ** 4
    right = ModelData(
        v_template=rng.normal(size=(V, 3)) * 0.05, f=np.array([[0, 1, 2]]),
        J_regressor=J_regressor / J_regressor.sum(1, keepdims=True), weights=weights / weights.sum(1, keepdims=True),
        kintree_table=np.stack([MANO_KINTREE_PARENTS, np.arange(16)]), shapedirs=rng.normal(size=(V, 3, 10)) * 0.01,
        posedirs=rng.normal(size=(V, 3, 135)) * 0.01, hands_components=np.eye(45), hands_mean=rng.normal(size=45) * 0.2,
        fingertip_vertex_ids=np.arange(5), side="right",
    )
    return right, mirror_model(right)


def test_left_model_matches_mirrored_right_vertices():
    """The left model driven by mirror_mano's parameters gives the mirrored right mesh (hands_mean on)."""
    from smhr.data.transforms.mirror import mirror_mano
    from smhr.hand.layer import HandModel

    rng = np.random.default_rng(2)
    right_data, left_data = _tiny_model_pair(rng)
    models = {"right": HandModel(right_data).double(), "left": HandModel(left_data).double()}
    for _ in range(3):
        mano = toy_sample(rng).hands[0].mano
        mano.pose = (rng.normal(size=48) * 0.8).astype(np.float32)
        outputs = {}
        for side, params in (("right", mano), ("left", mirror_mano(mano))):
            t = lambda a: torch.as_tensor(a, dtype=torch.float64)[None]  # noqa: E731
            outputs[side] = models[side](t(params.pose[:3]), t(params.pose[3:]), t(params.betas), t(params.trans))
        M = torch.diag(torch.as_tensor(MIRROR_POINTS))
        assert_close(outputs["left"].vertices[0], outputs["right"].vertices[0] @ M, rtol=0, atol=1e-7)
        assert_close(outputs["left"].joints[0], outputs["right"].joints[0] @ M, rtol=0, atol=1e-7)
