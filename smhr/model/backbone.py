"""ResNet-18/34/50 backbones with torchvision's parameter names and shapes.

torchvision cannot be installed here, so the ResNets are written out; their ``state_dict`` keys
and shapes equal torchvision's (``conv1, bn1, layer1..layer4``, blocks with
``conv1/bn1/conv2/bn2(/conv3/bn3)/downsample.0/downsample.1``, ``fc`` only with ``with_fc``), so a
torchvision checkpoint file on the user's disk loads strictly (:func:`load_pretrained`). Nothing
is ever downloaded.

Bottleneck blocks put the stride on the 3x3 convolution (torchvision's "ResNet v1.5").
A width multiplier scales every channel count for small CPU profiles; only ``width == 1.0``
has torchvision's shapes and can take pretrained weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from smhr.errors import ModelFileError

Norm = Literal["batch", "frozen_batch", "group"]

STAGE_PLANES: tuple[int, int, int, int] = (64, 128, 256, 512)
"""torchvision's base channel counts of ``layer1..layer4`` (before the block expansion)."""

STEM_CHANNELS = 64
"""Output channels of torchvision's ``conv1``."""

GROUP_NORM_GROUPS = 32
"""Groups of ``norm: group`` (fewer when the channel count is not divisible)."""


class FrozenBatchNorm2d(nn.Module):
    """Batch norm with fixed statistics and affine parameters (torchvision's ``FrozenBatchNorm2d``).

    Buffers ``weight, bias, running_mean, running_var`` have BatchNorm2d's names, so a
    torchvision checkpoint loads; its ``num_batches_tracked`` entries are accepted and dropped.
    """

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", torch.ones(num_features))
        self.register_buffer("bias", torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):  # noqa: D102 (torch hook)
        state_dict.pop(prefix + "num_batches_tracked", None)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) -> (B, C, h, w)."""
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        shift = self.bias - self.running_mean * scale
        return x * scale[None, :, None, None] + shift[None, :, None, None]


def norm_layer(kind: Norm) -> Callable[[int], nn.Module]:
    """A constructor ``channels -> normalisation module`` for ``kind``."""
    if kind == "batch":
        return nn.BatchNorm2d
    if kind == "frozen_batch":
        return FrozenBatchNorm2d
    if kind == "group":
        return lambda c: nn.GroupNorm(math.gcd(GROUP_NORM_GROUPS, c), c)
    raise ValueError(f"norm must be one of batch, frozen_batch, group; got {kind!r}")


def _conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


def _conv1x1(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual (ResNet-18/34)."""

    expansion = 1

    def __init__(self, cin: int, planes: int, stride: int, downsample: nn.Module | None,
                 norm: Callable[[int], nn.Module]) -> None:
        super().__init__()
        self.conv1 = _conv3x3(cin, planes, stride)
        self.bn1 = norm(planes)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = norm(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, cin, h, w) -> (B, planes, h / stride, w / stride)."""
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 -> 3x3 (strided) -> 1x1 with a residual (ResNet-50)."""

    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int, downsample: nn.Module | None,
                 norm: Callable[[int], nn.Module]) -> None:
        super().__init__()
        self.conv1 = _conv1x1(cin, planes)
        self.bn1 = norm(planes)
        self.conv2 = _conv3x3(planes, planes, stride)
        self.bn2 = norm(planes)
        self.conv3 = _conv1x1(planes, planes * self.expansion)
        self.bn3 = norm(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, cin, h, w) -> (B, 4 planes, h / stride, w / stride)."""
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """A ResNet trunk returning the stage features C2..C5.

    Attributes:
        channels: output channels of ``layer1..layer4`` (C2..C5, strides 4, 8, 16, 32).
        width: the width multiplier it was built with.
    """

    def __init__(self, block: type[BasicBlock] | type[Bottleneck], layers: tuple[int, int, int, int],
                 width: float = 1.0, norm: Norm = "batch", with_fc: bool = False,
                 num_classes: int = 1000) -> None:
        super().__init__()
        if width <= 0:
            raise ValueError(f"width must be > 0, got {width}")
        nl = norm_layer(norm)
        self.width = width
        stem = max(1, int(round(STEM_CHANNELS * width)))
        self.conv1 = nn.Conv2d(3, stem, 7, stride=2, padding=3, bias=False)
        self.bn1 = nl(stem)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        cin = stem
        channels = []
        for i, (planes, n) in enumerate(zip(STAGE_PLANES, layers)):
            planes = max(1, int(round(planes * width)))
            stride = 1 if i == 0 else 2
            blocks: list[nn.Module] = []
            for j in range(n):
                s = stride if j == 0 else 1
                down = None
                if s != 1 or cin != planes * block.expansion:
                    down = nn.Sequential(_conv1x1(cin, planes * block.expansion, s), nl(planes * block.expansion))
                blocks.append(block(cin, planes, s, down, nl))
                cin = planes * block.expansion
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
            channels.append(cin)
        self.channels: tuple[int, int, int, int] = tuple(channels)  # type: ignore[assignment]
        self.fc = nn.Linear(cin, num_classes) if with_fc else None
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Stage features.

        Args:
            x: (B, 3, S, S) normalised image.

        Returns:
            [C2, C3, C4, C5] with ``channels[i]`` channels at strides 4, 8, 16, 32.
        """
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        c2 = self.layer1(x)
        c3 = self.layer2(c2)
        c4 = self.layer3(c3)
        c5 = self.layer4(c4)
        return [c2, c3, c4, c5]


