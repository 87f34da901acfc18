"""``params.yaml:model``: the network's architecture and decoding settings.

Read with ``smhr.config.load_section(ModelConfig, "model")``. Every default here equals the value
in ``params.yaml`` (the CPU profile); the paper profile is documented there and in docs/model.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from smhr.errors import ConfigError

OUTPUT_STRIDE = 4
"""Stride of the shared feature map all heads read (the neck fuses C3..C5 up to C2's stride)."""


@dataclass(frozen=True)
class ModelConfig:
    """The network: SMHR's single-stage design, or the two-stage baseline built from the same parts.

    Attributes:
        architecture: ``single_stage`` (:class:`~smhr.model.network.SMHRNet`) or ``two_stage``
            (:class:`~smhr.model.two_stage.TwoStageNet`: detector, then a regressor on crops).
        backbone: ``resnet18``, ``resnet34`` or ``resnet50`` (torchvision's layout).
        width: channel multiplier of the backbone; 1.0 = torchvision's shapes (needed for
            pretrained weights).
        pretrained: a local torchvision checkpoint file of the backbone, or None (never downloaded).
        norm: ``batch``, ``frozen_batch`` (statistics and affine frozen) or ``group``.
        neck_channels: channels of each upsampled branch and of the fused stride-4 map.
        head_channels: channels of each head's 3x3 conv tower.
        head_layers: 3x3 conv + ReLU layers per head before its 1x1 output conv.
        rotation: ``rot6d`` (6D per joint inside, axis-angle out) or ``axis_angle``.
        input_size: S, the square network input in pixels (a multiple of 32).
        max_hands: top-K of the decoder (hand slots per image).
        score_threshold: a decoded centre below this score is not a hand.
        nms_kernel: max-pool window of the heatmap NMS (odd).
        keypoint_threshold: a keypoint-heatmap peak below this score is not used for snapping.
        keypoint_snap: snapping radius as a fraction of the hand's longer box side.
        root_offset_scale: the wrist's pixel offset from the centre cell is the head's value
            times ``root_offset_scale * camera_ref_size``.
        depth_ref: metres; the root depth is ``z = exp(t_z) * depth_ref * f / camera_ref_size``.
        camera_ref_size: R, pixels: the camera term's scale (:mod:`smhr.model.camera`). A fixed
            pixel size, not the input size, so a head output means the same hand size in pixels
            at every input size (convolutional features see pixels, not fractions of the input).
            None: the input size, as checkpoints written before this setting decode.
        albedo_mean: RGB albedo at zero appearance output (mean skin), in (0, 1).
        crop_size: two-stage only: side in pixels of the square crops the regressor reads (a
            multiple of 32); each detected hand's box is cut out and resized to it.
    """

    architecture: Literal["single_stage", "two_stage"] = "single_stage"

    backbone: Literal["resnet18", "resnet34", "resnet50"] = "resnet18"
    width: float = 0.5
    pretrained: str | None = None
    norm: Literal["batch", "frozen_batch", "group"] = "batch"
    neck_channels: int = 32
    head_channels: int = 32
    head_layers: int = 1
    rotation: Literal["rot6d", "axis_angle"] = "rot6d"
    input_size: int = 128
    max_hands: int = 10
    score_threshold: float = 0.3
    nms_kernel: int = 3
    keypoint_threshold: float = 0.1
    keypoint_snap: float = 0.3
    root_offset_scale: float = 0.1
    depth_ref: float = 0.4
    camera_ref_size: int | None = 128
    albedo_mean: tuple[float, float, float] = (0.8, 0.6, 0.5)
    crop_size: int = 128

    def __post_init__(self) -> None:
        where = "model"
        if self.width <= 0:
            raise ConfigError(f"{where}.width: must be > 0, got {self.width}")
        if self.pretrained is not None and self.width != 1.0:
            raise ConfigError(f"{where}.pretrained: torchvision weights need width 1.0, got {self.width}; "
                              f"set width to 1.0 or pretrained to null")
        for name in ("input_size", "crop_size"):
            if getattr(self, name) <= 0 or getattr(self, name) % 32:
                raise ConfigError(f"{where}.{name}: must be a positive multiple of 32, got {getattr(self, name)}")
        for name in ("neck_channels", "head_channels", "max_hands"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{where}.{name}: must be >= 1, got {getattr(self, name)}")
        if self.head_layers < 0:
            raise ConfigError(f"{where}.head_layers: must be >= 0, got {self.head_layers}")
        if self.nms_kernel < 1 or self.nms_kernel % 2 == 0:
            raise ConfigError(f"{where}.nms_kernel: must be an odd number >= 1, got {self.nms_kernel}")
        for name in ("score_threshold", "keypoint_threshold"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{where}.{name}: must be in [0, 1], got {getattr(self, name)}")
        for name in ("keypoint_snap", "root_offset_scale", "depth_ref"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{where}.{name}: must be > 0, got {getattr(self, name)}")
        if self.camera_ref_size is not None and self.camera_ref_size <= 0:
            raise ConfigError(f"{where}.camera_ref_size: must be > 0 pixels (or null: the input size), "
                              f"got {self.camera_ref_size}")
        if not all(0.0 < c < 1.0 for c in self.albedo_mean):
            raise ConfigError(f"{where}.albedo_mean: each value must be in (0, 1), got {self.albedo_mean}")

    def ref_size(self, image_size: int) -> int:
        """R, the camera term's (and the two-stage box size's) scale in pixels for an input of ``image_size``.

        ``camera_ref_size``, or ``image_size`` when that is None (checkpoints written before it).
        """
        return image_size if self.camera_ref_size is None else self.camera_ref_size

    @property
    def stride(self) -> int:
        """Output stride of every head map (4)."""
        return OUTPUT_STRIDE

    @property
    def output_size(self) -> int:
        """h = w = input_size / stride."""
        return self.input_size // OUTPUT_STRIDE
