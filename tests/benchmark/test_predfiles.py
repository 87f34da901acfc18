"""Prediction files from per-image predictions: joint orders, hand choice, what is left out."""

from __future__ import annotations

import json

import numpy as np

from smhr.benchmark.predfiles import interhand_pred, mesh_pred, multihand_pred, rhd_pred, top_hands
from smhr.benchmark.predictors import ImagePrediction
from smhr.data.datasets.interhand import INTERHAND_TO_OPENPOSE
from smhr.eval.submission import to_ho3d
from smhr.model.outputs import PredictedHand


def hand(side: str, score: float, seed: int) -> PredictedHand:
    rng = np.random.default_rng(seed)
    joints = rng.normal(size=(21, 3)) * 0.03 + [0, 0, 0.5]
    return PredictedHand(side, score, np.array([0.0, 0, 10, 10]), np.zeros(2), np.zeros(3), np.zeros(45),
                         np.zeros(10), joints[0], rng.normal(size=(7, 3)), joints, rng.normal(size=(21, 2)),
                         np.zeros((21, 2)))


def test_top_hand_below_the_threshold_and_empty_images():
    preds = [ImagePrediction([hand("left", 0.2, 0), hand("right", 0.1, 1)], 0.5), ImagePrediction([], 0.5)]
    top = top_hands(preds)
    np.testing.assert_array_equal(top.joints3d[0], preds[0].slots[0].joints3d)
    assert top.empty.tolist() == [False, True] and not top.joints3d[1].any() and top.vertices.shape == (2, 7, 3)
    xyz, verts = json.loads(mesh_pred(preds))
    np.testing.assert_allclose(xyz[0], preds[0].slots[0].joints3d)
    ho3d_xyz, _ = json.loads(mesh_pred(preds, ho3d=True))
    np.testing.assert_allclose(ho3d_xyz, to_ho3d(top.joints3d, top.vertices)[0])
    rhd = json.loads(rhd_pred(preds))
    np.testing.assert_allclose(rhd["uv"][0], preds[0].slots[0].joints2d, atol=1e-4)


def test_interhand_takes_the_best_hand_of_each_side_in_its_order():
    right, left_best, left = hand("right", 0.9, 0), hand("left", 0.6, 1), hand("left", 0.4, 2)
    out = json.loads(interhand_pred([ImagePrediction([right, left_best, left], 0.5),
                                     ImagePrediction([left], 0.5)], ["7", "9"]))
    joints = np.asarray(out["7"]["joints3d"])
    np.testing.assert_allclose(joints[:21][INTERHAND_TO_OPENPOSE], right.joints3d, atol=1e-7)
    np.testing.assert_allclose(joints[21:][INTERHAND_TO_OPENPOSE], left_best.joints3d, atol=1e-7)
    assert out["7"]["hand_type"] == [0.9, 0.6]
    assert out["9"]["hand_type"] == [0.0, 0.4] and not np.any(out["9"]["joints3d"][:21])


def test_multihand_writes_every_slot_with_its_score_and_meshes_on_request():
    """AP ranks every top-K slot; the per-hand metrics take the threshold as evaluate's min_score."""
    preds = [ImagePrediction([hand("left", 0.8, 0), hand("right", 0.1, 1)], 0.5)]
    out = json.loads(multihand_pred(preds, ["a"], with_verts=False))
    assert [(h["side"], h["score"]) for h in out["images"]["a"]] == [("left", 0.8), ("right", 0.1)]
    assert "verts" not in out["images"]["a"][0] and len(out["images"]["a"][0]["joints2d"]) == 21
    assert "verts" in json.loads(multihand_pred(preds, ["a"], with_verts=True))["images"]["a"][0]
