"""Heads: small conv towers on the shared stride-4 map, CenterNet style, and their channel layout.

Every head is ``head_layers`` x (3x3 conv + ReLU) then a 1x1 conv. Heatmap heads start with the
bias -2.19 (CenterNet's prior: sigmoid = 0.1 everywhere, so the focal loss starts small). The
regression heads start with tiny weights and a bias equal to their "rest" value, so that at
initialisation every cell predicts the mean hand: identity rotations (6D ``[1,0,0, 0,1,0]``
or axis-angle zero), zero betas, the wrist at the cell at depth ``depth_ref * f / R``
(:mod:`smhr.model.camera`), mean skin
albedo and ambient light (see :mod:`smhr.model.decode`).

Channel layout of ``params`` (``r`` = 6 for ``rot6d``, 3 for ``axis_angle``):
``[global orientation (r) | 15 finger rotations (15 r) | betas (10) | camera (3)]``, camera =
``(dx, dy, t_z)`` (:mod:`smhr.model.camera`). ``appearance``: ``[albedo (3) | SH (27)]``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from smhr.hand.joints import NUM_JOINTS

HEATMAP_BIAS = -2.19
"""Initial logit of the centre and keypoint heatmaps (CenterNet): sigmoid(-2.19) = 0.1."""

REGRESSION_INIT_STD = 1.0e-3
"""Weight std of the regression heads' output conv (outputs start at their bias)."""

NUM_FINGER_JOINTS = 15
NUM_BETAS = 10
NUM_CAMERA = 3
NUM_ALBEDO = 3
NUM_SH = 27
ROTATION_DIMS = {"rot6d": 6, "axis_angle": 3}
"""Per-joint channels of each rotation representation."""

IDENTITY = {"rot6d": (1.0, 0.0, 0.0, 0.0, 1.0, 0.0), "axis_angle": (0.0, 0.0, 0.0)}
"""The identity rotation in each representation (the rotation channels' initial bias)."""


class HeadMaps(NamedTuple):
    """The network's raw per-cell maps (what ONNX export exports). h = w = S / 4.

    Attributes:
        center: (B, 2, h, w) centre logits, channel 0 left, 1 right.
        center_offset: (B, 2, h, w) sub-cell offset (x, y) of the centre, in cells.
        params: (B, P, h, w) hand parameters, layout in :func:`params_layout`.
        keypoint_heatmap: (B, 21, h, w) keypoint logits.
        keypoint_offset: (B, 42, h, w) keypoint (x, y) offsets from the centre cell, in cells,
            joint-major (``[x0, y0, x1, y1, ...]``).
        appearance: (B, A, h, w) ``[albedo logits offset (3) | SH offset (27)]``.
    """

    center: torch.Tensor
    center_offset: torch.Tensor
    params: torch.Tensor
    keypoint_heatmap: torch.Tensor
    keypoint_offset: torch.Tensor
    appearance: torch.Tensor


def params_layout(rotation: str) -> dict[str, slice]:
    """Channel slices of the ``params`` map.

    Args:
        rotation: ``rot6d`` or ``axis_angle``.

    Returns:
        ``{"global_orient", "hand_pose", "betas", "camera"}`` -> slice.
    """
    r = ROTATION_DIMS[rotation]
    sizes = {"global_orient": r, "hand_pose": NUM_FINGER_JOINTS * r, "betas": NUM_BETAS, "camera": NUM_CAMERA}
    out, start = {}, 0
    for name, n in sizes.items():
        out[name] = slice(start, start + n)
        start += n
    return out


def num_params(rotation: str) -> int:
    """P, the channel count of the ``params`` map."""
    return params_layout(rotation)["camera"].stop


def params_rest(rotation: str) -> torch.Tensor:
    """(P,) the mean hand's parameters: identity rotations, zero betas, zero camera offsets."""
    ident = torch.tensor(IDENTITY[rotation])
    return torch.cat([ident.repeat(1 + NUM_FINGER_JOINTS), torch.zeros(NUM_BETAS + NUM_CAMERA)])


def conv_tower(cin: int, channels: int, layers: int, cout: int) -> nn.Sequential:
    """``layers`` x (3x3 conv ``channels`` + ReLU), then a 1x1 conv to ``cout`` channels."""
    mods: list[nn.Module] = []
    for _ in range(layers):
        mods += [nn.Conv2d(cin, channels, 3, padding=1), nn.ReLU(inplace=True)]
        cin = channels
    mods.append(nn.Conv2d(cin, cout, 1))
    return nn.Sequential(*mods)


HEATMAP_HEADS = ("center", "keypoint_heatmap")
"""Heads whose outputs are heatmap logits (initial bias :data:`HEATMAP_BIAS`)."""


def build_towers(sizes: dict[str, int], cin: int, channels: int, layers: int, rotation: str) -> nn.ModuleDict:
    """One :func:`conv_tower` per named output, initialised as the module docstring says.

    Args:
        sizes: head name -> output channels (``params`` gets the rest value of ``rotation``;
            the names in :data:`HEATMAP_HEADS` the heatmap bias; any other name a zero bias).
        cin, channels, layers: input channels, tower channels, 3x3 layers.
        rotation: ``rot6d`` or ``axis_angle``.
    """
    towers = nn.ModuleDict({name: conv_tower(cin, channels, layers, n) for name, n in sizes.items()})
    for name, tower in towers.items():
        out = tower[-1]
        if name in HEATMAP_HEADS:
            nn.init.constant_(out.bias, HEATMAP_BIAS)
        else:
            nn.init.normal_(out.weight, std=REGRESSION_INIT_STD)
            with torch.no_grad():
                out.bias.copy_(params_rest(rotation) if name == "params" else torch.zeros_like(out.bias))
    return towers


class Heads(nn.Module):
    """All heads on the shared map."""

    def __init__(self, cin: int, channels: int, layers: int, rotation: str) -> None:
        """
        Args:
            cin: channels of the shared stride-4 map.
            channels: channels of each head's conv tower.
            layers: 3x3 conv layers per tower.
            rotation: ``rot6d`` or ``axis_angle`` (the ``params`` layout).
        """
        super().__init__()
        self.rotation = rotation
        sizes = {"center": 2, "center_offset": 2, "params": num_params(rotation),
                 "keypoint_heatmap": NUM_JOINTS, "keypoint_offset": 2 * NUM_JOINTS,
                 "appearance": NUM_ALBEDO + NUM_SH}
        self.towers = build_towers(sizes, cin, channels, layers, rotation)

    def forward(self, x: torch.Tensor) -> HeadMaps:
        """(B, cin, h, w) -> :class:`HeadMaps`."""
        return HeadMaps(**{name: tower(x) for name, tower in self.towers.items()})
