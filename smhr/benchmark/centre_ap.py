"""Centre AP: the multihand protocol's detection AP with only the detected centres judged.

The multihand protocol's ``ap`` matches a detection to a labelled hand when their boxes overlap
with IoU >= 0.5, so a detection at the right place whose box has the wrong size is a miss. smhr's
boxes are centred on the detected centre and take their size from the predicted mesh
(:func:`smhr.model.decode.detection_box`), so ``ap`` judges the centre head and the mesh's size
together. ``centre_ap`` separates the first: a detection hits a labelled hand when the labelled
box, moved so that its centre lies at the detection's box centre, still overlaps the labelled box
with IoU >= ``threshold`` (0.5): the AP@0.5 the detections would get with every size right. For a
``w x h`` box moved by ``(dx, dy)`` the overlap is ``(w - |dx|)(h - |dy|)``, so at 0.5 a square
hand's centre may be off by up to a third of its side along one axis. Matching, ranking and AP
are the protocol's own (highest score first, the best overlap among the untaken labelled hands,
COCO's 101-point AP: :func:`smhr.eval.multihand.average_precision`). The side is not judged
(``handedness_acc`` does that).
"""

from __future__ import annotations

import numpy as np

from smhr.eval.multihand import HandRecord, average_precision, greedy_assign


def shifted_box_iou(centres: np.ndarray, gt_boxes: np.ndarray) -> np.ndarray:
    """IoU of each labelled box with itself moved to each predicted centre.

    Args:
        centres: (P, 2) px, predicted centres.
        gt_boxes: (G, 4) px ``[x0, y0, x1, y1]``.

    Returns:
        (P, G) IoU in [0, 1]; 0 for a degenerate labelled box.
    """
    centres = np.asarray(centres, np.float64).reshape(-1, 2)
    gt = np.asarray(gt_boxes, np.float64).reshape(-1, 4)
    size = np.clip(gt[:, 2:] - gt[:, :2], 0.0, None)  # (G, 2)
    offset = np.abs(centres[:, None] - 0.5 * (gt[None, :, :2] + gt[None, :, 2:]))  # (P, G, 2)
    overlap = np.clip(size[None] - offset, 0.0, None).prod(-1)
    area = size.prod(-1)[None]
    union = 2.0 * area - overlap
    return np.where(union > 0, overlap / np.where(union > 0, union, 1.0), 0.0)


def centre_metrics(gt: dict[str, list[HandRecord]], pred: dict[str, list[HandRecord]],
                   threshold: float = 0.5) -> dict[str, float]:
    """``centre_ap`` and ``centre_recall`` of every prediction (see the module docstring).

    Args:
        gt, pred: image id -> hands (:func:`smhr.eval.multihand.read_hands`); an image missing
            from ``pred`` has no detections.
        threshold: the IoU a labelled box moved to the detected centre must keep.

    Returns:
        ``{"centre_ap": ..., "centre_recall": ...}`` (NaN without labelled hands).
    """
    all_scores, all_tp = [], []
    num_gt = sum(len(h) for h in gt.values())
    for image_id, gts in gt.items():
        preds = pred.get(image_id, [])
        scores = np.array([p.score for p in preds], np.float64)
        tp = np.zeros(len(preds), bool)
        if preds and gts:
            boxes = np.array([p.box for p in preds], np.float64)
            quality = shifted_box_iou(0.5 * (boxes[:, :2] + boxes[:, 2:]), np.array([g.box for g in gts]))
            tp = greedy_assign(quality, quality >= threshold, scores) >= 0
        all_scores.append(scores)
        all_tp.append(tp)
    scores = np.concatenate(all_scores) if all_scores else np.zeros(0)
    tp = np.concatenate(all_tp) if all_tp else np.zeros(0, bool)
    return {"centre_ap": average_precision(scores, tp, num_gt),
            "centre_recall": float(tp.sum() / num_gt) if num_gt else float("nan")}
