"""InterHand2.6M, as ``data/InterHand2.6M/dataset.py:Dataset.evaluate`` (facebookresearch) scores it.

Reproduced: 42 joints (right hand 0-20, left 21-41, each finger tip to base, wrist last: roots
20 and 41); a hand's joints are invalid when its root is invalid; joints are made root-relative
per hand for prediction and ground truth; errors are collected *per joint* separately for
single-hand (``hand_type`` right/left) and interacting samples, averaged per joint, then over
joints ("all" concatenates both lists per joint first); MRRPE over interacting samples with both
roots valid (left root minus right root); handedness accuracy over ``hand_type_valid`` samples
with the official 0.5 thresholds on ``[p_right, p_left]``.

Deviation: the official script crashes (``np.stack([])``) when a joint has no valid sample in a
split; joints without samples are skipped here.

Prediction file (JSON, documented in docs/evaluation.md): ``{"<annot_id>": {"joints3d":
42 x 3 metres camera frame, InterHand order, "hand_type": [p_right, p_left]}}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from smhr.data.datasets.interhand import (
    HAND_OFFSET,
    NUM_IH_JOINTS,
    ROOT,
    check_valid_finite,
    hand_type_of,
    joint_valid_of,
    world_coord_of,
    world_to_camera,
)
from smhr.errors import DatasetError, PredictionError
from smhr.eval.io import as_points, load_json
from smhr.eval.metrics import PCK_3D_RANGE_M, eval_util_measures
from smhr.eval.result import PckCurve, ProtocolResult
from smhr.hand.joints import NUM_JOINTS

HAND_JOINTS = {side: np.arange(offset, offset + NUM_JOINTS) for side, offset in HAND_OFFSET.items()}
"""Each hand's 21 indices among the 42 (right 0-20, left 21-41)."""
MM = 1000.0


class InterHandGT(NamedTuple):
    """Ground truth of the evaluated annotations.

    Attributes:
        annot_ids: (N,) annotation ids (strings, as keys of the prediction file).
        joints: (N, 42, 3) metres, camera frame (computed in float32 as the official loader);
            invalid joints are 0.
        valid: (N, 42) bool, already multiplied by each hand's root validity.
        hand_type: (N,) ``"right"``, ``"left"`` or ``"interacting"``.
        hand_type_valid: (N,) bool.
    """

    annot_ids: list[str]
    joints: np.ndarray
    valid: np.ndarray
    hand_type: list[str]
    hand_type_valid: np.ndarray


def read_gt(data_json: str | Path, camera_json: str | Path, joint_json: str | Path) -> InterHandGT:
    """Reads the official test annotations (``*_data.json``, ``*_camera.json``, ``*_joint_3d.json``).

    The checks and the world -> camera transform are :mod:`smhr.data.datasets.interhand`'s (one place):
    ``hand_type`` must be right/left/interacting (null is refused, never counted as
    interacting), ``world_coord`` (42, 3) with finite values on every valid joint.

    Raises:
        DatasetError: naming the file and the annotation (or capture/frame) and the fix.
    """
    data_json, camera_json, joint_json = Path(data_json), Path(camera_json), Path(joint_json)
    data = load_json(data_json, DatasetError)
    cams = load_json(camera_json, DatasetError)
    joints3d = load_json(joint_json, DatasetError)
    if not (
        isinstance(data, dict) and isinstance(data.get("images"), list) and isinstance(data.get("annotations"), list)
    ):
        raise DatasetError(
            f"{data_json}: expected a COCO dict with 'images' and 'annotations' lists; use the official file"
        )
    images = {img.get("id"): img for img in data["images"] if isinstance(img, dict)}
    ids, joints, valid, types, tvalid = [], [], [], [], []
    for n, ann in enumerate(data["annotations"]):
        hand_type = hand_type_of(ann, data_json, n)
        img = images.get(ann.get("image_id"))
        if img is None or not {"capture", "camera", "frame_idx"} <= set(img):
            raise DatasetError(
                f"{data_json}: annotation {ann.get('id', n)} has no image with capture/camera/frame_idx; "
                "use the official file"
            )
        cap, cam, frame = str(img["capture"]), str(img["camera"]), str(img["frame_idx"])
        try:
            campos = np.array(cams[cap]["campos"][cam], dtype=np.float32).reshape(3)
            camrot = np.array(cams[cap]["camrot"][cam], dtype=np.float32).reshape(3, 3)
        except (KeyError, TypeError, ValueError):
            raise DatasetError(
                f"{camera_json}: no numeric campos/camrot for capture {cap} camera {cam}; use the official file"
            ) from None
        if not (np.isfinite(campos).all() and np.isfinite(camrot).all()):
            raise DatasetError(
                f"{camera_json}: capture {cap} camera {cam} has NaN/null campos or camrot; use the official file"
            )
        world = world_coord_of(joints3d, cap, frame, joint_json)
        v = joint_valid_of(ann, data_json)
        check_valid_finite(world, v, joint_json, cap, frame)
        if "id" not in ann or ann.get("hand_type_valid") not in (0, 1, True, False):
            raise DatasetError(
                f"{data_json}: annotation {ann.get('id', n)} needs an id and hand_type_valid 0 or 1; "
                "use the official file"
            )
        cam_coord = world_to_camera(world.astype(np.float32), camrot, campos)
        ids.append(str(ann["id"]))
        joints.append(np.where(v[:, None], cam_coord.astype(np.float64), 0.0) / MM)
        valid.append(v)
        types.append(hand_type)
        tvalid.append(bool(ann["hand_type_valid"]))
    if not ids:
        raise DatasetError(f"{data_json}: no annotations to evaluate")
    if len(set(ids)) != len(ids):
        raise DatasetError(f"{data_json}: annotation ids are not unique; use the official file")
    return InterHandGT(ids, np.stack(joints), np.stack(valid), types, np.array(tvalid))


