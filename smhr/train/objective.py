"""The training objective: the network's maps + a :class:`HandBatch` -> the weighted loss terms.

Per-hand quantities are read at the **ground-truth centre cells** (``SMHRNet.hands_at``), so
every labelled hand gets its global parameters supervised whatever the heatmap says. Only the
terms with a positive weight are computed, and only those read their fields of the batch: a weak
stage never touches ``joints3d``, ``mano_*`` or ``has_mano`` (tested).

Cameras: single-hand images have one camera, the hand's ``K`` (``batch.K[:, 0]``); composed images
paste hands from different cameras, so the network works with the default intrinsics of its
input (:func:`smhr.model.camera.default_intrinsics`) and 3D terms are root-relative.

The trainer calls :meth:`Objective.terms` (network + batch -> terms) and validation
:meth:`Objective.hands_at_truth`; the two-stage baseline's objective
(:mod:`smhr.train.objective_two_stage`) overrides those two and reuses the per-hand terms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from smhr.data.training.dataset import IMAGENET_MEAN, IMAGENET_STD, HandBatch
from smhr.errors import ConfigError
from smhr.geometry.camera import scale_intrinsics
from smhr.hand.prior import JOINT_LIMITS, joint_frames
from smhr.model.camera import default_intrinsics
from smhr.model.decode import gather_at
from smhr.model.heads import HeadMaps
from smhr.model.network import SMHRNet
from smhr.model.outputs import HandPredictions
from smhr.render import render_hands
from smhr.train import losses as L
from smhr.train.config import LossWeights


@dataclass
class Objective:
    """Weighted sum of the loss terms, with what each term needs precomputed.

    Args:
        model: the network (its hand models give the pose-prior frames).
        weights: the stage's loss weights.
        single_camera: True when each image has one camera (single-hand data): the hands' ``K``
            is the image's; False: default intrinsics (composed data).
        consistency_grad_to: which side of the consistency term gets the gradient.
    """

    model: SMHRNet
    weights: LossWeights
    single_camera: bool = True
    consistency_grad_to: str = "global"

    def __post_init__(self) -> None:
        if self.weights.box_size > 0 and self.model.cfg.architecture != "two_stage":
            raise ConfigError(f"train weights.box_size = {self.weights.box_size}: only the two-stage baseline's "
                              f"detector has a box head; set it to 0 for the {self.model.cfg.architecture} network")
        left, right = self.model.hand_models
        self.frames = torch.tensor(np.stack([joint_frames(left.data), joint_frames(right.data)]), dtype=torch.float32)
        self.limits = torch.tensor(JOINT_LIMITS, dtype=torch.float32)

    def image_intrinsics(self, batch: HandBatch) -> torch.Tensor:
        """(B, 3, 3) the camera the network decodes translations with."""
        if self.single_camera:
            return batch.K[:, 0]
        b, size = batch.image.shape[0], batch.image.shape[-1]
        return default_intrinsics(size, b, batch.image.dtype, batch.image.device)

    def terms(self, net: torch.nn.Module, batch: HandBatch, step: int) -> dict[str, torch.Tensor]:
        """One training step's weighted terms: the network's forward on ``batch`` and :meth:`__call__`.

        Args:
            net: the network, or its DistributedDataParallel wrapper.
            batch: the batch.
            step: the optimiser step about to be taken (unused here; the two-stage objective seeds
                its crop jitter with it).
        """
        return self(net(batch.image), batch)

    def hands_at_truth(self, model: SMHRNet, maps: HeadMaps, batch: HandBatch) -> HandPredictions:
        """The hands read at the ground-truth centres (validation's 2D error), masked to real hands."""
        return model.hands_at(maps, batch.center_index, batch.side, self.image_intrinsics(batch),
                              mask=batch.hand_mask & batch.center_valid)

    def __call__(self, maps: HeadMaps, batch: HandBatch) -> dict[str, torch.Tensor]:
        """The weighted terms, plus ``"total"`` (their sum).

        Args:
            maps: the network's output on ``batch.image``.
            batch: the batch (padded hands with ``hand_mask``).

        Returns:
            term name -> scalar tensor (already multiplied by its weight).
        """
        w = self.weights.active()
        hand = batch.hand_mask
        terms: dict[str, torch.Tensor] = {}
        if "center" in w:
            terms["center"] = L.focal_heatmap_loss(maps.center, batch.center_heatmap)
        if "center_offset" in w:
            terms["center_offset"] = L.offset_loss(gather_at(maps.center_offset, batch.center_index),
                                                   batch.center_offset, batch.center_valid & hand)
        if "keypoint_heatmap" in w:
            terms["keypoint_heatmap"] = L.focal_heatmap_loss(maps.keypoint_heatmap, batch.keypoint_heatmap)
        needs_hands = set(w) - {"center", "center_offset", "keypoint_heatmap"}
        if needs_hands:
            pred = self.model.hands_at(maps, batch.center_index, batch.side, self.image_intrinsics(batch),
                                       mask=hand & batch.center_valid)
            terms.update(self._hand_terms(pred, batch, set(w)))
        weighted = {name: value * w[name] for name, value in terms.items()}
        total = sum(weighted.values()) if weighted else maps.center.sum() * 0.0
        weighted["total"] = total
        return weighted

    def _hand_terms(self, pred: HandPredictions, batch: HandBatch, active: set[str]) -> dict[str, torch.Tensor]:
        hand = batch.hand_mask & batch.center_valid
        out: dict[str, torch.Tensor] = {}
        if "keypoint_offset" in active:
            out["keypoint_offset"] = L.keypoint_loss(pred.keypoints2d, batch.joints2d, batch.visible, hand,
                                                     L.box_size(batch.bbox))
        if "reprojection" in active:
            out["reprojection"] = L.reprojection_loss(pred.joints2d, batch.joints2d, batch.visible, hand, batch.bbox)
        if "apparent_size" in active:
            out["apparent_size"] = L.apparent_size_loss(pred.joints2d, batch.joints2d, batch.visible, hand)
        if "bone_direction" in active:
            out["bone_direction"] = L.bone_direction_loss(pred.joints2d, batch.joints2d, batch.visible, hand)
        if "pose_prior" in active:
            left, right = self.model.hand_models
            full = pred.hand_pose + torch.where(batch.side[..., None] == 0, left.hands_mean, right.hands_mean)
            out["pose_prior"] = L.pose_limit_loss(full, batch.side, hand, self.frames.to(full), self.limits.to(full))
        if "pose_regulariser" in active:
            out["pose_regulariser"] = L.pose_regulariser_loss(pred.hand_pose, hand)
        if "shape" in active:
            out["shape"] = L.shape_loss(pred.betas, hand)
        if "consistency" in active:
            out["consistency"] = L.consistency_loss(pred.joints2d, pred.keypoints2d, hand, batch.bbox,
                                                    grad_to=self.consistency_grad_to)
        if active & {"silhouette", "photometric"}:
            out.update(self._render_terms(pred, batch, hand, active))
        if active & {"joints3d", "vertices", "mano_pose", "mano_betas"}:
            out.update(self._full_terms(pred, batch, hand, active))
        return out

    def _render_terms(self, pred: HandPredictions, batch: HandBatch, hand: torch.Tensor,
                      active: set[str]) -> dict[str, torch.Tensor]:
        """Silhouette and photometric terms, rendered at the masks' resolution (the target stride)."""
        h, w = batch.masks.shape[-2:]
        size = batch.image.shape[-1]
        K = scale_intrinsics(pred.K, w / size, h / size)[:, None].expand(-1, hand.shape[1], 3, 3)
        faces = self.model.hand_models[1].faces
        flip = batch.side == 0 if self._left_is_mirrored() else None
        colors = pred.albedo if "photometric" in active else None
        sh = pred.sh if "photometric" in active else None
        out = render_hands(pred.vertices, faces, K, hand, (h, w), colors=colors, sh=sh, mode="soft", flip_winding=flip)
        # the labelled hands' union; images where a real hand has no mask cannot be judged
        union = (batch.masks * batch.hand_mask[..., None, None]).amax(1)
        valid = ((batch.has_mask | ~batch.hand_mask).all(1)) & batch.hand_mask.any(1)
        terms = {}
        if "silhouette" in active:
            terms["silhouette"] = L.silhouette_loss(out.alpha, union, valid)
        if "photometric" in active:
            mean = batch.image.new_tensor(IMAGENET_MEAN)[:, None, None]
            std = batch.image.new_tensor(IMAGENET_STD)[:, None, None]
            rgb01 = batch.image * std + mean
            target = torch.nn.functional.adaptive_avg_pool2d(rgb01, (h, w)).permute(0, 2, 3, 1)
            terms["photometric"] = L.photometric_loss(out.rgb, target, union * valid[:, None, None])
        return terms

    def _left_is_mirrored(self) -> bool:
        """Left and right models share faces: a mirrored left mesh then winds the other way."""
        left, right = self.model.hand_models
        return bool(torch.equal(left.faces, right.faces))

    def _full_terms(self, pred: HandPredictions, batch: HandBatch, hand: torch.Tensor,
                    active: set[str]) -> dict[str, torch.Tensor]:
        """3D supervision: reads joints3d and the MANO labels (never in a weak stage)."""
        out: dict[str, torch.Tensor] = {}
        if "joints3d" in active:
            out["joints3d"] = L.joints3d_loss(pred.joints3d, batch.joints3d, batch.joints3d_valid, hand)
        has_mano = hand & batch.has_mano
        if active & {"mano_pose", "mano_betas"}:
            pose_pred = torch.cat([pred.global_orient, pred.hand_pose], -1)
            pose_loss, betas_loss = L.mano_param_loss(pose_pred, batch.mano_pose, pred.betas, batch.mano_betas, has_mano)
            if "mano_pose" in active:
                out["mano_pose"] = pose_loss
            if "mano_betas" in active:
                out["mano_betas"] = betas_loss
        if "vertices" in active:
            from smhr.model.decode import run_hand_models

            verts_gt, joints_gt = run_hand_models(self.model.hand_models, batch.side, has_mano,
                                                  batch.mano_pose[..., :3], batch.mano_pose[..., 3:], batch.mano_betas)
            out["vertices"] = L.vertex_loss(pred.vertices, verts_gt, pred.joints3d[..., 0, :], joints_gt[..., 0, :], has_mano)
        return out
