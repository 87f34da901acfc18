"""RHD (Rendered Hand Pose), as lmb-freiburg/hand3d evaluates it.

Reproduced from ``data/BinaryDbReader.py``, ``eval3d.py``, ``eval2d.py`` and
``utils/general.py:EvalUtil``:

* the evaluated hand is the one with more pixels in the segmentation mask (labels 2-17 left,
  18+ right; ties go to the right hand);
* keypoint 0 (the wrist) is replaced by the palm centre ``0.5 * (kp[0] + kp[12])`` (RHD order:
  12 is the middle finger's MCP), visible if either is; 2D labels are truncated to integers
  first (the loader casts them to int32);
* 3D: ground truth relative to the palm; the prediction, relative to its own palm, is
  normalised by its middle MCP->PIP bone (RHD 12->11) and scaled by the ground truth's bone
  (the official network outputs normalised coordinates scaled by ``keypoint_scale``); all 21
  points count; ``get_measures(0.0, 0.050, 20)``; AUC 20-50 mm with the same sampling
  (``np.linspace(0.020, 0.050, 20)``);
* 2D: pixels, visible points only, ``get_measures(0.0, 30.0, 20)``.

Strict mode skips the ground-truth bone rescaling (predictions are used in metres as given).

Prediction file (JSON): ``{"xyz": N x 21 x 3 metres, "uv": N x 21 x 2 pixels}`` in OpenPose
order (wrist first), rows in increasing sample-id order of ``anno_evaluation.pickle``; ``uv``
is optional.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from smhr.errors import DatasetError, PredictionError
from smhr.eval.io import as_points, load_json
from smhr.eval.metrics import eval_util_measures, point_errors
from smhr.eval.result import Mode, ProtocolResult

RHD_TO_OPENPOSE = np.array([0] + [1 + 4 * f + (3 - k) for f in range(5) for k in range(4)], dtype=np.int64)
"""Gather indices: ``x_openpose = x_rhd[..., RHD_TO_OPENPOSE, :]`` (RHD lists each finger tip first)."""
OPENPOSE_TO_RHD = np.argsort(RHD_TO_OPENPOSE)
"""Gather indices: ``x_rhd = x_openpose[..., OPENPOSE_TO_RHD, :]``."""
PALM_PARTNER, BONE_CHILD = 12, 11
"""RHD indices: palm = mean of wrist (0) and middle MCP (12); the scale bone is 12 -> 11."""
MM = 1000.0


class RhdGT(NamedTuple):
    """Evaluated hands, RHD order, keypoint 0 already the palm centre.

    Attributes:
        ids: (N,) sample ids.
        xyz: (N, 21, 3) metres.
        uv: (N, 21, 2) pixels (integer-truncated as the official loader).
        vis: (N, 21) bool.
    """

    ids: list[int]
    xyz: np.ndarray
    uv: np.ndarray
    vis: np.ndarray


def with_palm(points: np.ndarray) -> np.ndarray:
    """Replaces RHD keypoint 0 by ``0.5 * (kp[0] + kp[12])``; points (N, 21, D)."""
    out = np.array(points, dtype=np.float64)
    out[:, 0] = 0.5 * (out[:, 0] + out[:, PALM_PARTNER])
    return out


def read_gt(gt_dir: str | Path) -> RhdGT:
    """Reads ``anno_evaluation.pickle`` and the ``mask/%05d.png`` images of RHD's evaluation split."""
    gt_dir = Path(gt_dir)
    path = gt_dir / "anno_evaluation.pickle"
    if not path.is_file():
        raise DatasetError(f"{path}: not found; pass --gt RHD_published_v2/evaluation")
    try:
        with open(path, "rb") as handle:
            anno = pickle.load(handle)
        ids = sorted(int(k) for k in anno)
        xyz42 = np.stack([np.asarray(anno[i]["xyz"], np.float64) for i in ids])
        uv_vis = np.stack([np.asarray(anno[i]["uv_vis"], np.float64) for i in ids])
    except (pickle.UnpicklingError, KeyError, ValueError, TypeError, EOFError) as err:
        raise DatasetError(f"{path}: malformed RHD annotation ({err!r}); use the official file") from err
    if xyz42.shape[1:] != (42, 3) or uv_vis.shape[1:] != (42, 3):
        raise DatasetError(f"{path}: expected 42 keypoints per sample with xyz and uv_vis")
    left = np.empty(len(ids), dtype=bool)
    for n, i in enumerate(ids):
        mask_path = gt_dir / "mask" / f"{i:05d}.png"
        if not mask_path.is_file():
            raise DatasetError(f"{mask_path}: missing; the evaluated hand is chosen from the mask")
        mask = np.asarray(Image.open(mask_path))
        left[n] = np.sum((mask > 1) & (mask < 18)) > np.sum(mask > 17)
    pick = np.where(left[:, None], 0, 21) + np.arange(21)[None]
    rows = np.arange(len(ids))[:, None]
    uv = np.trunc(uv_vis[..., :2]).astype(np.int32).astype(np.float64)
    vis = uv_vis[..., 2] > 0
    vis21 = vis[rows, pick]
    vis21[:, 0] = vis21[:, 0] | vis21[:, PALM_PARTNER]
    return RhdGT(ids, with_palm(xyz42[rows, pick]), with_palm(uv[rows, pick]), vis21)


