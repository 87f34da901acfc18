"""Fixtures of the command tests: a scratch folder with the paths a bad-input sweep needs, tiny inputs.

``arena`` is a temporary folder holding a plain file (``file.txt``), a folder (``folder/``) and a
``params.yaml`` whose sections are valid and tiny, so each bad-input case changes one thing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HAND_MODEL_PARAMS = """hand_model:
  seed: 0
  pose_samples: 500
  finger_ring_verts: 8
  palm_ring_verts: 12
  palm_rings: 4
"""


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` (hidden ones included) -> file content (None for folders)."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


@pytest.fixture
def arena(tmp_path: Path) -> Path:
    """A scratch folder with ``file.txt``, ``folder/keep.txt`` and a valid tiny ``params.yaml``."""
    (tmp_path / "file.txt").write_text("the user's file\n")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "keep.txt").write_text("keep\n")
    (tmp_path / "params.yaml").write_text(
        HAND_MODEL_PARAMS
        + f"synth:\n  out: {tmp_path / 'synth'}\n  num_training: 2\n  num_evaluation: 1\n  image_size: 32\n"
        + f"compose:\n  source_root: {tmp_path / 'source'}\n  output_root: {tmp_path / 'composed'}\n"
        + "  num_benchmark: 2\n  num_train: 2\n  image_size: 48\n"
        + "evaluate:\n  mode: official\n"
    )
    return tmp_path


@pytest.fixture(scope="session")
def hand_model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Our procedural right hand, from a small pose sample so that it builds fast."""
    from smhr.hand.model_file import save_model_data
    from smhr.hand.procedural import ProceduralConfig, build_right

    return save_model_data(build_right(ProceduralConfig(pose_samples=2000)), tmp_path_factory.mktemp("hand") / "right.npz")
