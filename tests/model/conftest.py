"""Fixtures of the model tests: the procedural hand models and a tiny network."""

from __future__ import annotations

import pytest
import torch

from smhr.hand.layer import HandModel
from smhr.model.build import build_model, load_hand_models
from smhr.model.config import ModelConfig
from smhr.model.network import SMHRNet

TINY = ModelConfig(width=0.25, input_size=64, neck_channels=16, head_channels=16)
"""A network small enough for tests that run in seconds."""


@pytest.fixture(scope="session")
def hand_models(procedural_model_files) -> tuple[HandModel, HandModel]:
    """(right, left) procedural hand models."""
    return load_hand_models(procedural_model_files.right, procedural_model_files.left)


@pytest.fixture()
def tiny_model(hand_models) -> SMHRNet:
    torch.manual_seed(0)
    return build_model(TINY, *hand_models).eval()