def read_pred(path: str | Path, num_samples: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Reads ``{"xyz": ..., "uv": ...}`` (OpenPose order); returns RHD order with the palm at 0."""
    data = load_json(path, PredictionError)
    if not isinstance(data, dict) or "xyz" not in data:
        raise PredictionError(f"{path}: expected a JSON object with 'xyz' (and optionally 'uv')")
    for key in ("xyz", "uv"):
        if key in data and (not isinstance(data[key], list) or len(data[key]) != num_samples):
            raise PredictionError(f"{path}: '{key}' needs {num_samples} entries (one per evaluation sample)")
    xyz = with_palm(as_points(data["xyz"], (21, 3), f"{path}: xyz")[:, OPENPOSE_TO_RHD])
    uv = with_palm(as_points(data["uv"], (21, 2), f"{path}: uv")[:, OPENPOSE_TO_RHD]) if "uv" in data else None
    return xyz, uv


def evaluate(gt: RhdGT, pred_xyz: np.ndarray, pred_uv: np.ndarray | None, mode: Mode = "official") -> ProtocolResult:
    """Scores RHD predictions (RHD order, palm at index 0; see the module docstring).

    Args:
        gt: from :func:`read_gt`.
        pred_xyz: (N, 21, 3) metres.
        pred_uv: (N, 21, 2) pixels or None.
        mode: ``official`` rescales by the ground-truth bone; ``strict`` uses metres as given.
    """
    gt_rel = gt.xyz - gt.xyz[:, :1]
    pred_rel = np.asarray(pred_xyz, np.float64) - pred_xyz[:, :1]
    if mode == "official":
        s_gt = np.linalg.norm(gt_rel[:, PALM_PARTNER] - gt_rel[:, BONE_CHILD], axis=-1)
        s_pred = np.linalg.norm(pred_rel[:, PALM_PARTNER] - pred_rel[:, BONE_CHILD], axis=-1)
        pred_rel = pred_rel / np.where(s_pred > 0, s_pred, 1.0)[:, None, None] * s_gt[:, None, None]
    err3 = point_errors(gt_rel, pred_rel)
    m3 = eval_util_measures(err3, None, 0.0, 0.050, 20)
    m3b = eval_util_measures(err3, None, 0.020, 0.050, 20)
    metrics: dict[str, float | int] = {
        "epe3d_mean_mm": m3.epe_mean * MM,
        "epe3d_median_mm": m3.epe_median * MM,
        "auc3d_0_50mm": m3.auc,
        "auc3d_20_50mm": m3b.auc,
        "num_samples": len(gt.ids),
    }
    per_sample = {"epe3d_mm": err3.mean(1) * MM}
    if pred_uv is not None:
        err2 = point_errors(gt.uv, pred_uv)
        m2 = eval_util_measures(err2, gt.vis, 0.0, 30.0, 20)
        metrics.update({"epe2d_mean_px": m2.epe_mean, "epe2d_median_px": m2.epe_median, "auc2d_0_30px": m2.auc})
        n_vis = gt.vis.sum(1)
        per_sample["epe2d_px"] = np.where(
            n_vis > 0, np.where(gt.vis, err2, 0.0).sum(1) / np.maximum(n_vis, 1), np.nan
        )
    return ProtocolResult(metrics=metrics, per_sample=per_sample, sample_ids=[str(i) for i in gt.ids])
