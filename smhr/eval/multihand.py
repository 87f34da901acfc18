"""Multi-hand images: detection AP/recall, handedness, and 3D errors over matched hands.

Matching is COCO-style and class-agnostic: per image, predictions in decreasing score order
each take the still-unmatched ground-truth hand that fits best, by box IoU (``>= threshold``,
the highest IoU wins) or by box-centre distance in pixels (``<= threshold``, the nearest wins).
AP is COCO's 101-point interpolated average precision of the score-ranked list over all images.
Handedness accuracy and 3D errors are taken over matched pairs of predictions scoring at least
``min_score`` (in [0, 1]); unmatched ground-truth hands are counted as misses and reported.
``joints3d`` and ``verts`` are all-or-none per file; 3D metrics a file cannot give are reported
as NaN (``null``), never computed over a subset of the hands.

File format (JSON, both for ground truth and predictions; documented in docs/evaluation.md)::

    {"images": {"<image id>": [{"box": [x0, y0, x1, y1], "side": "left"|"right",
                                "joints3d": 21 x 3 metres (OpenCV camera, OpenPose order),
                                "verts": V x 3 metres (optional), "joints2d": 21 x 2 px (optional),
                                "score": s in [0, 1] (predictions only)}, ...]}}
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from smhr.errors import ConfigError, DatasetError, PredictionError
from smhr.eval.align import align_w_scale
from smhr.eval.io import as_points, load_json
from smhr.eval.metrics import PCK_3D_RANGE_M, eval_util_measures, point_errors
from smhr.eval.result import Mode, PckCurve, ProtocolResult
from smhr.hand.joints import NUM_JOINTS

Criterion = Literal["iou", "centre"]
CRITERIA: tuple[str, str] = ("iou", "centre")
RECALL_POINTS = np.linspace(0.0, 1.0, 101)
"""COCO's recall sampling for interpolated AP."""
MM = 1000.0


@dataclass
class HandRecord:
    """One hand of one image (ground truth or prediction).

    Attributes:
        box: (4,) ``[x0, y0, x1, y1]`` pixels.
        side: ``"left"`` or ``"right"``.
        joints3d: (21, 3) metres or None.
        verts: (V, 3) metres or None.
        score: detection confidence (1.0 for ground truth).
        joints2d: (21, 2) pixels or None.
    """

    box: np.ndarray
    side: str
    joints3d: np.ndarray | None = None
    verts: np.ndarray | None = None
    score: float = 1.0
    joints2d: np.ndarray | None = None


OPTIONAL_ARRAYS = {"joints3d": (21, 3), "verts": (None, 3), "joints2d": (21, 2)}
"""Per-hand arrays a file may give: for each, every hand of the file has it or none does."""


def check_match_options(criterion: str, threshold: float, min_score: float) -> None:
    """Refuses matching options that would make the detection metrics meaningless.

    Raises:
        ConfigError: unknown criterion; threshold not finite, outside (0, 1] for ``iou`` or not
            > 0 pixels for ``centre``; ``min_score`` not finite or outside [0, 1].
    """
    if criterion not in CRITERIA:
        raise ConfigError(f"match: {criterion!r} is not a matching criterion; use one of {CRITERIA}")
    try:
        threshold, min_score = float(threshold), float(min_score)
    except (TypeError, ValueError):
        raise ConfigError(f"match_threshold {threshold!r} / min_score {min_score!r}: give numbers") from None
    if criterion == "iou" and not (math.isfinite(threshold) and 0.0 < threshold <= 1.0):
        raise ConfigError(
            f"match_threshold (--match-threshold): {threshold} is not an IoU; "
            "with match iou give a number in (0, 1], e.g. 0.5"
        )
    if criterion == "centre" and not (math.isfinite(threshold) and threshold > 0.0):
        raise ConfigError(
            f"match_threshold (--match-threshold): {threshold} is not a distance; "
            "with match centre give a finite number of pixels > 0"
        )
    if not (math.isfinite(min_score) and 0.0 <= min_score <= 1.0):
        raise ConfigError(
            f"min_score (--min-score): {min_score} is not a score; give a number in [0, 1] (0 keeps every prediction)"
        )


