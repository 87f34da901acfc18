"""``build_model(cfg, right, left)``: the choices are the visible dict of backbones, nothing else."""

from __future__ import annotations

from pathlib import Path

from smhr.errors import ModelFileError
from smhr.hand.layer import HandModel
from smhr.model.backbone import BACKBONES, build_backbone, norm_layer
from smhr.model.config import ModelConfig
from smhr.model.heads import Heads
from smhr.model.neck import Neck
from smhr.model.network import SMHRNet

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


def build_model(cfg: ModelConfig, right: HandModel, left: HandModel) -> SMHRNet:
    """The single-stage network of ``cfg``.

    Args:
        cfg: architecture and decoding settings.
        right: the right hand model; left: the left one (see :func:`load_hand_models`).

    Returns:
        An :class:`SMHRNet` (training mode), backbone weights from ``cfg.pretrained`` if set.
    """
    backbone = build_backbone(cfg.backbone, cfg.width, cfg.norm, cfg.pretrained)
    neck_norm = norm_layer("group" if cfg.norm == "group" else "batch")
    neck = Neck(backbone.channels, cfg.neck_channels, neck_norm)
    heads = Heads(cfg.neck_channels, cfg.head_channels, cfg.head_layers, cfg.rotation)
    return SMHRNet(cfg, backbone, neck, heads, left=left, right=right)
