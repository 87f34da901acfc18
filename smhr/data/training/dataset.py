"""The torch Dataset over Samples and the collate that pads hands: what the trainer iterates.

:class:`HandDataset` turns each :class:`~smhr.data.datasets.sample.Sample` into fixed-size tensors: the
image letterboxed (or, when training, randomly augmented: :mod:`smhr.data.training.augment`) into an
``S x S`` square and normalised, every per-hand array padded to ``Hmax = cfg.max_hands`` slots
with a ``hand_mask``, and the training targets of :mod:`smhr.data.training.targets`. Sample ``i`` in epoch
``e`` is augmented with ``default_rng([seed, e, i])``, so loading is deterministic whatever the
number of workers (call :meth:`HandDataset.set_epoch` before each epoch's DataLoader iterator).
:func:`collate_hands` stacks items, padding hands to the largest ``Hmax`` in the batch.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from smhr.data.training.augment import AugmentConfig, color_jitter, letterbox_matrix, random_matrix
from smhr.data.datasets.sample import SIDES, Hand, Sample
from smhr.data.training.targets import TargetConfig, encode_targets
from smhr.data.transforms.similarity import transform_sample
from smhr.hand.joints import NUM_JOINTS

log = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class DatasetConfig:
    """How samples become network inputs.

    Attributes:
        image_size: side S of the square input (a multiple of ``targets.stride``).
        max_hands: Hmax, hand slots per image; extra hands are dropped (in paste order).
        seed: base seed of the augmentation.
        augment: augmentation ranges (training only).
        targets: target encoding.
        mean: per-channel RGB mean subtracted after scaling to [0, 1].
        std: per-channel RGB standard deviation divided by.
    """

    image_size: int = 256
    max_hands: int = 4
    seed: int = 0
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    targets: TargetConfig = field(default_factory=TargetConfig)
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD


@dataclass
class HandBatch:
    """Tensors of one item (no leading B) or of a batch (leading B, after :func:`collate_hands`).

    Shapes below are for a batch; H = Hmax hand slots, h = w = S / stride. Padded slots are zero
    (and False) with ``hand_mask`` False.

    Attributes:
        image: (B, 3, S, S) float32, normalised RGB.
        index: (B,) int64 index of the sample in its dataset.
        hand_mask: (B, H) bool, True for real hands.
        side: (B, H) int64, 0 left, 1 right (``SIDES`` order).
        joints2d: (B, H, J, 2) float32 px in the input image.
        visible: (B, H, J) bool.
        bbox: (B, H, 4) float32 px ``[x0, y0, x1, y1]``.
        K: (B, H, 3, 3) float32 per-hand intrinsics for the input image.
        joints3d: (B, H, J, 3) float32 metres, camera frame (zeros where absent).
        joints3d_valid: (B, H, J) bool, False where absent or invalid.
        mano_pose: (B, H, 48) float32 axis-angle for the model of ``side``.
        mano_betas: (B, H, 10) float32.
        mano_trans: (B, H, 3) float32 metres (zeros where absent).
        has_mano: (B, H) bool, pose and betas given.
        has_trans: (B, H) bool, ``mano_trans`` given (FreiHAND has none).
        has_mask: (B, H) bool, the hand has a mask.
        masks: (B, H, h, w) float32 mask coverage at the stride.
        center_heatmap: (B, 2, h, w) float32 centre heatmaps (left, right).
        keypoint_heatmap: (B, J, h, w) float32.
        center_index: (B, H) int64 flat index of each hand's centre cell.
        center_offset: (B, H, 2) float32 sub-cell offset of the centre.
        center_valid: (B, H) bool, the centre is inside the grid (and the slot is a real hand).
    """

    image: torch.Tensor
    index: torch.Tensor
    hand_mask: torch.Tensor
    side: torch.Tensor
    joints2d: torch.Tensor
    visible: torch.Tensor
    bbox: torch.Tensor
    K: torch.Tensor
    joints3d: torch.Tensor
    joints3d_valid: torch.Tensor
    mano_pose: torch.Tensor
    mano_betas: torch.Tensor
    mano_trans: torch.Tensor
    has_mano: torch.Tensor
    has_trans: torch.Tensor
    has_mask: torch.Tensor
    masks: torch.Tensor
    center_heatmap: torch.Tensor
    keypoint_heatmap: torch.Tensor
    center_index: torch.Tensor
    center_offset: torch.Tensor
    center_valid: torch.Tensor

    def to(self, device: torch.device | str, non_blocking: bool = False) -> HandBatch:
        """A copy with every tensor on ``device``."""
        return HandBatch(**{f.name: getattr(self, f.name).to(device, non_blocking=non_blocking) for f in dataclasses.fields(self)})


PER_HAND_FIELDS: tuple[str, ...] = (
    "hand_mask", "side", "joints2d", "visible", "bbox", "K", "joints3d", "joints3d_valid", "mano_pose",
    "mano_betas", "mano_trans", "has_mano", "has_trans", "has_mask", "masks", "center_index",
    "center_offset", "center_valid",
)
"""Fields whose first (item) dimension is the hand slot, padded by :func:`collate_hands`."""


def _hand_arrays(hands: list[Hand], hmax: int, size: int) -> dict[str, np.ndarray]:
    """Per-hand numpy arrays padded to ``hmax`` slots (zeros / False in the padding)."""
    out = {
        "hand_mask": np.zeros(hmax, bool), "side": np.zeros(hmax, np.int64),
        "joints2d": np.zeros((hmax, NUM_JOINTS, 2), np.float32), "visible": np.zeros((hmax, NUM_JOINTS), bool),
        "bbox": np.zeros((hmax, 4), np.float32), "K": np.zeros((hmax, 3, 3), np.float32),
        "joints3d": np.zeros((hmax, NUM_JOINTS, 3), np.float32), "joints3d_valid": np.zeros((hmax, NUM_JOINTS), bool),
        "mano_pose": np.zeros((hmax, 48), np.float32), "mano_betas": np.zeros((hmax, 10), np.float32),
        "mano_trans": np.zeros((hmax, 3), np.float32), "has_mano": np.zeros(hmax, bool),
        "has_trans": np.zeros(hmax, bool), "has_mask": np.zeros(hmax, bool),
        "full_masks": np.zeros((hmax, size, size), bool),
    }
    for k, hand in enumerate(hands):
        out["hand_mask"][k] = True
        out["side"][k] = SIDES.index(hand.side)
        out["joints2d"][k], out["visible"][k] = hand.joints2d, hand.visible
        out["bbox"][k], out["K"][k] = hand.bbox, hand.K
        if hand.joints3d is not None:
            out["joints3d"][k] = hand.joints3d
            out["joints3d_valid"][k] = True if hand.joints3d_valid is None else hand.joints3d_valid
        if hand.mano is not None:
            out["mano_pose"][k], out["mano_betas"][k], out["has_mano"][k] = hand.mano.pose, hand.mano.betas, True
            if np.all(np.isfinite(hand.mano.trans)):
                out["mano_trans"][k], out["has_trans"][k] = hand.mano.trans, True
        if hand.mask is not None:
            out["full_masks"][k], out["has_mask"][k] = hand.mask, True
    return out


class HandDataset(torch.utils.data.Dataset):
    """Samples -> :class:`HandBatch` items (no batch dimension).

    Args:
        samples: any sequence of Samples (an adapter, :class:`~smhr.data.datasets.composed.ComposedDataset`, a list).
        cfg: input size, hand slots, augmentation and targets.
        train: augment randomly (and drop hands pushed fully out of the image); otherwise letterbox only.
    """

    def __init__(self, samples: Sequence[Sample], cfg: DatasetConfig, train: bool) -> None:
        if cfg.image_size % cfg.targets.stride:
            raise ValueError(f"image_size {cfg.image_size} is not a multiple of the target stride {cfg.targets.stride}")
        self.samples, self.cfg, self.train = samples, cfg, train
        self.epoch = 0
        self._mean = np.asarray(cfg.mean, np.float32) * np.float32(255.0)
        self._std = np.asarray(cfg.std, np.float32) * np.float32(255.0)

    def set_epoch(self, epoch: int) -> None:
        """Selects the augmentation draws of ``epoch``."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> HandBatch:
        cfg, size = self.cfg, self.cfg.image_size
        sample = self.samples[index]
        rng = np.random.default_rng([cfg.seed, self.epoch, index])
        hw = sample.image.shape[:2]
        A = random_matrix(rng, cfg.augment, hw, size) if self.train else letterbox_matrix(hw, size)
        out = transform_sample(sample, A, (size, size))
        image = color_jitter(out.image, rng, cfg.augment) if self.train else out.image
        image = (image.astype(np.float32) - self._mean) / self._std
        hands = out.hands
        if self.train:
            hands = [h for h in hands if h.visible.any() or (h.mask is not None and h.mask.any())]
        if len(hands) > cfg.max_hands:
            log.debug("%s: %d hands, keeping the first %d", sample.source, len(hands), cfg.max_hands)
            hands = hands[: cfg.max_hands]
        arrays = _hand_arrays(hands, cfg.max_hands, size)
        n = len(hands)
        targets = encode_targets(
            arrays["joints2d"][:n], arrays["visible"][:n], arrays["bbox"][:n], [h.side for h in hands],
            (size, size), cfg.targets, arrays["full_masks"][:n],
        )
        del arrays["full_masks"]
        pad = cfg.max_hands - n
        fields = {name: torch.from_numpy(value) for name, value in arrays.items()}
        fields["masks"] = torch.from_numpy(np.pad(targets.masks, ((0, pad), (0, 0), (0, 0))))
        fields["center_index"] = torch.from_numpy(np.pad(targets.index, (0, pad)))
        fields["center_offset"] = torch.from_numpy(np.pad(targets.offset, ((0, pad), (0, 0))))
        fields["center_valid"] = torch.from_numpy(np.pad(targets.center_valid, (0, pad)))
        return HandBatch(
            image=torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))),
            index=torch.tensor(index, dtype=torch.int64),
            center_heatmap=torch.from_numpy(targets.centers),
            keypoint_heatmap=torch.from_numpy(targets.keypoints),
            **fields,
        )


def collate_hands(items: Sequence[HandBatch]) -> HandBatch:
    """Stacks items into a batch, zero-padding per-hand fields to the largest hand count.

    Args:
        items: B items from :class:`HandDataset` (their ``Hmax`` may differ).

    Returns:
        A :class:`HandBatch` with leading dimension B and per-hand fields ``(B, Hmax, ...)``.
    """
    hmax = max(int(item.hand_mask.shape[0]) for item in items)
    out = {}
    for f in dataclasses.fields(HandBatch):
        values = [getattr(item, f.name) for item in items]
        if f.name in PER_HAND_FIELDS:
            values = [
                torch.cat([v, v.new_zeros((hmax - v.shape[0],) + tuple(v.shape[1:]))]) if v.shape[0] < hmax else v
                for v in values
            ]
        out[f.name] = torch.stack(values)
    return HandBatch(**out)
