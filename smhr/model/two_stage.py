"""The two-stage baseline: a hand detector, then a regressor on each detected hand's crop.

The pipeline SMHR argues against, built fairly from the same parts, so that the efficiency and
accuracy comparisons measure the design and nothing else:

* **detector**: the same backbone family and neck as :class:`~smhr.model.network.SMHRNet`, with
  three heads on the stride-4 map: the 2-channel (left, right) centre heatmap, the sub-cell centre
  offset, and the hand box size ``(w, h) = exp(v) * BOX_REF * R`` px (R = ``model.camera_ref_size``) (:class:`DetectionMaps`);
* **crops**: top-K centres over the score threshold (:func:`smhr.model.decode.top_centers`, as the
  single-stage decoder), each box made square with :data:`~smhr.model.crops.CROP_MARGIN` and
  resized to ``crop_size`` (:mod:`smhr.model.crops`), all hands of the batch in one batch;
* **regressor**: the same backbone family and neck on the crops, with the single-stage network's
  per-hand heads (``params``, ``keypoint_heatmap``, ``keypoint_offset``, ``appearance``), read at
  the crop's central cell and decoded by :func:`smhr.model.decode.decode_hands` with the **crop's
  intrinsics** ``A @ K``: the root comes out in the original camera frame. Joints and the box are
  projected with the image's K; local keypoints are snapped in the crop and mapped back.

:meth:`TwoStageNet.predict` returns the same :class:`~smhr.model.outputs.HandPredictions` as the
single-stage network (score threshold, top-K, 0..K hands), so evaluation treats both alike.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from smhr.geometry.camera import project
from smhr.hand.joints import NUM_JOINTS
from smhr.hand.layer import HandModel
from smhr.model import decode as dec
from smhr.model.backbone import ResNet
from smhr.model.camera import default_intrinsics
from smhr.model.config import ModelConfig
from smhr.model.crops import apply_affine, crop_images, crop_transform, square_boxes
from smhr.model.heads import NUM_ALBEDO, NUM_BETAS, NUM_FINGER_JOINTS, NUM_SH, build_towers, num_params
from smhr.model.neck import Neck
from smhr.model.outputs import HandPredictions

BOX_REF = 0.25
"""A zero box-size output is a box of ``BOX_REF * R`` px per side (R: :meth:`ModelConfig.ref_size`, a fixed
pixel size, so the output means the same box at every input size)."""


class DetectionMaps(NamedTuple):
    """The detector's maps (h = w = S / 4) and its input, which decoding cuts the crops from.

    Attributes:
        center: (B, 2, h, w) centre logits, channel 0 left, 1 right.
        center_offset: (B, 2, h, w) sub-cell (x, y) offset of the centre, cells.
        box_size: (B, 2, h, w) log box size: ``(w, h) = exp(box_size) * BOX_REF * R`` px.
        image: (B, 3, S, S) the normalised input image.
    """

    center: torch.Tensor
    center_offset: torch.Tensor
    box_size: torch.Tensor
    image: torch.Tensor


class CropMaps(NamedTuple):
    """The regressor's maps on N crops (hc = wc = crop_size / 4); channel layouts as :class:`HeadMaps`.

    Attributes:
        params: (N, P, hc, wc); keypoint_heatmap: (N, 21, hc, wc); keypoint_offset: (N, 42, hc, wc)
        in crop cells; appearance: (N, 30, hc, wc).
    """

    params: torch.Tensor
    keypoint_heatmap: torch.Tensor
    keypoint_offset: torch.Tensor
    appearance: torch.Tensor


class Trunk(nn.Module):
    """Backbone + neck + named conv towers; ``forward`` returns ``{name: (B, C, h, w)}``."""

    def __init__(self, backbone: ResNet, neck: Neck, towers: nn.ModuleDict) -> None:
        super().__init__()
        self.backbone, self.neck, self.towers = backbone, neck, towers

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.neck(self.backbone(image))
        return {name: tower(x) for name, tower in self.towers.items()}


def detector_towers(cin: int, cfg: ModelConfig) -> nn.ModuleDict:
    """The detector's heads: centre (2), centre offset (2), box size (2)."""
    return build_towers({"center": 2, "center_offset": 2, "box_size": 2}, cin, cfg.head_channels,
                        cfg.head_layers, cfg.rotation)


def regressor_towers(cin: int, cfg: ModelConfig) -> nn.ModuleDict:
    """The regressor's heads: the single-stage per-hand heads (no centre heads: a crop is one hand)."""
    sizes = {"params": num_params(cfg.rotation), "keypoint_heatmap": NUM_JOINTS, "keypoint_offset": 2 * NUM_JOINTS,
             "appearance": NUM_ALBEDO + NUM_SH}
    return build_towers(sizes, cin, cfg.head_channels, cfg.head_layers, cfg.rotation)


