"""Project-wide fixtures: hand-model files.

* ``procedural_model_files``: our procedural right/left hands written once per session.

Fake official MANO files (``fake_mano_files``) live in ``tests/hand/conftest.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest


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
