"""Validation during training: the project's own metrics on held-out images.

The network decodes each image as at test time (NMS, top-K, threshold: no ground truth), and
:func:`smhr.eval.multihand.evaluate` matches its hands to the labelled ones: centre AP@IoU 0.5,
recall, handedness accuracy and, where the labels have 3D joints, wrist-relative MPJPE and
PA-MPJPE in mm. The 2D error in px is that of the hand model's joints re-projected at the
ground-truth centres (the global branch's 2D accuracy, independent of detection; for the
two-stage baseline: its regressor on crops at the ground-truth boxes,
:meth:`~smhr.train.objective.Objective.hands_at_truth`). Both architectures decode through
``model.decode``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from smhr.data.training.dataset import DatasetConfig, HandDataset, collate_hands
from smhr.data.datasets.sample import SIDES, Sample
from smhr.eval.multihand import HandRecord, evaluate
from smhr.model.network import SMHRNet
from smhr.model.two_stage import TwoStageNet

VAL_BATCH = 16


@torch.no_grad()
def validate(model: SMHRNet | TwoStageNet, samples: Sequence[Sample], ds_cfg: DatasetConfig, objective,
             device: torch.device) -> dict[str, float]:
    """Metrics of ``model`` on ``samples`` (letterboxed, not augmented).

    Args:
        model: the network (put in eval mode here).
        samples: held-out images.
        ds_cfg: input size and target encoding of the stage.
        objective: gives the image intrinsics and the hands at the ground truth
            (:class:`~smhr.train.objective.Objective` or its two-stage subclass).
        device: where the model is.

    Returns:
        ``ap``, ``recall``, ``handedness_acc``, ``joints2d_err_px`` and, when 3D labels exist,
        ``mpjpe_mm`` and ``pa_mpjpe_mm``; values that cannot be computed are NaN.
    """
    model.eval()
    loader = torch.utils.data.DataLoader(HandDataset(samples, ds_cfg, train=False), batch_size=VAL_BATCH,
                                         collate_fn=collate_hands)
    gt: dict[str, list[HandRecord]] = {}
    pred: dict[str, list[HandRecord]] = {}
    err_sum, err_n = 0.0, 0
    for batch in loader:
        batch = batch.to(device)
        maps = model(batch.image)
        K = objective.image_intrinsics(batch)
        hand = batch.hand_mask & batch.center_valid
        at_gt = objective.hands_at_truth(model, maps, batch)
        vis = batch.visible & hand[..., None]
        err = (at_gt.joints2d - batch.joints2d).norm(dim=-1)
        err_sum += float(err[vis].double().sum())
        err_n += int(vis.sum())
        decoded = model.decode(maps, K).per_image()
        for b in range(batch.image.shape[0]):
            image_id = str(int(batch.index[b]))
            gt[image_id] = [
                HandRecord(box=batch.bbox[b, k].double().cpu().numpy(), side=SIDES[int(batch.side[b, k])],
                           joints3d=batch.joints3d[b, k].double().cpu().numpy()
                           if bool(batch.joints3d_valid[b, k].all()) else None)
                for k in range(batch.hand_mask.shape[1]) if bool(batch.hand_mask[b, k])
            ]
            pred[image_id] = [HandRecord(box=h.box, side=h.side, joints3d=h.joints3d, score=h.score)
                              for h in decoded[b]]
    with3d = all(g.joints3d is not None for hands in gt.values() for g in hands)
    if not with3d:
        pred = {k: [HandRecord(box=p.box, side=p.side, score=p.score) for p in v] for k, v in pred.items()}
        gt = {k: [HandRecord(box=g.box, side=g.side) for g in v] for k, v in gt.items()}
    metrics = evaluate(gt, pred).metrics
    out = {key: float(metrics[key]) for key in ("ap", "recall", "handedness_acc", "mpjpe_mm", "pa_mpjpe_mm")
           if key in metrics}
    out["joints2d_err_px"] = err_sum / err_n if err_n else math.nan
    return {k: (round(v, 6) if np.isfinite(v) else math.nan) for k, v in sorted(out.items())}
