"""``build_model(cfg, right, left)``: the choices are the visible dict of backbones and the two
architectures (``cfg.architecture``: the single-stage network or the two-stage baseline)."""

from __future__ import annotations

from pathlib import Path

from smhr.errors import ModelFileError
from smhr.hand.layer import HandModel
from smhr.model.backbone import BACKBONES, ResNet, build_backbone, norm_layer
from smhr.model.config import ModelConfig
from smhr.model.heads import Heads
from smhr.model.neck import Neck
from smhr.model.network import SMHRNet
from smhr.model.two_stage import Trunk, TwoStageNet, detector_towers, regressor_towers

__all__ = ["BACKBONES", "build_model", "load_hand_models"]


def load_hand_models(right_path: str | Path, left_path: str | Path) -> tuple[HandModel, HandModel]:
    """Loads the right and left hand models and checks that they fit one network.

    Args:
        right_path: right-hand MANO-format file (``base.hand_model_right``).
        left_path: left-hand file (``base.hand_model_left``).

    Returns:
        ``(right, left)``.

    Raises:
        ModelFileError: a file fails to load, has the wrong side, or the two disagree on the
            vertex count or the faces.
    """
    right = HandModel.from_file(right_path, side="right")
    left = HandModel.from_file(left_path, side="left")
    if right.num_verts != left.num_verts or right.faces.shape != left.faces.shape:
        raise ModelFileError(f"{right_path} ({right.num_verts} vertices) and {left_path} ({left.num_verts}): "
                             f"not the two sides of one hand model; point both at the same model family")
    same = right.faces.sort(-1).values.equal(left.faces.sort(-1).values)
    if not same:
        raise ModelFileError(f"{right_path} and {left_path}: the faces differ; "
                             f"point both at the same model family")
    return right, left


def _trunk(cfg: ModelConfig) -> tuple[ResNet, Neck]:
    """A backbone (``cfg.pretrained`` loaded if set) and its neck."""
    backbone = build_backbone(cfg.backbone, cfg.width, cfg.norm, cfg.pretrained)
    neck_norm = norm_layer("group" if cfg.norm == "group" else "batch")
    return backbone, Neck(backbone.channels, cfg.neck_channels, neck_norm)


def build_model(cfg: ModelConfig, right: HandModel, left: HandModel) -> SMHRNet | TwoStageNet:
    """The network of ``cfg``.

    Args:
        cfg: architecture and decoding settings.
        right: the right hand model; left: the left one (see :func:`load_hand_models`).

    Returns:
        An :class:`SMHRNet` (``architecture: single_stage``) or a :class:`TwoStageNet`
        (``two_stage``: detector and crop regressor, each with its own backbone of the same
        family), in training mode, backbone weights from ``cfg.pretrained`` if set.
    """
    if cfg.architecture == "two_stage":
        detector = Trunk(*_trunk(cfg), detector_towers(cfg.neck_channels, cfg))
        regressor = Trunk(*_trunk(cfg), regressor_towers(cfg.neck_channels, cfg))
        return TwoStageNet(cfg, detector, regressor, left=left, right=right)
    backbone, neck = _trunk(cfg)
    heads = Heads(cfg.neck_channels, cfg.head_channels, cfg.head_layers, cfg.rotation)
    return SMHRNet(cfg, backbone, neck, heads, left=left, right=right)
