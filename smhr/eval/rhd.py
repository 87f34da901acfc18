"""RHD (Rendered Hand Pose), as lmb-freiburg/hand3d evaluates it.

Reproduced from ``data/BinaryDbReader.py``, ``eval3d.py``, ``eval2d.py`` and
``utils/general.py:EvalUtil``:

* the evaluated hand is the one with more pixels in the segmentation mask (labels 2-17 left,
  18+ right; ties go to the right hand): :func:`smhr.data.datasets.rhd.dominant_side`, the loader's rule;
* keypoint 0 (the wrist) is replaced by the palm centre ``0.5 * (kp[0] + kp[12])`` (RHD order:
  12 is the middle finger's MCP), visible if either is; 2D labels are truncated to integers
  first (the loader casts them to int32). Joint order, label ranges and the annotation reader
  are :mod:`smhr.data.datasets.rhd`'s;
* 3D: ground truth relative to the palm; the prediction, relative to its own palm, is
  normalised by its middle MCP->PIP bone (RHD 12->11) and scaled by the ground truth's bone
  (the official network outputs normalised coordinates scaled by ``keypoint_scale``); all 21
  points count; ``get_measures(0.0, 0.050, 20)``; AUC 20-50 mm with the same sampling
  (``np.linspace(0.020, 0.050, 20)``);
* 2D (``eval2d.py``): pixels in RHD's 320 x 320 frame, visible points only, palm at index 0,
  ``get_measures(0.0, 30.0, 20)``. ``eval2d.py`` itself runs its reader with
  ``use_wrist_coord=True, scale_to_size=True`` (the wrist, in a 240 x 320 resized frame); its
  docstring calls ``use_wrist_coord=False`` in the 320 x 320 frame the correct setting, which is
  the one used here (the test port runs all settings).

Strict mode skips the ground-truth bone rescaling (predictions are used in metres as given).

Prediction file (JSON): ``{"xyz": N x 21 x 3 metres, "uv": N x 21 x 2 pixels}`` in OpenPose
order (wrist first), rows in increasing sample-id order of ``anno_evaluation.pickle``; ``uv``
is optional.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from smhr.data.datasets.imageio import read_gray
from smhr.data.datasets.rhd import HAND_OFFSET, RHD_MIDDLE_MCP, RHD_MIDDLE_PIP, dominant_side, read_annotations
from smhr.data.datasets.rhd import RHD_TO_OPENPOSE as _ONE_HAND_RHD_TO_OPENPOSE
from smhr.errors import DatasetError, PredictionError
from smhr.eval.io import as_points, load_json
from smhr.eval.metrics import eval_util_measures, point_errors
from smhr.eval.result import Mode, PckCurve, ProtocolResult
from smhr.hand.joints import NUM_JOINTS

RHD_TO_OPENPOSE = _ONE_HAND_RHD_TO_OPENPOSE
"""Gather indices: ``x_openpose = x_rhd[..., RHD_TO_OPENPOSE, :]`` (RHD lists each finger tip first)."""
OPENPOSE_TO_RHD = np.argsort(RHD_TO_OPENPOSE)
"""Gather indices: ``x_rhd = x_openpose[..., OPENPOSE_TO_RHD, :]``."""
PALM_PARTNER, BONE_CHILD = RHD_MIDDLE_MCP, RHD_MIDDLE_PIP
"""RHD indices: palm = mean of wrist (0) and middle MCP (12); the scale bone is MCP 12 -> PIP 11."""
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
    """Reads ``anno_evaluation.pickle`` and the ``mask/%05d.png`` images of RHD's evaluation split.

    Raises:
        DatasetError: naming the file (and sample): a missing or malformed annotation, a mask
            that is missing or not an image.
    """
    gt_dir = Path(gt_dir)
    path = gt_dir / "anno_evaluation.pickle"
    if not path.is_file():
        raise DatasetError(f"{path}: not found; pass --gt RHD_published_v2/evaluation")
    anno = read_annotations(path, "evaluation")
    ids = list(anno)
    xyz42 = np.stack([anno[i]["xyz"] for i in ids])
    uv_vis = np.stack([anno[i]["uv_vis"] for i in ids])
    offset = np.empty(len(ids), dtype=np.int64)
    for n, i in enumerate(ids):
        mask_path = gt_dir / "mask" / f"{i:05d}.png"
        labels = read_gray(mask_path, "extract RHD's mask folder: the evaluated hand is chosen from it")
        offset[n] = HAND_OFFSET[dominant_side(labels)]
    pick = offset[:, None] + np.arange(NUM_JOINTS)[None]
    rows = np.arange(len(ids))[:, None]
    uv = np.trunc(uv_vis[..., :2]).astype(np.int32).astype(np.float64)
    vis = uv_vis[..., 2] != 0
    vis21 = vis[rows, pick]
    vis21[:, 0] = vis21[:, 0] | vis21[:, PALM_PARTNER]
    xyz = xyz42.astype(np.float32).astype(np.float64)  # the official binary stores float32
    return RhdGT(ids, with_palm(xyz[rows, pick]), with_palm(uv[rows, pick]), vis21)


def read_pred(
    path: str | Path, num_samples: int, sample_ids: list[int] | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Reads ``{"xyz": ..., "uv": ...}`` (OpenPose order); returns RHD order with the palm at 0.

    Args:
        path: the prediction file.
        num_samples: rows it must have (one per evaluation sample).
        sample_ids: the ground truth's sample ids, to name a bad row in messages.
    """
    data = load_json(path, PredictionError)
    if not isinstance(data, dict) or "xyz" not in data:
        raise PredictionError(f"{path}: expected a JSON object with 'xyz' (and optionally 'uv')")
    for key in ("xyz", "uv"):
        if key in data and (not isinstance(data[key], list) or len(data[key]) != num_samples):
            raise PredictionError(f"{path}: '{key}' needs {num_samples} entries (one per evaluation sample)")
    labels = [f"row {n} (sample {i})" for n, i in enumerate(sample_ids)] if sample_ids is not None else None
    xyz = with_palm(as_points(data["xyz"], (21, 3), f"{path}: xyz", labels=labels)[:, OPENPOSE_TO_RHD])
    if "uv" not in data:
        return xyz, None
    return xyz, with_palm(as_points(data["uv"], (21, 2), f"{path}: uv", labels=labels)[:, OPENPOSE_TO_RHD])


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
    return ProtocolResult(metrics=metrics, per_sample=per_sample, sample_ids=[str(i) for i in gt.ids],
                          pck=PckCurve(m3.thresholds, m3.pck_curve, "epe3d"))