def read_pred(path: str | Path, annot_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Reads predictions for ``annot_ids``: ((N, 42, 3) metres, (N, 2) hand-type probabilities)."""
    data = load_json(path, PredictionError)
    if not isinstance(data, dict):
        raise PredictionError(f"{path}: expected a JSON object keyed by annotation id")
    missing = [a for a in annot_ids if a not in data]
    if missing or len(data) != len(annot_ids):
        raise PredictionError(
            f"{path}: {len(data)} predictions for {len(annot_ids)} annotations ({len(missing)} missing, e.g. "
            f"{missing[:3]}); predict every annotation id of the ground truth exactly once"
        )
    try:
        joints = [data[a]["joints3d"] for a in annot_ids]
        types = [data[a]["hand_type"] for a in annot_ids]
    except (KeyError, TypeError) as err:
        raise PredictionError(f"{path}: every entry needs 'joints3d' and 'hand_type' ({err!r})") from err
    labels = [f"annotation {a}" for a in annot_ids]
    return (
        as_points(joints, (NUM_IH_JOINTS, 3), f"{path}: joints3d", labels=labels),
        as_points(types, (2,), f"{path}: hand_type", labels=labels),
    )


def _handedness_correct(gt_type: str, prob: np.ndarray) -> bool:
    right, left = prob[0] > 0.5, prob[1] > 0.5
    if gt_type == "right":
        return bool(right and prob[1] < 0.5)
    if gt_type == "left":
        return bool(prob[0] < 0.5 and left)
    return bool(gt_type == "interacting" and right and left)


def evaluate(gt: InterHandGT, pred_joints: np.ndarray, pred_hand_type: np.ndarray) -> ProtocolResult:
    """Scores predictions as the official ``evaluate``.

    Args:
        gt: from :func:`read_gt`.
        pred_joints: (N, 42, 3) metres, camera frame, InterHand order, rows as ``gt.annot_ids``.
        pred_hand_type: (N, 2) probabilities ``[right, left]``.

    Returns:
        ``mpjpe_all_mm``, ``mpjpe_single_mm``, ``mpjpe_interacting_mm``, ``mrrpe_mm``,
        ``handedness_acc`` and counts; per sample the mean valid-joint error (mm); ``pck`` over
        the valid wrist-relative joints (0-50 mm, as FreiHAND's; the official script has none).
    """
    pred = np.asarray(pred_joints, np.float64)
    gtj = gt.joints.copy()
    rel_pred, rel_gt = pred.copy(), gtj.copy()
    for side in ("right", "left"):
        idx, root = HAND_JOINTS[side], ROOT[side]
        rel_pred[:, idx] = pred[:, idx] - pred[:, root : root + 1]
        rel_gt[:, idx] = gtj[:, idx] - gtj[:, root : root + 1]
    err = np.sqrt(np.sum((rel_pred - rel_gt) ** 2, axis=-1))  # (N, 42)
    single = np.array([t in ("right", "left") for t in gt.hand_type])
    valid = gt.valid

    def per_joint_mean(rows: np.ndarray) -> float:
        mask = valid & rows[:, None]
        count = mask.sum(0)
        sums = np.where(mask, err, 0.0).sum(0)
        return float(np.mean(sums[count > 0] / count[count > 0])) if (count > 0).any() else float("nan")

    inter = np.array([t == "interacting" for t in gt.hand_type])
    both_roots = valid[:, ROOT["left"]] & valid[:, ROOT["right"]]
    m_rows = inter & both_roots
    pred_rel_root = pred[:, ROOT["left"]] - pred[:, ROOT["right"]]
    gt_rel_root = gtj[:, ROOT["left"]] - gtj[:, ROOT["right"]]
    mrrpe = np.sqrt(np.sum((pred_rel_root - gt_rel_root) ** 2, axis=-1))
    correct = [_handedness_correct(t, p) for t, p in zip(gt.hand_type, pred_hand_type)]
    hv = gt.hand_type_valid
    n_valid = valid.sum(1)
    per_sample = np.where(n_valid > 0, np.where(valid, err, 0.0).sum(1) / np.maximum(n_valid, 1), np.nan)
    metrics: dict[str, float | int] = {
        "mpjpe_all_mm": per_joint_mean(np.ones(len(single), bool)) * MM,
        "mpjpe_single_mm": per_joint_mean(single) * MM,
        "mpjpe_interacting_mm": per_joint_mean(~single) * MM,
        "mrrpe_mm": float(np.mean(mrrpe[m_rows])) * MM if m_rows.any() else float("nan"),
        "handedness_acc": float(np.mean(np.array(correct)[hv])) if hv.any() else float("nan"),
        "num_samples": len(single),
        "num_single": int(single.sum()),
        "num_interacting": int((~single).sum()),
        "num_mrrpe": int(m_rows.sum()),
    }
    curve = eval_util_measures(err, valid, *PCK_3D_RANGE_M)
    return ProtocolResult(
        metrics=metrics,
        per_sample={"mpjpe_mm": per_sample * MM, "mrrpe_mm": np.where(m_rows, mrrpe * MM, np.nan)},
        sample_ids=list(gt.annot_ids),
        pck=PckCurve(curve.thresholds, curve.pck_curve, "mpjpe_wrist_relative") if valid.any() else None,
    )
