"""Pure metric functions, vectorised over samples: point errors, PCK/AUC, F-score.

Inputs are metres; results are metres too (the protocols convert to mm in the names and values
they report). ``N`` samples, ``P`` points per sample (J joints or V vertices).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.spatial import cKDTree


PCK_3D_RANGE_M: tuple[float, float, int] = (0.0, 0.05, 100)
"""``(val_min, val_max, steps)`` of the 3D PCK curve of protocols that have no official one
(InterHand2.6M, multi-hand images): FreiHAND's ``get_measures(0.0, 0.05, 100)``."""


class Measures(NamedTuple):
    """What the official ``EvalUtil.get_measures(val_min, val_max, steps)`` returns.

    Attributes:
        epe_mean: mean over points of each point's mean error (points without a valid
            measurement are skipped), in the input unit.
        epe_median: mean over points of each point's median error.
        auc: mean over points of ``trapz(pck, thresholds) / trapz(1, thresholds)``.
        pck_curve: (T,) mean over points of the fraction of errors ``<=`` each threshold.
        thresholds: (T,) ``np.linspace(val_min, val_max, steps)``.
        epe_per_point: (P,) each point's mean error (NaN where never valid).
    """

    epe_mean: float
    epe_median: float
    auc: float
    pck_curve: np.ndarray
    thresholds: np.ndarray
    epe_per_point: np.ndarray


