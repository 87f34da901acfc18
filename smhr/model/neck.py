"""Neck: the last three backbone stages fused into one stride-4 map, as SMHR's official code does.

Each of C3, C4, C5 (strides 8, 16, 32) is upsampled to stride 4 by one transposed convolution
(stride ``f`` = 2, 4, 8, kernel ``max(4, f)``: an exact ``f``-fold size; the CSP detector's
choice, on which the official code builds), batch-normalised and rectified, then
L2-normalised per pixel across channels with a learnable per-channel scale (ParseNet / SSD's
``L2Norm``: branches of very different magnitudes become comparable before concatenation).
The three branches are concatenated and a 3x3 convolution fuses them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

L2NORM_INIT_SCALE = 10.0
"""Initial per-channel scale of :class:`L2Norm` (ParseNet's and SSD's choice)."""


class L2Norm(nn.Module):
    """Per-pixel L2 normalisation across channels times a learnable per-channel scale."""

    def __init__(self, channels: int, init_scale: float = L2NORM_INIT_SCALE, eps: float = 1e-10) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.full((channels,), float(init_scale)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) -> (B, C, h, w) with unit norm over C at each pixel, times ``weight``."""
        norm = x.pow(2).sum(1, keepdim=True).sqrt() + self.eps
        return x / norm * self.weight[None, :, None, None]


class Neck(nn.Module):
    """C3..C5 -> one stride-4 map of ``channels`` channels.

    Attributes:
        channels: output channels.
    """

    def __init__(self, in_channels: Sequence[int], channels: int,
                 norm: Callable[[int], nn.Module] = nn.BatchNorm2d) -> None:
        """
        Args:
            in_channels: channels of C2..C5 (only the last three are used).
            channels: channels of each upsampled branch and of the fused output.
            norm: normalisation constructor of the upsampling and fusion layers.
        """
        super().__init__()
        self.channels = channels
        self.branches = nn.ModuleList()
        for cin, factor in zip(list(in_channels)[1:], (2, 4, 8)):
            self.branches.append(nn.Sequential(
                nn.ConvTranspose2d(cin, channels, max(4, factor), stride=factor,
                                   padding=(max(4, factor) - factor) // 2, bias=False),
                norm(channels),
                nn.ReLU(inplace=True),
                L2Norm(channels),
            ))
        self.fuse = nn.Sequential(
            nn.Conv2d(3 * channels, channels, 3, padding=1, bias=False),
            norm(channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        """Fuses stage features.

        Args:
            features: [C2, C3, C4, C5] at strides 4, 8, 16, 32.

        Returns:
            (B, channels, h, w) at C2's size (stride 4).
        """
        ups = [branch(f) for branch, f in zip(self.branches, features[1:])]
        return self.fuse(torch.cat(ups, 1))
