"""The two-stage baseline's objective: detector terms on the image, per-hand terms on crops.

The baseline (:class:`~smhr.model.two_stage.TwoStageNet`) is trained with the single-stage
network's loss functions and the stage's weights, so that the comparison measures the design:

* **detector** (full image): the centre focal loss on its 2-channel heatmap and the centre
  offset, as the single-stage network's, plus ``box_size`` (:func:`~smhr.train.losses.box_size_loss`,
  L1 of the log box size at the ground-truth centre): the box it will crop at test time;
* **regressor** (one crop per labelled hand): the crop is cut at the **ground-truth box**, made
  square with the inference margin (:func:`~smhr.model.crops.square_boxes`) and **jittered**
  (side x ``1 + JITTER_SCALE u``, centre + ``JITTER_SHIFT`` side ``(u, v)``, u, v uniform in
  [-1, 1)) so that the regressor learns to read hands in imperfect detector boxes. Every label is
  mapped into the crop with the crop maths of inference (:mod:`smhr.model.crops`: the affine
  ``A``, the crop's intrinsics ``A @ K``), giving a one-hand :class:`HandBatch` per crop
  (:func:`crop_batch`), on which the single-stage per-hand terms run unchanged
  (:meth:`Objective._hand_terms`: keypoint offsets, reprojection, bones, priors, shape,
  consistency, silhouette and photometric rendered with the crop's intrinsics at the crop's
  target stride, and the 3D terms of a ``full``-like variant). The keypoint heatmap target of a
  crop holds its own hand's keypoints only (a crop is one hand; its neighbours are not its job).

Jitter draws come from ``numpy.random.default_rng([seed, step, image index])``: a function of
the run's seed, the optimiser step and the image, and of nothing else, so a resumed run draws
what the uninterrupted one drew (torch's global generator would not do: a resumed run creates
its DataLoader iterator, which draws from it, at another point) and every DDP process draws
for its images what one process would.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import torch

from smhr.data.datasets.sample import SIDES
from smhr.data.training.dataset import HandBatch
from smhr.data.training.targets import TargetConfig, encode_targets
from smhr.errors import ConfigError
from smhr.model.crops import apply_affine, crop_images, crop_transform, square_boxes
from smhr.model.decode import gather_at
from smhr.model.outputs import HandPredictions
from smhr.model.two_stage import BOX_REF, CropMaps, DetectionMaps, TwoStageNet, scatter_slots
from smhr.train import losses as L
from smhr.train.objective import Objective

JITTER_SCALE = 0.15
"""Training crops' sides are the square ground-truth box's times ``1 + JITTER_SCALE u``, u in [-1, 1)."""
JITTER_SHIFT = 0.1
"""Training crops' centres move by up to ``JITTER_SHIFT`` times the square box's side along x and y."""

THREE_D_FIELDS = ("joints3d", "joints3d_valid", "mano_pose", "mano_betas", "mano_trans", "has_mano", "has_trans")
"""The :class:`HandBatch` fields a weak stage never reads."""


class Crops(NamedTuple):
    """The crops of one training step.

    Attributes:
        batch: the crop-space :class:`HandBatch` (N crops, one hand slot each).
        A: (N, 3, 3) image-to-crop pixel maps.
        K: (N, 3, 3) intrinsics of each crop's image (the crop's are ``A @ K``).
        image_index: (N,) int64 image of each crop; slot: (N,) its hand slot in the batch.
    """

    batch: HandBatch
    A: torch.Tensor
    K: torch.Tensor
    image_index: torch.Tensor
    slot: torch.Tensor


def jitter_draws(seed: int, step: int, index: torch.Tensor, slots: int) -> torch.Tensor:
    """Uniform draws in [-1, 1) for every hand slot, per image from ``default_rng([seed, step, index])``.

    Args:
        seed: the run's seed (>= 0); step: the optimiser step (>= 0).
        index: (B,) int64 dataset index of each image (``HandBatch.index``).
        slots: H.

    Returns:
        (B, H, 3) float32 on CPU: scale, x shift, y shift draws.
    """
    draws = [np.random.default_rng([seed, step, int(i)]).uniform(-1.0, 1.0, (slots, 3)) for i in index.tolist()]
    return torch.from_numpy(np.stack(draws).astype(np.float32)) if draws else torch.zeros(0, slots, 3)


def jitter_boxes(box: torch.Tensor, draws: torch.Tensor, scale: float = JITTER_SCALE,
                 shift: float = JITTER_SHIFT) -> torch.Tensor:
    """Square boxes scaled and shifted by given draws.

    Args:
        box: (N, 4) square boxes ``[x0, y0, x1, y1]`` px.
        draws: (N, 3) in [-1, 1): scale, x shift, y shift.
        scale: relative side change at a draw of 1; shift: centre shift in sides at a draw of 1.

    Returns:
        (N, 4) square boxes px; zero draws return ``box``.
    """
    center = (box[:, :2] + box[:, 2:]) / 2.0
    side = (box[:, 2:] - box[:, :2]).amax(-1, keepdim=True)
    half = side * (1.0 + scale * draws[:, :1]) / 2.0
    center = center + shift * side * draws[:, 1:]
    return torch.cat([center - half, center + half], -1)


def crop_batch(batch: HandBatch, K: torch.Tensor, image_index: torch.Tensor, slot: torch.Tensor,
               crop_box: torch.Tensor, crop_size: int, targets: TargetConfig, with_3d: bool) -> Crops:
    """The labelled hands ``(image_index, slot)`` of a batch as one-hand crops, labels in crop space.

    Args:
        batch: the image batch (B images, H slots).
        K: (B, 3, 3) intrinsics of each image (what the network decodes with).
        image_index: (N,) int64; slot: (N,) int64: the hands to crop.
        crop_box: (N, 4) square crop boxes px.
        crop_size: c, a multiple of ``targets.stride``.
        targets: the target encoding (stride, keypoint sigma) of the single-stage network.
        with_3d: copy the 3D labels (a stage with 3D terms); otherwise they are zeros, never read.

    Returns:
        :class:`Crops`; the batch has ``image`` (N, 3, c, c) cut as at inference, ``joints2d`` and
        ``bbox`` mapped by ``A``, ``K`` = ``A @ K`` (N, 1, 3, 3), ``masks`` each hand's own mask
        resampled at the crop's stride, ``keypoint_heatmap`` its own keypoints, one hand slot at
        the crop's central cell; 3D labels unchanged (camera frame: the crop's camera is the
        image's).
    """
    n, s = image_index.shape[0], targets.stride
    hc = crop_size // s
    A = crop_transform(crop_box, crop_size).to(batch.image.dtype)
    K_img = K[image_index].to(A.dtype)

    def pick(t: torch.Tensor) -> torch.Tensor:
        return t[image_index, slot][:, None]

    joints2d = apply_affine(A, batch.joints2d[image_index, slot])
    bbox = apply_affine(A, batch.bbox[image_index, slot].reshape(n, 2, 2)).reshape(n, 4)
    h = batch.hand_mask.shape[1]
    cell_box = (crop_box + 0.5) / s - 0.5  # the same box in the coordinates of the stride-s mask cells
    masks = crop_images(batch.masks.flatten(0, 1)[:, None], image_index * h + slot, cell_box, hc)
    heat = _keypoint_heatmaps(joints2d, pick(batch.visible)[:, 0], bbox, pick(batch.side)[:, 0], crop_size, targets)
    ones = torch.ones((n, 1), dtype=torch.bool, device=A.device)
    # a weak stage reads no 3D label, not even to copy it (tests/train/test_objective.py's guard)
    three_d = ({name: pick(getattr(batch, name)) for name in THREE_D_FIELDS} if with_3d else
               {name: torch.zeros((n, 1) + shape, dtype=dtype, device=A.device) for name, shape, dtype in (
                   ("joints3d", (21, 3), A.dtype), ("joints3d_valid", (21,), torch.bool), ("mano_pose", (48,), A.dtype),
                   ("mano_betas", (10,), A.dtype), ("mano_trans", (3,), A.dtype), ("has_mano", (), torch.bool),
                   ("has_trans", (), torch.bool))})
    crops = HandBatch(
        image=crop_images(batch.image, image_index, crop_box, crop_size), index=batch.index[image_index],
        hand_mask=ones, side=pick(batch.side), joints2d=joints2d[:, None], visible=pick(batch.visible),
        bbox=bbox[:, None], K=(A @ K_img)[:, None], has_mask=pick(batch.has_mask), masks=masks,
        center_heatmap=torch.zeros((n, 2, hc, hc), dtype=A.dtype, device=A.device), keypoint_heatmap=heat,
        center_index=torch.full((n, 1), (hc // 2) * hc + hc // 2, dtype=torch.int64, device=A.device),
        center_offset=torch.zeros((n, 1, 2), dtype=A.dtype, device=A.device), center_valid=ones, **three_d)
    return Crops(crops, A, K_img, image_index, slot)


def _keypoint_heatmaps(joints2d: torch.Tensor, visible: torch.Tensor, bbox: torch.Tensor, side: torch.Tensor,
                       crop_size: int, targets: TargetConfig) -> torch.Tensor:
    """(N, 21, c/s, c/s) keypoint targets of each crop's own hand (:func:`encode_targets`' encoding)."""
    j, v, b, sd = (t.detach().cpu().numpy() for t in (joints2d, visible, bbox, side))
    heat = [encode_targets(j[k:k + 1], v[k:k + 1], b[k:k + 1], [SIDES[sd[k]]], (crop_size, crop_size),
                           targets).keypoints for k in range(j.shape[0])]
    hc = crop_size // targets.stride
    out = np.stack(heat) if heat else np.zeros((0, j.shape[1], hc, hc), np.float32)
    return torch.from_numpy(out).to(joints2d.device)


@dataclass
class TwoStageObjective(Objective):
    """:class:`Objective` for :class:`TwoStageNet`: detector terms + per-hand terms on jittered crops.

    Args (beyond :class:`Objective`'s):
        seed: the run's seed (jitter draws, with the step and the image index).
        jitter_scale, jitter_shift: see :data:`JITTER_SCALE`, :data:`JITTER_SHIFT`.
        targets: the target encoding (its ``stride`` must be the model's).
    """

    model: TwoStageNet
    seed: int = 0
    jitter_scale: float = JITTER_SCALE
    jitter_shift: float = JITTER_SHIFT
    targets: TargetConfig = field(default_factory=TargetConfig)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.weights.center > 0 and self.weights.box_size == 0:
            raise ConfigError("train weights.box_size = 0 while the centre heatmap trains: the two-stage "
                              "detector's boxes (its crops) would never learn; give box_size a weight > 0")
        self.targets = dataclasses.replace(self.targets, stride=self.model.cfg.stride)

    def crops(self, batch: HandBatch, step: int | None) -> Crops:
        """One crop per labelled hand, jittered by ``(seed, step, image)`` draws (``step`` None: no jitter)."""
        image_index, slot = (batch.hand_mask & batch.center_valid).nonzero(as_tuple=True)
        box = square_boxes(batch.bbox[image_index, slot])
        if step is not None:
            draws = jitter_draws(self.seed, step, batch.index, batch.hand_mask.shape[1]).to(box.device)
            box = jitter_boxes(box, draws[image_index, slot], self.jitter_scale, self.jitter_shift)
        return crop_batch(batch, self.image_intrinsics(batch), image_index, slot, box, self.model.cfg.crop_size,
                          self.targets, with_3d=self.weights.reads_3d())

    def terms(self, net: torch.nn.Module, batch: HandBatch, step: int) -> dict[str, torch.Tensor]:
        """Crops at the jittered ground-truth boxes, one forward of both networks, the weighted terms."""
        crops = self.crops(batch, step)
        if crops.image_index.numel() == 0:  # no labelled hand: the detector's terms only
            return self(net(batch.image), None, batch, None)
        maps, crop_maps = net(batch.image, crops.batch.image)
        return self(maps, crop_maps, batch, crops)

    def hands_at_truth(self, model: TwoStageNet, maps: DetectionMaps, batch: HandBatch) -> HandPredictions:
        """The regressor on crops at the ground-truth boxes (no jitter), in image pixels, (B, H) slots."""
        hand = batch.hand_mask & batch.center_valid
        K = self.image_intrinsics(batch).to(batch.image.dtype)
        image_index, slot = hand.nonzero(as_tuple=True)
        if image_index.numel() == 0:
            return model.empty_predictions(hand, K)
        box = batch.bbox[image_index, slot]
        pred, _, _ = model.hands_in_boxes(batch.image, image_index, box, batch.side[image_index, slot], K,
                                          (box[:, :2] + box[:, 2:]) / 2.0, torch.ones_like(box[:, 0]), snap=False)
        return scatter_slots(pred, image_index, slot, hand, K)

    def __call__(self, maps: DetectionMaps, crop_maps: CropMaps | None, batch: HandBatch,  # type: ignore[override]
                 crops: Crops | None) -> dict[str, torch.Tensor]:
        """The weighted terms, plus ``"total"``.

        Args:
            maps: the detector's maps on ``batch.image``.
            crop_maps: the regressor's maps on ``crops.batch.image`` (None without hands).
            batch: the image batch.
            crops: :meth:`crops` of ``batch`` (None without hands).

        Returns:
            term name -> scalar tensor (already multiplied by its weight).
        """
        w = self.weights.active()
        hand = batch.hand_mask & batch.center_valid
        terms: dict[str, torch.Tensor] = {}
        if "center" in w:
            terms["center"] = L.focal_heatmap_loss(maps.center, batch.center_heatmap)
        if "center_offset" in w:
            terms["center_offset"] = L.offset_loss(gather_at(maps.center_offset, batch.center_index),
                                                   batch.center_offset, hand)
        if "box_size" in w:
            terms["box_size"] = L.box_size_loss(gather_at(maps.box_size, batch.center_index), batch.bbox,
                                                BOX_REF * self.model.cfg.ref_size(batch.image.shape[-1]), hand)
        if crops is not None and crop_maps is not None:
            if "keypoint_heatmap" in w:
                terms["keypoint_heatmap"] = L.focal_heatmap_loss(crop_maps.keypoint_heatmap,
                                                                 crops.batch.keypoint_heatmap)
            needs_hands = set(w) - {"center", "center_offset", "box_size", "keypoint_heatmap"}
            if needs_hands:
                n = crops.image_index.shape[0]
                center = (batch.bbox[crops.image_index, crops.slot, :2]
                          + batch.bbox[crops.image_index, crops.slot, 2:]) / 2.0
                pred = self.model.crop_hands(crop_maps, crops.A, crops.K, crops.batch.side[:, 0], center,
                                             crops.A.new_ones(n))
                terms.update(self._hand_terms(pred, crops.batch, set(w)))
        weighted = {name: value * w[name] for name, value in terms.items()}
        weighted["total"] = sum(weighted.values()) if weighted else maps.center.sum() * 0.0
        return weighted
