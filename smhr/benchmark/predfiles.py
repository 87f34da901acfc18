"""Predictions -> the prediction file each protocol reads (``smhr evaluate --pred``), and the
composed set's multi-hand ground truth.

Formats (docs/evaluation.md): FreiHAND/HO3D ``pred.json`` = ``[xyz_list, verts_list]``
(:func:`smhr.eval.submission.pred_json_text`; HO3D converted with :func:`smhr.eval.submission.to_ho3d`),
RHD ``{"xyz", "uv"}``, InterHand2.6M ``{annot_id: {"joints3d", "hand_type"}}`` and the multi-hand
``{"images": {id: [hand, ...]}}`` (:func:`smhr.predict.results.multihand_record`). Metres, OpenCV
camera frame and OpenPose order inside; each writer converts to its benchmark's convention.

Single-hand protocols take each image's top-scoring slot. An image without any slot (the mean hand
on an image without labelled hands) is written as zeros, so that the file still has one entry per
image; :func:`top_hands` reports it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from smhr.benchmark.predictors import ImagePrediction
from smhr.data.datasets.interhand import HAND_OFFSET, INTERHAND_TO_OPENPOSE, NUM_IH_JOINTS
from smhr.data.datasets.sample import Sample
from smhr.eval.submission import pred_json_text, to_ho3d
from smhr.hand.joints import NUM_JOINTS
from smhr.predict.results import multihand_record

OPENPOSE_TO_INTERHAND = np.argsort(INTERHAND_TO_OPENPOSE)
"""Gather indices: ``joints_interhand_one_hand = joints_openpose[OPENPOSE_TO_INTERHAND]``."""


class TopHands(NamedTuple):
    """The top-scoring hand of every image.

    Attributes:
        joints3d: (N, 21, 3) metres, camera frame, OpenPose order.
        vertices: (N, V, 3) metres.
        joints2d: (N, 21, 2) pixels of the image.
        score: (N,) its score (0 where the image has no slot).
        empty: (N,) bool, the image had no slot at all (zeros written).
    """

    joints3d: np.ndarray
    vertices: np.ndarray
    joints2d: np.ndarray
    score: np.ndarray
    empty: np.ndarray


def dumps(data: Any) -> str:
    """Compact, sorted-key JSON (deterministic bytes)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def top_hands(preds: Sequence[ImagePrediction]) -> TopHands:
    """The top slot of each image (zeros for an image without slots)."""
    tops = [p.slots[0] if p.slots else None for p in preds]
    num_verts = next((h.vertices.shape[0] for h in tops if h is not None), 0)
    n = len(tops)
    out = TopHands(np.zeros((n, NUM_JOINTS, 3)), np.zeros((n, num_verts, 3)), np.zeros((n, NUM_JOINTS, 2)),
                   np.zeros(n), np.array([h is None for h in tops], bool))
    for i, hand in enumerate(tops):
        if hand is not None:
            out.joints3d[i], out.vertices[i], out.joints2d[i], out.score[i] = (
                hand.joints3d, hand.vertices, hand.joints2d, hand.score)
    return out


def mesh_pred(preds: Sequence[ImagePrediction], ho3d: bool = False) -> str:
    """FreiHAND's (or, with ``ho3d``, HO3D's OpenGL / HO3D-order) ``pred.json`` text."""
    top = top_hands(preds)
    joints, verts = (to_ho3d(top.joints3d, top.vertices) if ho3d else (top.joints3d, top.vertices))
    return pred_json_text(joints, verts)


def rhd_pred(preds: Sequence[ImagePrediction]) -> str:
    """RHD's ``{"xyz": N x 21 x 3 m, "uv": N x 21 x 2 px}`` (OpenPose order, rows as the ground truth's)."""
    top = top_hands(preds)
    return dumps({"xyz": np.round(top.joints3d, 7).tolist(), "uv": np.round(top.joints2d, 4).tolist()})


def interhand_pred(preds: Sequence[ImagePrediction], ids: Sequence[str]) -> str:
    """InterHand2.6M's ``{annot_id: {"joints3d": 42 x 3 m, "hand_type": [p_right, p_left]}}``.

    Per side the best-scoring slot of that side gives the hand's 21 joints (InterHand order) and
    its probability; a side without a slot gets zeros and probability 0.
    """
    out = {}
    for image_id, pred in zip(ids, preds):
        joints = np.zeros((NUM_IH_JOINTS, 3))
        prob = {"right": 0.0, "left": 0.0}
        for side in ("right", "left"):
            hand = next((h for h in pred.slots if h.side == side), None)
            if hand is not None:
                joints[HAND_OFFSET[side]:HAND_OFFSET[side] + NUM_JOINTS] = hand.joints3d[OPENPOSE_TO_INTERHAND]
                prob[side] = round(float(hand.score), 6)
        out[image_id] = {"joints3d": np.round(joints, 7).tolist(), "hand_type": [prob["right"], prob["left"]]}
    return dumps(out)


def multihand_pred(preds: Sequence[ImagePrediction], ids: Sequence[str], with_verts: bool) -> str:
    """The multi-hand prediction file: every top-K hand of the decoder, its score with it.

    AP ranks all of them (COCO-style: a detector's threshold is an operating point, not part of
    AP); the per-hand metrics and ``recall_at_min_score`` are taken at the model's threshold
    (:func:`smhr.benchmark.run.run_benchmark` evaluates with ``min_score`` = that threshold).

    Args:
        preds: per image.
        ids: the images' ids (as in the ground truth).
        with_verts: write the meshes (only useful when the ground truth has meshes of the same model).
    """
    images = {}
    for image_id, pred in zip(ids, preds):
        records = [multihand_record(h) for h in pred.slots]
        if not with_verts:
            for record in records:
                del record["verts"]
        images[image_id] = records
    return dumps({"images": images})


def multihand_gt(dataset: Sequence[Sample], ids: Sequence[str]) -> tuple[str, bool]:
    """The multi-hand ground truth of labelled images (the composed set's benchmark split).

    ``joints3d`` and ``verts`` are written when every hand has them (the format's all-or-none rule).

    Returns:
        (the JSON text, whether it holds meshes).
    """
    samples = [dataset[i] for i in range(len(dataset))]
    hands = [h for s in samples for h in s.hands]
    with3d = all(h.joints3d is not None for h in hands)
    with_verts = bool(hands) and all(h.verts3d is not None for h in hands)
    images = {}
    for image_id, sample in zip(ids, samples):
        records = []
        for h in sample.hands:
            record: dict[str, Any] = {"box": np.round(np.asarray(h.bbox, np.float64), 3).tolist(), "side": h.side,
                                      "joints2d": np.round(np.asarray(h.joints2d, np.float64), 3).tolist()}
            if with3d:
                record["joints3d"] = np.round(np.asarray(h.joints3d, np.float64), 7).tolist()
            if with_verts:
                record["verts"] = np.round(np.asarray(h.verts3d, np.float64), 7).tolist()
            records.append(record)
        images[image_id] = records
    return dumps({"images": images}), with_verts