def read_hands(path: str | Path, is_pred: bool) -> dict[str, list[HandRecord]]:
    """Reads the multi-hand JSON format; raises PredictionError/DatasetError naming the entry.

    ``joints3d``, ``verts`` and ``joints2d`` are all-or-none per file: if any hand has one, every
    hand must, so that metrics are never computed over a silently smaller set of hands.
    """
    error = PredictionError if is_pred else DatasetError
    data = load_json(path, error)
    if not isinstance(data, dict) or not isinstance(data.get("images"), dict):
        raise error(f"{path}: expected {{'images': {{image_id: [hand, ...]}}}}")
    out: dict[str, list[HandRecord]] = {}
    have: dict[str, list[str]] = {key: [] for key in OPTIONAL_ARRAYS}
    lack: dict[str, list[str]] = {key: [] for key in OPTIONAL_ARRAYS}
    for image_id, hands in sorted(data["images"].items()):
        where = f"{path}: images[{image_id!r}]"
        if not isinstance(hands, list):
            raise error(f"{where}: expected a list of hands")
        records = []
        for k, hand in enumerate(hands):
            if not isinstance(hand, dict):
                raise error(f"{where}[{k}]: expected an object with box, side{', score' if is_pred else ''}")
            try:
                box = as_points([hand["box"]], (4,), f"{where}[{k}].box", error)[0]
                side = hand["side"]
                score = float(hand["score"]) if is_pred else 1.0
            except (KeyError, TypeError, ValueError) as err:
                need = "box, side, score" if is_pred else "box, side"
                raise error(f"{where}[{k}]: needs {need} ({err!r})") from err
            if side not in ("left", "right"):
                raise error(f"{where}[{k}].side: {side!r} is not 'left' or 'right'")
            if not (math.isfinite(score) and 0.0 <= score <= 1.0):
                raise error(f"{where}[{k}].score: {score} is not a confidence in [0, 1]; write the detector's score")
            arrays = {}
            for key, tail in OPTIONAL_ARRAYS.items():
                (have if key in hand else lack)[key].append(f"images[{image_id!r}][{k}]")
                arrays[key] = as_points([hand[key]], tail, f"{where}[{k}].{key}", error)[0] if key in hand else None
            records.append(HandRecord(box, side, arrays["joints3d"], arrays["verts"], score, arrays["joints2d"]))
        out[str(image_id)] = records
    for key in OPTIONAL_ARRAYS:
        if have[key] and lack[key]:
            raise error(
                f"{path}: {lack[key][0]} has no '{key}' but {have[key][0]} has one ({len(lack[key])} of "
                f"{len(have[key]) + len(lack[key])} hands lack it); give '{key}' for every hand or for none"
            )
    return out


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU between boxes. a: (P, 4), b: (G, 4) ``[x0, y0, x1, y1]``. Returns (P, G)."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0.0, None), axis=-1)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0.0, None), axis=-1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0.0, None), axis=-1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def centre_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance in pixels between box centres. a: (P, 4), b: (G, 4). Returns (P, G)."""
    ca = 0.5 * (np.asarray(a, np.float64).reshape(-1, 4)[:, :2] + np.asarray(a, np.float64).reshape(-1, 4)[:, 2:])
    cb = 0.5 * (np.asarray(b, np.float64).reshape(-1, 4)[:, :2] + np.asarray(b, np.float64).reshape(-1, 4)[:, 2:])
    return np.linalg.norm(ca[:, None] - cb[None], axis=-1)


def greedy_match(pred_boxes: np.ndarray, scores: np.ndarray, gt_boxes: np.ndarray, criterion: Criterion, threshold: float) -> np.ndarray:
    """Greedy matching of one image's predictions, highest score first.

    Args:
        pred_boxes: (P, 4); scores: (P,); gt_boxes: (G, 4).
        criterion: ``"iou"`` (match if IoU >= threshold, best IoU wins) or ``"centre"``
            (match if centre distance <= threshold pixels, nearest wins).
        threshold: IoU or pixels.

    Returns:
        (P,) index of the matched ground-truth hand per prediction, -1 if unmatched.
    """
    if len(gt_boxes) == 0 or len(scores) == 0:
        return np.full(len(scores), -1, dtype=np.int64)
    if criterion == "iou":
        quality = box_iou(pred_boxes, gt_boxes)
        ok = quality >= threshold
    else:
        quality = -centre_distance(pred_boxes, gt_boxes)
        ok = -quality <= threshold
    return greedy_assign(quality, ok, scores)


