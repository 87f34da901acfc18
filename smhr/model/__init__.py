"""The network: backbone, neck, heads, decoding, ``build_model(cfg)``, checkpoints.

Everything a decoder returns is a :class:`~smhr.model.outputs.HandPredictions`. The public names
are importable from here; the submodules stay importable on their own.
"""

from __future__ import annotations

from smhr.model.build import BACKBONES, build_model, load_hand_models
from smhr.model.checkpoint import load_checkpoint, save_checkpoint
from smhr.model.config import ModelConfig
from smhr.model.heads import HeadMaps
from smhr.model.network import SMHRNet
from smhr.model.outputs import HandPredictions, PredictedHand
from smhr.model.two_stage import TwoStageNet

__all__ = ["BACKBONES", "HandPredictions", "HeadMaps", "ModelConfig", "PredictedHand", "SMHRNet",
           "TwoStageNet", "build_model", "load_checkpoint", "load_hand_models", "save_checkpoint"]