def resnet18(**kwargs) -> ResNet:
    """ResNet-18 (torchvision layout). ``kwargs`` go to :class:`ResNet`."""
    return ResNet(BasicBlock, (2, 2, 2, 2), **kwargs)


def resnet34(**kwargs) -> ResNet:
    """ResNet-34 (torchvision layout). ``kwargs`` go to :class:`ResNet`."""
    return ResNet(BasicBlock, (3, 4, 6, 3), **kwargs)


def resnet50(**kwargs) -> ResNet:
    """ResNet-50 (torchvision layout, stride on the 3x3). ``kwargs`` go to :class:`ResNet`."""
    return ResNet(Bottleneck, (3, 4, 6, 3), **kwargs)


BACKBONES: dict[str, Callable[..., ResNet]] = {"resnet18": resnet18, "resnet34": resnet34, "resnet50": resnet50}
"""The backbone choices of ``model.backbone`` (a plain dict, no registry)."""


def state_dict_mismatch(own: dict[str, torch.Tensor], state: dict[str, torch.Tensor]) -> str:
    """What keeps ``state`` from loading strictly into a module whose state dict is ``own``.

    Returns:
        ``""`` when the keys and shapes agree, else e.g. ``"missing [...]; wrong shape [...]"``
        (at most three keys of each kind).
    """
    missing = sorted(set(own) - set(state))
    extra = sorted(set(state) - set(own))
    shapes = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    return "; ".join(f"{name} {keys[:3]}{' ...' if len(keys) > 3 else ''}"
                     for name, keys in (("missing", missing), ("unexpected", extra), ("wrong shape", shapes))
                     if keys)


_FIX = ("point model.pretrained at torchvision's own checkpoint of this architecture "
        "(e.g. resnet18-f37072fd.pth), or set it to null")


def load_pretrained(backbone: ResNet, path: str | Path) -> None:
    """Loads a local torchvision ResNet checkpoint into ``backbone``, strictly.

    The file must be a plain state dict (what ``torch.save(model.state_dict())`` and
    torchvision's downloads hold); its ``fc.*`` entries are ignored when the backbone has no
    classifier. Every other key must be present with the same shape, and no key may be extra.

    Args:
        backbone: a ResNet built with ``width == 1.0``.
        path: the ``.pth`` file.

    Raises:
        ModelFileError: missing, unreadable or truncated file, a width != 1, or a checkpoint of
            another architecture (missing, extra or mis-shaped keys); the message names the file.
    """
    path = Path(path)
    if backbone.width != 1.0:
        raise ModelFileError(f"{path}: pretrained weights need model.width 1.0 (torchvision's shapes), "
                             f"got width {backbone.width}; set width to 1.0 or pretrained to null")
    if not path.is_file():
        raise ModelFileError(f"{path}: pretrained backbone file not found; {_FIX}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for corrupt/truncated/unsafe files
        raise ModelFileError(f"{path}: not a readable PyTorch weights file ({type(err).__name__}); "
                             f"{_FIX}") from err
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelFileError(f"{path}: not a plain state dict of tensors; {_FIX}")
    if backbone.fc is None:
        state = {k: v for k, v in state.items() if not k.startswith("fc.")}
    own = backbone.state_dict()
    if isinstance(backbone.bn1, FrozenBatchNorm2d):
        state = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    detail = state_dict_mismatch(own, state)
    if detail:
        raise ModelFileError(f"{path}: not a checkpoint of this backbone ({detail}); {_FIX}")
    backbone.load_state_dict(state, strict=True)


def build_backbone(name: str, width: float = 1.0, norm: Norm = "batch", pretrained: str | Path | None = None) -> ResNet:
    """Builds a backbone by name and optionally loads local torchvision weights.

    Args:
        name: a key of :data:`BACKBONES`.
        width: channel multiplier (1.0 = torchvision's shapes).
        norm: ``batch``, ``frozen_batch`` or ``group``.
        pretrained: a local torchvision checkpoint file, or None.

    Raises:
        ValueError: unknown name; ModelFileError: see :func:`load_pretrained`.
    """
    if name not in BACKBONES:
        raise ValueError(f"backbone must be one of {sorted(BACKBONES)}, got {name!r}")
    if pretrained is not None and norm == "group":
        raise ModelFileError(f"{pretrained}: torchvision weights hold batch-norm statistics, which "
                             f"norm 'group' has no place for; use norm batch or frozen_batch, or pretrained null")
    net = BACKBONES[name](width=width, norm=norm)
    if pretrained is not None:
        load_pretrained(net, pretrained)
    return net