def scatter_slots(flat: HandPredictions, image_index: torch.Tensor, slot: torch.Tensor, mask: torch.Tensor,
                  K: torch.Tensor) -> HandPredictions:
    """N one-hand predictions (``(N, 1)`` layout) placed into padded ``(B, H)`` slots.

    Args:
        flat: predictions of N crops, B = N and H = 1.
        image_index: (N,) image of each; slot: (N,) its slot.
        mask: (B, H) bool, True exactly at the (image_index, slot) pairs.
        K: (B, 3, 3) the images' intrinsics (the returned ``K``).

    Returns:
        :class:`HandPredictions` (B, H); empty slots are zeros.
    """
    b, h = mask.shape
    flat_slot = image_index * h + slot
    fields = {}
    for name in ("score", "side", "center", "box", "global_orient", "hand_pose", "betas", "transl",
                 "vertices", "joints3d", "joints2d", "keypoints2d", "albedo", "sh"):
        t = getattr(flat, name)[:, 0]
        out = t.new_zeros((b * h,) + t.shape[1:])
        fields[name] = out.index_copy(0, flat_slot, t).reshape((b, h) + t.shape[1:])
    return HandPredictions(mask=mask, K=K, **fields)


class TwoStageNet(nn.Module):
    """Detector + per-crop regressor, decoding to :class:`HandPredictions` like :class:`SMHRNet`.

    Attributes:
        cfg: the :class:`ModelConfig` (``architecture == "two_stage"``).
        detector, regressor: two :class:`Trunk` s (own backbones, necks and heads).
        hand_models: ``ModuleList([left, right])`` as in :class:`SMHRNet`.
    """

    def __init__(self, cfg: ModelConfig, detector: Trunk, regressor: Trunk, left: HandModel,
                 right: HandModel) -> None:
        super().__init__()
        self.cfg = cfg
        self.detector = detector
        self.regressor = regressor
        self.hand_models = nn.ModuleList([left, right])

    def forward(self, image: torch.Tensor,
                crops: torch.Tensor | None = None) -> DetectionMaps | tuple[DetectionMaps, CropMaps]:
        """The detector's maps (stage one; :meth:`decode` runs stage two).

        Args:
            image: (B, 3, S, S) ImageNet-normalised RGB.
            crops: (N, 3, c, c) crops to regress in the same call (training, where the crops are
                cut at the ground-truth boxes: one ``forward`` is what DistributedDataParallel
                synchronises), or None.

        Returns:
            :class:`DetectionMaps`; with ``crops``, ``(DetectionMaps, CropMaps)``.
        """
        detections = DetectionMaps(image=image, **self.detector(image))
        return detections if crops is None else (detections, self.regress(crops))

    def regress(self, crops: torch.Tensor) -> CropMaps:
        """(N, 3, c, c) crops -> :class:`CropMaps`."""
        return CropMaps(**self.regressor(crops))

    def crop_hands(self, maps: CropMaps, A: torch.Tensor, K: torch.Tensor, side: torch.Tensor,
                   center: torch.Tensor, score: torch.Tensor) -> HandPredictions:
        """The regressor's maps of N crops -> N hands in the crops' pixels (training reads these).

        Args:
            maps: :class:`CropMaps` of the N crops (hc = wc = c / 4).
            A: (N, 3, 3) image-to-crop pixel maps (:func:`~smhr.model.crops.crop_transform`).
            K: (N, 3, 3) intrinsics of each hand's image.
            side: (N,) int64; center: (N, 2) px (reported as is); score: (N,).

        Returns:
            :class:`HandPredictions` in the (N, 1) layout, read at each crop's central cell and
            decoded with the crop's intrinsics ``A @ K``: 3D in the image's camera frame, 2D
            (``joints2d``, ``keypoints2d``, ``box``) in crop pixels, ``K`` = ``A @ K``; local keypoints
            not snapped.
        """
        hc = maps.params.shape[-1]
        index = torch.full((A.shape[0], 1), (hc // 2) * hc + hc // 2, dtype=torch.int64, device=A.device)
        cell = dec.index_to_cell(index, hc).to(A.dtype)
        return dec.decode_hands(cell, center[:, None], dec.gather_at(maps.params, index),
                                dec.gather_at(maps.keypoint_offset, index), dec.gather_at(maps.appearance, index),
                                side[:, None], score[:, None], A @ K, self.hand_models, self.cfg,
                                hc * self.cfg.stride)

    def hands_in_boxes(self, image: torch.Tensor, image_index: torch.Tensor, box: torch.Tensor, side: torch.Tensor,
                       K: torch.Tensor, center: torch.Tensor, score: torch.Tensor,
                       snap: bool) -> tuple[HandPredictions, CropMaps, torch.Tensor]:
        """Stage two for N hands: crop, regress, decode through the crop's camera, back to the image.

        Args:
            image: (B, 3, S, S) normalised images.
            image_index: (N,) int64 image of each hand.
            box: (N, 4) px hand boxes (made square with the margin here).
            side: (N,) int64; K: (B, 3, 3) image intrinsics; center: (N, 2) px; score: (N,).
            snap: snap the local keypoints to the crop's keypoint-heatmap peaks (inference).

        Returns:
            ``(pred, crop_maps, A)``: ``pred`` in the (N, 1) layout, every field in the image's
            pixels and camera frame (``K`` = the crops' intrinsics, (N, 3, 3)); the regressor's
            maps; the (N, 3, 3) image-to-crop maps.
        """
        c = self.cfg.crop_size
        crop_box = square_boxes(box.detach())
        A = crop_transform(crop_box, c).to(image.dtype)
        maps = self.regress(crop_images(image, image_index, crop_box, c))
        K_img = K.to(image.dtype)[image_index]
        pred = self.crop_hands(maps, A, K_img, side, center, score)
        keypoints = pred.keypoints2d
        if snap:
            keypoints = dec.snap_keypoints(keypoints, pred.box, maps.keypoint_heatmap, self.cfg.stride,
                                           self.cfg.keypoint_threshold, self.cfg.keypoint_snap, self.cfg.nms_kernel)
        A_inv = torch.linalg.inv(A)
        verts2d = project(pred.vertices, K_img[:, None])
        pred.box = dec.detection_box(verts2d, pred.center)
        pred.joints2d = project(pred.joints3d, K_img[:, None])
        pred.keypoints2d = apply_affine(A_inv, keypoints)
        return pred, maps, A

    def decode(self, maps: DetectionMaps, K: torch.Tensor | None = None, score_threshold: float | None = None,
               top_k: int | None = None) -> HandPredictions:
        """Every hand of each image: detections over the threshold, then one crop each.

        Args:
            maps: output of :meth:`forward`.
            K: (B, 3, 3) intrinsics of the input; default :func:`default_intrinsics`.
            score_threshold: default ``cfg.score_threshold``; top_k: default ``cfg.max_hands``.

        Returns:
            :class:`HandPredictions` (B, K slots), padded slots zeros; no crop is cut for them.
        """
        cfg = self.cfg
        b, _, _, w = maps.center.shape
        size = w * cfg.stride
        thr = cfg.score_threshold if score_threshold is None else score_threshold
        centers = dec.top_centers(maps.center, cfg.max_hands if top_k is None else top_k, thr, cfg.nms_kernel)
        if K is None:
            K = default_intrinsics(size, b, maps.image.dtype, maps.image.device)
        cell = dec.index_to_cell(centers.index, w).to(maps.image.dtype)
        center = dec.cell_to_pixel(cell + dec.gather_at(maps.center_offset, centers.index), cfg.stride)
        wh = torch.exp(dec.gather_at(maps.box_size, centers.index)) * (BOX_REF * cfg.ref_size(size))
        box = torch.cat([center - wh / 2, center + wh / 2], -1)
        image_index, slot = centers.mask.nonzero(as_tuple=True)
        if image_index.numel() == 0:
            return self.empty_predictions(centers.mask, K.to(maps.image.dtype))
        pred, _, _ = self.hands_in_boxes(maps.image, image_index, box[image_index, slot],
                                         centers.side[image_index, slot], K, center[image_index, slot],
                                         centers.score[image_index, slot], snap=True)
        return scatter_slots(pred, image_index, slot, centers.mask, K.to(maps.image.dtype))

    def empty_predictions(self, mask: torch.Tensor, K: torch.Tensor) -> HandPredictions:
        """All-zero :class:`HandPredictions` with ``mask`` (B, K) (no hand to regress); ``K`` (B, 3, 3)."""
        b, k = mask.shape
        v = self.hand_models[0].num_verts
        z = lambda *shape: K.new_zeros((b, k) + shape)  # noqa: E731
        return HandPredictions(mask=mask, score=z(), side=mask.new_zeros((b, k), dtype=torch.int64), center=z(2),
                               box=z(4), global_orient=z(3), hand_pose=z(3 * NUM_FINGER_JOINTS), betas=z(NUM_BETAS),
                               transl=z(3),
                               vertices=z(v, 3), joints3d=z(NUM_JOINTS, 3), joints2d=z(NUM_JOINTS, 2),
                               keypoints2d=z(NUM_JOINTS, 2), K=K, albedo=z(v, 3), sh=z(9, 3))

    def predict(self, image: torch.Tensor, K: torch.Tensor | None = None) -> HandPredictions:
        """:meth:`forward` then :meth:`decode` (``no_grad`` and ``eval()`` are the caller's business)."""
        return self.decode(self(image), K)
