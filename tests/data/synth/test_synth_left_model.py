"""``synthesize`` refuses a left-hand model: FreiHAND's format holds right hands only."""

from __future__ import annotations

import pytest

from smhr.data.synth.generate import SynthConfig, synthesize
from smhr.errors import ModelFileError
from smhr.hand.model_file import save_model_data
from smhr.hand.procedural import ProceduralConfig, build_models


def test_left_model_is_refused_before_anything_is_written(tmp_path):
    _, left = build_models(ProceduralConfig(pose_samples=46, finger_ring_verts=4, palm_ring_verts=8, palm_rings=2))
    path = save_model_data(left, tmp_path / "procedural_left.pkl")
    out = tmp_path / "freihand"
    cfg = SynthConfig(out=out, num_training=2, num_evaluation=1, image_size=32, batch_size=2)
    with pytest.raises(ModelFileError) as info:
        synthesize(cfg, path)
    message = str(info.value)
    assert message.startswith(f"{path}: is a left-hand model")
    assert "give the right-hand model" in message and "smhr compose" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["procedural_left.pkl"]  # no output, no temporary folder
