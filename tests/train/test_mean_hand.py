"""The mean-hand baseline: means are right, a mean hand is recovered exactly from its box, output evaluates."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from smhr.data.datasets.freihand import split_mano
from smhr.eval.multihand import HandRecord, evaluate
from smhr.geometry.camera import project
from smhr.geometry.rotations import axis_angle_to_matrix_np
from smhr.model.decode import run_hand_models
from smhr.data.datasets.freihand import FreiHAND
from smhr.train.mean_hand import (MeanHand, mean_hand, mean_hand_from_freihand, mean_rotation, predict_mean_hands,
                                   predict_samples)
from tests.data.fixtures_freihand import write_freihand_fixture


def test_mean_rotation_of_symmetric_pair_is_their_middle():
    axis = np.array([0.0, 0.0, 1.0])
    base = np.array([0.3, -0.2, 0.1])
    Rb = axis_angle_to_matrix_np(base)
    pair = [Rb @ axis_angle_to_matrix_np(s * 0.8 * axis) for s in (1, -1)]
    from smhr.geometry.rotations import matrix_to_axis_angle_np

    got = mean_rotation(np.stack([matrix_to_axis_angle_np(R) for R in pair]))
    np.testing.assert_allclose(axis_angle_to_matrix_np(got), Rb, atol=1e-6)
    np.testing.assert_allclose(mean_rotation(np.stack([base] * 3)), base, atol=1e-6)


def test_mean_of_a_freihand_layout_split(tmp_path):
    fix = write_freihand_fixture(tmp_path, "training", n=5, versions=1)
    mean = mean_hand_from_freihand(fix.root)
    parts = [split_mano(m) for m in fix.mano]
    np.testing.assert_allclose(mean.betas, np.mean([p.betas for p in parts], 0), atol=1e-5)
    np.testing.assert_allclose(mean.hand_pose, np.mean([p.pose[3:] for p in parts], 0), atol=1e-5)
    assert mean.count == 5


@pytest.fixture(scope="module")
def left_right(hand_models):
    """``(left, right)``: the order of ``SMHRNet.hand_models`` (``load_hand_models`` gives right, left)."""
    right, left = hand_models
    return left, right


def _mean_hand_scene(hand_models, mean: MeanHand, transl: torch.Tensor, K: torch.Tensor):
    """Ground truth made of mean hands (right, then left) at ``transl`` (B, 2, 3): joints and boxes."""
    b = transl.shape[0]
    side = torch.tensor([[1, 0]] * b)
    mask = torch.ones(b, 2, dtype=torch.bool)
    pred = predict_mean_hands(mean, hand_models, torch.tensor([[[0.0, 0, 10, 10]] * 2] * b), side, mask, K)
    verts, joints = run_hand_models(hand_models, side, mask, pred.global_orient, pred.hand_pose, pred.betas)
    joints = joints + transl[..., None, :]
    uv = project(joints, K[:, None])
    boxes = torch.cat([uv.amin(-2), uv.amax(-2)], -1)
    return side, mask, joints, boxes


def test_a_mean_hand_is_recovered_from_its_box(left_right):
    hand_models = left_right
    mean = mean_hand(np.random.default_rng(0).normal(0, 0.3, (20, 48)), np.random.default_rng(1).normal(0, 1, (20, 10)))
    K = torch.tensor([[[500.0, 0, 112], [0, 480.0, 100], [0, 0, 1]]] * 2)
    transl = torch.tensor([[[0.03, -0.02, 0.5], [-0.05, 0.04, 0.7]], [[0.0, 0.0, 0.35], [0.1, 0.02, 0.9]]])
    side, mask, joints, boxes = _mean_hand_scene(hand_models, mean, transl, K)
    mask[1, 1] = False  # a padded slot
    pred = predict_mean_hands(mean, hand_models, boxes, side, mask, K)
    keep = mask[..., None, None]
    torch.testing.assert_close(pred.joints3d * keep, joints * keep, atol=2e-4, rtol=0)  # 0.2 mm
    torch.testing.assert_close(pred.box, boxes * mask[..., None])
    assert torch.equal(pred.mask, mask) and float(pred.joints3d[1, 1].abs().sum()) == 0.0
    uv = pred.joints2d[mask]
    torch.testing.assert_close(torch.cat([uv.amin(-2), uv.amax(-2)], -1), boxes[mask], atol=0.05, rtol=0)
    # a right slot is the right model with the mean parameters
    right = hand_models[1](global_orient=torch.tensor(mean.global_orient)[None], hand_pose=torch.tensor(mean.hand_pose)[None],
                           betas=torch.tensor(mean.betas)[None]).joints[0]
    torch.testing.assert_close(pred.joints3d[0, 0] - pred.transl[0, 0], right, atol=1e-5, rtol=0)
    # the left hand is the mirror image of the right one: opposite x of root-relative joints
    rel = pred.joints3d - pred.joints3d[..., :1, :]
    torch.testing.assert_close(rel[0, 1, :, 0], -rel[0, 0, :, 0], atol=1e-4, rtol=0)
    torch.testing.assert_close(rel[0, 1, :, 1:], rel[0, 0, :, 1:], atol=1e-4, rtol=0)


def test_predictions_evaluate_with_the_multihand_protocol(left_right):
    hand_models = left_right
    mean = mean_hand(np.zeros((1, 48)), np.zeros((1, 10)))
    K = torch.tensor([[[500.0, 0, 112], [0, 500.0, 112], [0, 0, 1]]])
    side, mask, joints, boxes = _mean_hand_scene(hand_models, mean, torch.tensor([[[0.02, 0.0, 0.5], [-0.06, 0.0, 0.6]]]), K)
    pred = predict_mean_hands(mean, hand_models, boxes, side, mask, K).per_image()[0]
    gt = {"0": [HandRecord(box=boxes[0, k].double().numpy(), side=("left", "right")[int(side[0, k])],
                           joints3d=joints[0, k].double().numpy()) for k in range(2)]}
    metrics = evaluate(gt, {"0": [HandRecord(box=p.box, side=p.side, joints3d=p.joints3d, score=p.score)
                                  for p in pred]}).metrics
    assert metrics["ap"] == 1.0 and metrics["handedness_acc"] == 1.0
    assert metrics["mpjpe_mm"] < 0.5


def test_predict_samples_of_a_freihand_layout_set(tmp_path, left_right):
    """One prediction per labelled hand, at its box, in its camera; FreiHAND-protocol-ready arrays."""
    fix = write_freihand_fixture(tmp_path, "training", n=4, versions=1)
    samples = [s for s in FreiHAND(fix.root, "training", load_verts=False)]
    pred = predict_samples(mean_hand_from_freihand(fix.root), left_right, samples)
    assert pred.mask.all() and pred.mask.shape == (4, 1)
    for i, sample in enumerate(samples):
        hand = sample.hands[0]
        torch.testing.assert_close(pred.box[i, 0], torch.as_tensor(hand.bbox))
        uv, box = pred.joints2d[i, 0], torch.as_tensor(hand.bbox)
        # the box's centre and longer side (its aspect is the label's, not the mean hand's)
        torch.testing.assert_close((uv.amin(0) + uv.amax(0)) / 2, (box[:2] + box[2:]) / 2, atol=0.05, rtol=0)
        torch.testing.assert_close((uv.amax(0) - uv.amin(0)).max(), (box[2:] - box[:2]).max(), atol=0.05, rtol=0)
    records = pred.per_image()
    assert [len(r) for r in records] == [1] * 4 and records[0][0].joints3d.shape == (21, 3)
    assert records[0][0].vertices.shape[1] == 3 and (pred.joints3d[..., 2] > 0).all()