def point_errors(gt: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Euclidean distance per point.

    Args:
        gt: (N, P, D); pred: (N, P, D).

    Returns:
        (N, P) distances in the input unit.
    """
    diff = np.asarray(gt, dtype=np.float64) - np.asarray(pred, dtype=np.float64)
    return np.sqrt(np.sum(np.square(diff), axis=-1))


def eval_util_measures(
    errors: np.ndarray, valid: np.ndarray | None, val_min: float, val_max: float, steps: int
) -> Measures:
    """Vectorised ``EvalUtil.get_measures`` (FreiHAND ``utils/eval_util.py``, hand3d ``utils/general.py``).

    Per point: mean, median and PCK (``error <= threshold``, inclusive as the official code) over
    the samples where it is valid; AUC per point by the trapezoidal rule normalised by the
    threshold range; then plain means over the points that have any valid sample.

    Args:
        errors: (N, P) distances.
        valid: (N, P) bool, or None for all valid.
        val_min, val_max, steps: thresholds ``np.linspace(val_min, val_max, steps)``.

    Returns:
        :class:`Measures`.
    """
    errors = np.asarray(errors, dtype=np.float64)
    valid = np.ones(errors.shape, dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    thresholds = np.linspace(val_min, val_max, steps)
    norm = np.trapezoid(np.ones_like(thresholds), thresholds)
    count = valid.sum(0)
    have = count > 0
    srt = np.sort(np.where(valid, errors, np.inf), axis=0)[:, have]
    n = count[have]
    cols = np.arange(srt.shape[1])
    means = np.where(valid, errors, 0.0).sum(0)[have] / n
    medians = 0.5 * (srt[(n - 1) // 2, cols] + srt[n // 2, cols])
    le = np.stack([np.searchsorted(srt[:, k], thresholds, side="right") for k in range(srt.shape[1])])
    pck = le / n[:, None]  # (P', T)
    auc = np.trapezoid(pck, thresholds, axis=1) / norm
    per_point = np.full(errors.shape[1], np.nan)
    per_point[have] = means
    return Measures(
        epe_mean=float(np.mean(means)),
        epe_median=float(np.mean(medians)),
        auc=float(np.mean(auc)),
        pck_curve=pck.mean(0),
        thresholds=thresholds,
        epe_per_point=per_point,
    )


def _grid_offsets(n: int, step: float) -> np.ndarray:
    """(n, 3) offsets placing n samples on a cubic grid with spacing ``step``."""
    k = max(1, int(np.ceil(n ** (1.0 / 3.0))))
    idx = np.arange(n)
    return np.stack([idx % k, (idx // k) % k, idx // (k * k)], axis=1) * step


def _flatten_on_grid(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flattens (N, P, 3) and (N, Q, 3) to point lists with sample i moved far from all others."""
    lo = np.minimum(a.min(axis=(0, 1)), b.min(axis=(0, 1)))
    hi = np.maximum(a.max(axis=(0, 1)), b.max(axis=(0, 1)))
    step = 3.0 * float(np.max(hi - lo)) + 1.0
    offsets = _grid_offsets(a.shape[0], step)[:, None, :] - lo
    return (a + offsets).reshape(-1, 3), (b + offsets).reshape(-1, 3)


def nearest_distances(
    a: np.ndarray, b: np.ndarray, upper_bound: float = np.inf, workers: int = -1
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest-neighbour distances both ways between two point sets per sample (float64, exact).

    All samples are searched at once: sample i is translated by a grid offset far larger than
    any sample's extent (3 x the global coordinate span + 1), so one KD-tree over all points
    returns, for every query, its nearest neighbour *within the same sample*.

    Args:
        a: (N, P, 3); b: (N, Q, 3).
        upper_bound: distances at or beyond this are returned as ``inf`` (a faster search).
        workers: query threads for ``cKDTree.query`` (-1: all cores).

    Returns:
        d_ab (N, P): for each point of ``a`` the distance to the closest point of ``b``;
        d_ba (N, Q): for each point of ``b`` the distance to the closest point of ``a``.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    flat_a, flat_b = _flatten_on_grid(a, b)
    d_ab = cKDTree(flat_b, balanced_tree=False).query(flat_a, distance_upper_bound=upper_bound, workers=workers)[0]
    d_ba = cKDTree(flat_a, balanced_tree=False).query(flat_b, distance_upper_bound=upper_bound, workers=workers)[0]
    return d_ab.reshape(a.shape[:2]), d_ba.reshape(b.shape[:2])


def _bounded_nn(points: np.ndarray, tree_points: np.ndarray, need: np.ndarray, bound: float) -> np.ndarray:
    """Exact NN distances (``inf`` at or past ``bound``) for the flagged query points only."""
    out = np.full(points.shape[0], np.inf)
    if need.any():
        tree = cKDTree(tree_points, balanced_tree=False)
        out[need] = tree.query(points[need], distance_upper_bound=bound, workers=-1)[0]
    return out


def fscores(gt: np.ndarray, pred: np.ndarray, thresholds: tuple[float, ...]) -> np.ndarray:
    """Per-sample F-scores as FreiHAND/HO3D ``eval.py:calculate_fscore``, for several thresholds.

    Exact and vectorised. When both meshes have the same vertex count (MANO topology), vertex i
    of the other mesh bounds the nearest-neighbour distance from above, so points with
    ``|gt_i - pred_i| <`` the smallest threshold are counted without a search; the rest are
    searched in one KD-tree over all samples (see :func:`nearest_distances`) with the largest
    threshold as the search radius. Counting uses strict ``<`` as the official code.

    Args:
        gt: (N, P, 3) ground-truth vertices.
        pred: (N, Q, 3) predicted vertices.
        thresholds: distances in the points' unit (officially 0.005 and 0.015 m).

    Returns:
        (N, T) F-scores in [0, 1] (0 where precision + recall is 0, as the official code).
    """
    gt = np.asarray(gt, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    t_min, t_max = min(thresholds), max(thresholds)
    if gt.shape == pred.shape:
        corr = point_errors(gt, pred).reshape(-1)
    else:
        corr = np.full(gt.shape[0] * max(gt.shape[1], pred.shape[1]), np.inf)
    flat_gt, flat_pred = _flatten_on_grid(gt, pred)
    d_gt = _bounded_nn(flat_gt, flat_pred, ~(corr[: flat_gt.shape[0]] < t_min), t_max)
    d_pred = _bounded_nn(flat_pred, flat_gt, ~(corr[: flat_pred.shape[0]] < t_min), t_max)
    if gt.shape == pred.shape:
        d_gt = np.minimum(d_gt, corr)
        d_pred = np.minimum(d_pred, corr)
    d_gt = d_gt.reshape(gt.shape[:2])
    d_pred = d_pred.reshape(pred.shape[:2])
    return np.stack([fscore_from_distances(d_gt, d_pred, t) for t in thresholds], axis=1)


def fscore_from_distances(d_gt: np.ndarray, d_pred: np.ndarray, threshold: float) -> np.ndarray:
    """F-score per sample as FreiHAND/HO3D ``eval.py:calculate_fscore`` (strict ``<``).

    Args:
        d_gt: (N, P) distance from each gt point to the closest predicted point.
        d_pred: (N, Q) distance from each predicted point to the closest gt point.
        threshold: in the distances' unit (metres: 0.005 and 0.015 officially).

    Returns:
        (N,) F-scores in [0, 1]; 0 where precision + recall is 0 (as the official code).
    """
    precision = np.mean(d_gt < threshold, axis=1)
    recall = np.mean(d_pred < threshold, axis=1)
    total = precision + recall
    safe = np.where(total > 0, total, 1.0)
    return np.where(total > 0, 2.0 * recall * precision / safe, 0.0)
