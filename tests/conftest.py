"""Project-wide fixtures: hand-model files.

* ``procedural_model_files``: our procedural right/left hands written once per session.
* ``fake_mano_files``: fake official ``MANO_{RIGHT,LEFT}.pkl`` in the real files' structure
  (:mod:`tests.hand.fake_mano`), for every test that takes the real MANO path.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from tests.hand.fake_mano import mano_arrays, mirrored, with_left_bug, write_fake_mano


class ModelFiles(NamedTuple):
    """Paths of a right and a left model file."""

    right: Path
    left: Path


@pytest.fixture(scope="session")
def procedural_model_files(tmp_path_factory: pytest.TempPathFactory) -> ModelFiles:
    """Our procedural hands (default ``ProceduralConfig``) as ``procedural_{right,left}.pkl``."""
    from smhr.hand.model_file import save_model_data
    from smhr.hand.procedural import ProceduralConfig, build_models

    out = tmp_path_factory.mktemp("hand_models")
    right, left = build_models(ProceduralConfig())
    return ModelFiles(save_model_data(right, out / "procedural_right.pkl"), save_model_data(left, out / "procedural_left.pkl"))


class FakeMano(NamedTuple):
    """Fake official files and the arrays they hold.

    Attributes:
        right, left: ``MANO_RIGHT.pkl`` / ``MANO_LEFT.pkl`` (see :mod:`tests.hand.fake_mano`).
        right_arrays: what the right file holds.
        left_arrays: the exact mirror of the right hand (what a fixed left model must give).
        left_stored: what the left file holds: ``left_arrays`` with the official x-sign bug.
    """

    right: Path
    left: Path
    right_arrays: dict
    left_arrays: dict
    left_stored: dict


@pytest.fixture(scope="session")
def fake_mano_files(tmp_path_factory: pytest.TempPathFactory) -> FakeMano:
    """Fake MANO_RIGHT.pkl / MANO_LEFT.pkl in the official structure; the left is the right's mirror with its bug."""
    out = tmp_path_factory.mktemp("mano")
    right = mano_arrays(seed=1)
    left = mirrored(right)
    stored = with_left_bug(left, right)
    return FakeMano(write_fake_mano(right, out / "MANO_RIGHT.pkl", seed=1),
                    write_fake_mano(stored, out / "MANO_LEFT.pkl", seed=2), right, left, stored)
