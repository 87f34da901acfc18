"""Fixtures of the training tests: a tiny network and toy single-hand samples."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from smhr.data.datasets.toy import toy_sample
from smhr.model.build import build_model, load_hand_models
from smhr.model.config import ModelConfig

TINY = ModelConfig(width=0.25, input_size=64, neck_channels=16, head_channels=16)


@pytest.fixture(scope="session")
def hand_models(procedural_model_files):
    return load_hand_models(procedural_model_files.right, procedural_model_files.left)


@pytest.fixture()
def make_model(hand_models):
    def make(seed: int = 0, **changes):
        torch.manual_seed(seed)
        return build_model(dataclasses.replace(TINY, **changes), *hand_models)
    return make


@pytest.fixture(scope="session")
def toy_samples():
    rng = np.random.default_rng(0)
    return [toy_sample(rng, size=80, side="right") for _ in range(12)]