def greedy_assign(quality: np.ndarray, ok: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The greedy rule of :func:`greedy_match` on a given pair quality (shared with other criteria).

    Args:
        quality: (P, G) higher is better; ok: (P, G) bool, the pairs that may match; scores: (P,).

    Returns:
        (P,) index of the ground-truth hand each prediction takes (highest score first, the best
        quality among the untaken allowed ones), -1 if none.
    """
    match = np.full(len(scores), -1, dtype=np.int64)
    taken = np.zeros(quality.shape[1], dtype=bool)
    for p in np.argsort(-np.asarray(scores, np.float64), kind="mergesort"):
        cand = np.where(ok[p] & ~taken)[0]
        if len(cand):
            g = cand[np.argmax(quality[p, cand])]
            match[p] = g
            taken[g] = True
    return match


def average_precision(scores: np.ndarray, tp: np.ndarray, num_gt: int) -> float:
    """COCO 101-point interpolated AP of one class (scores ranked with a stable sort)."""
    if num_gt == 0:
        return float("nan")
    order = np.argsort(-np.asarray(scores, np.float64), kind="mergesort")
    tps = np.cumsum(np.asarray(tp, bool)[order])
    fps = np.cumsum(~np.asarray(tp, bool)[order])
    recall = tps / num_gt
    precision = tps / np.maximum(tps + fps, np.finfo(np.float64).eps)
    if len(precision) == 0:
        return 0.0
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    idx = np.searchsorted(recall, RECALL_POINTS, side="left")
    values = np.zeros(len(RECALL_POINTS))
    inside = idx < len(precision)
    values[inside] = precision[idx[inside]]
    return float(np.mean(values))


def evaluate(
    gt: dict[str, list[HandRecord]],
    pred: dict[str, list[HandRecord]],
    criterion: Criterion = "iou",
    threshold: float = 0.5,
    min_score: float = 0.0,
    mode: Mode = "official",
) -> ProtocolResult:
    """Detection and per-hand metrics for multi-hand images.

    Args:
        gt, pred: image id -> hands (see :func:`read_hands`); images missing from ``pred`` have
            no predictions (all their hands are misses).
        criterion, threshold: matching rule (see :func:`greedy_match`).
        min_score: predictions below this score are ignored for handedness and 3D metrics.
        mode: Procrustes alignment for ``pa_*`` (official: mirror allowed; strict: det +1).

    Returns:
        ``ap``, ``recall``, ``num_gt_hands``, ``num_pred_hands``, ``num_matched`` and ``num_missed``
        (detection: every matched prediction, so ``recall = num_matched / num_gt_hands``),
        ``num_false_positive``, ``num_evaluated`` (matched pairs scoring >= ``min_score``),
        ``recall_at_min_score`` (``num_evaluated / num_gt_hands``: the recall at the operating point
        when the file holds every top-K detection and ``min_score`` is the detector's threshold), and
        over the evaluated pairs ``handedness_acc``, ``mpjpe_mm`` (wrist-relative), ``pa_mpjpe_mm``,
        ``pa_mpvpe_mm`` and ``joints2d_err_px`` (mean 2D joint distance in pixels; needs ``joints2d``
        in both files). 3D metrics need ``joints3d`` (``verts`` for ``pa_mpvpe_mm``) in both the
        ground truth and the predictions; where either file has none, they are NaN (``null`` in the
        metrics JSON: absent, never computed over a subset). One CSV row per evaluated pair.
        ``pck``: over every ground-truth hand, the fraction of its joints within each threshold
        after Procrustes alignment, a hand without an evaluated match counting as 0 (misses
        counted); None when the ground truth or the evaluated predictions have no ``joints3d``.

    Raises:
        ConfigError: invalid matching options (:func:`check_match_options`).
        PredictionError: predictions for unknown images; a matched pair whose meshes have
            different vertex counts.
    """
    check_match_options(criterion, threshold, min_score)
    for hands, error, label in ((gt, DatasetError, "ground truth"), (pred, PredictionError, "predictions")):
        for key in OPTIONAL_ARRAYS:
            given = {getattr(h, key) is not None for image in hands.values() for h in image}
            if len(given) == 2:
                raise error(f"{label}: some hands have '{key}' and some do not; give it for every hand or for none")
    unknown = sorted(set(pred) - set(gt))
    if unknown:
        raise PredictionError(f"predictions for images not in the ground truth: {unknown[:3]}; check the image ids")
    all_scores, all_tp, pairs, ids = [], [], [], []
    rows: list[int] = []  # per evaluated pair, its ground-truth hand's row (hands numbered image after image)
    first_row = 0
    num_gt = sum(len(h) for h in gt.values())
    for image_id, gts in gt.items():
        preds = pred.get(image_id, [])
        scores = np.array([p.score for p in preds])
        match = greedy_match(np.array([p.box for p in preds]), scores, np.array([g.box for g in gts]), criterion, threshold)
        all_scores.append(scores)
        all_tp.append(match >= 0)
        for p, g in enumerate(match):
            if g >= 0 and preds[p].score >= min_score:
                pairs.append((preds[p], gts[g]))
                ids.append(f"{image_id}:{g}")
                rows.append(first_row + g)
        first_row += len(gts)
    scores = np.concatenate(all_scores) if all_scores else np.zeros(0)
    tp = np.concatenate(all_tp) if all_tp else np.zeros(0, bool)
    num_matched = int(tp.sum())
    nan = float("nan")
    metrics: dict[str, float | int] = {
        "ap": average_precision(scores, tp, num_gt),
        "recall": num_matched / num_gt if num_gt else nan,
        "num_gt_hands": int(num_gt),
        "num_pred_hands": int(len(scores)),
        "num_matched": num_matched,
        "num_missed": int(num_gt - num_matched),
        "num_false_positive": int(len(scores) - num_matched),
        "num_evaluated": len(pairs),
        "recall_at_min_score": len(pairs) / num_gt if num_gt else nan,
        "handedness_acc": float(np.mean([p.side == g.side for p, g in pairs])) if pairs else nan,
        "mpjpe_mm": nan,
        "pa_mpjpe_mm": nan,
        "pa_mpvpe_mm": nan,
        "joints2d_err_px": nan,
    }
    per_sample: dict[str, np.ndarray] = {"side_correct": np.array([float(p.side == g.side) for p, g in pairs])}
    if pairs and all(p.joints2d is not None and g.joints2d is not None for p, g in pairs):
        err2d = np.stack([np.linalg.norm(p.joints2d - g.joints2d, axis=-1).mean() for p, g in pairs])
        metrics["joints2d_err_px"] = float(err2d.mean())
        per_sample["joints2d_err_px"] = err2d
    reflect = mode == "official"
    pck = None
    pa_joints = None
    if pairs and all(p.joints3d is not None and g.joints3d is not None for p, g in pairs):
        pj = np.stack([p.joints3d for p, _ in pairs])
        gj = np.stack([g.joints3d for _, g in pairs])
        rel = point_errors(gj - gj[:, :1], pj - pj[:, :1]).mean(1)
        pa_joints = point_errors(gj, align_w_scale(gj, pj, allow_reflection=reflect))
        pa = pa_joints.mean(1)
        metrics.update({"mpjpe_mm": float(rel.mean() * MM), "pa_mpjpe_mm": float(pa.mean() * MM)})
        per_sample.update({"mpjpe_mm": rel * MM, "pa_mpjpe_mm": pa * MM})
    gt_3d = num_gt > 0 and all(g.joints3d is not None for hands in gt.values() for g in hands)
    if gt_3d and (pa_joints is not None or not pairs):
        errors = np.full((num_gt, NUM_JOINTS), np.inf)  # a hand without an evaluated match never counts
        if pa_joints is not None:
            errors[rows] = pa_joints
        curve = eval_util_measures(errors, None, *PCK_3D_RANGE_M)
        pck = PckCurve(curve.thresholds, curve.pck_curve, "pa_mpjpe_misses_counted")
    if pairs and all(p.verts is not None and g.verts is not None for p, g in pairs):
        for (p, g), sid in zip(pairs, ids):
            if p.verts.shape != g.verts.shape:
                raise PredictionError(
                    f"hand {sid}: predicted mesh has {len(p.verts)} vertices, the ground truth's hand model "
                    f"{len(g.verts)}; predict meshes of the ground truth's hand model or leave out 'verts'"
                )
        pv, gv = np.stack([p.verts for p, _ in pairs]), np.stack([g.verts for _, g in pairs])
        pav = point_errors(gv, align_w_scale(gv, pv, allow_reflection=reflect)).mean(1)
        metrics["pa_mpvpe_mm"] = float(pav.mean() * MM)
        per_sample["pa_mpvpe_mm"] = pav * MM
    return ProtocolResult(metrics=metrics, per_sample=per_sample, sample_ids=ids, pck=pck)
