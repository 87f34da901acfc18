"""``SMHRNet``: one image in, one pass, one shared stride-4 map, every hand read off it.

backbone (C2..C5) -> neck (stride 4) -> heads (:class:`~smhr.model.heads.HeadMaps`) ->
decoding (:mod:`smhr.model.decode`) through the left or right hand model.
"""

from __future__ import annotations

import torch
from torch import nn

from smhr.hand.layer import HandModel
from smhr.model import decode as dec
from smhr.model.backbone import ResNet
from smhr.model.config import ModelConfig
from smhr.model.heads import HeadMaps, Heads
from smhr.model.neck import Neck
from smhr.model.outputs import HandPredictions


class SMHRNet(nn.Module):
    """The single-stage multi-hand network.

    Attributes:
        cfg: the :class:`ModelConfig` it was built from.
        backbone, neck, heads: the three stages of :meth:`forward`.
        hand_models: ``ModuleList([left, right])`` (:data:`~smhr.data.datasets.sample.SIDES` order); their
            arrays are buffers, so they are in ``state_dict`` and move with ``.to()``.
    """

    def __init__(self, cfg: ModelConfig, backbone: ResNet, neck: Neck, heads: Heads,
                 left: HandModel, right: HandModel) -> None:
        super().__init__()
        self.cfg = cfg
        self.backbone = backbone
        self.neck = neck
        self.heads = heads
        self.hand_models = nn.ModuleList([left, right])

    def forward(self, image: torch.Tensor) -> HeadMaps:
        """Raw per-cell maps (what ONNX export exports).

        Args:
            image: (B, 3, S, S) ImageNet-normalised RGB, S a multiple of 32.

        Returns:
            :class:`HeadMaps` at (S / 4, S / 4).
        """
        return self.heads(self.neck(self.backbone(image)))

    def decode(self, maps: HeadMaps, K: torch.Tensor | None = None, score_threshold: float | None = None,
               top_k: int | None = None) -> HandPredictions:
        """Every hand of each image (:func:`smhr.model.decode.decode`).

        Args:
            maps: output of :meth:`forward`.
            K: (B, 3, 3) intrinsics of the network input; default
                :func:`smhr.model.camera.default_intrinsics`.
            score_threshold: default ``cfg.score_threshold``.
            top_k: default ``cfg.max_hands``.
        """
        return dec.decode(maps, self.hand_models, self.cfg, K, score_threshold, top_k)

    def predict(self, image: torch.Tensor, K: torch.Tensor | None = None) -> HandPredictions:
        """:meth:`forward` then :meth:`decode` (``no_grad`` and ``eval()`` are the caller's business).

        Args:
            image: (B, 3, S, S) normalised.
            K: (B, 3, 3) or None.
        """
        return self.decode(self(image), K)

    def hands_at(self, maps: HeadMaps, index: torch.Tensor, side: torch.Tensor, K: torch.Tensor,
                 mask: torch.Tensor | None = None) -> HandPredictions:
        """The hands at given cells (:func:`smhr.model.decode.hands_at`), e.g. ground-truth centres.

        Args:
            maps: output of :meth:`forward`.
            index: (B, H) flat centre-cell indices (``HandBatch.center_index``).
            side: (B, H) 0 left, 1 right.
            K: (B, 3, 3).
            mask: (B, H) bool real slots (``HandBatch.hand_mask``), or None for all.
        """
        return dec.hands_at(maps, index, side, K, self.hand_models, self.cfg, mask=mask)
