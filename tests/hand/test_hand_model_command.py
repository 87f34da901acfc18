"""``smhr hand-model`` end to end on a tiny config: files, previews, determinism, bad params."""

from __future__ import annotations

import pytest

from smhr.cli import main
from smhr.hand import HandModel

PARAMS = """hand_model:
  seed: 0
  pose_samples: 500
  finger_ring_verts: 8
  palm_ring_verts: 12
  palm_rings: 4
"""


@pytest.mark.pipeline
@pytest.mark.slow
def test_hand_model_command_writes_models_and_previews(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text(PARAMS)
    args = ["hand-model", "--params", str(params), "--out-dir", str(tmp_path / "m"), "--preview-dir", str(tmp_path / "p")]
    assert main(args) == 0
    first = (tmp_path / "m" / "procedural_right.pkl").read_bytes()
    model = HandModel.from_file(tmp_path / "m" / "procedural_left.pkl")
    assert model.side == "left"
    pngs = sorted(p.name for p in (tmp_path / "p").glob("*.png"))
    assert "right_fist.png" in pngs and "right_shape_large.png" in pngs and "left_open.png" in pngs
    assert (tmp_path / "p" / "summary.json").is_file()
    assert not list((tmp_path / "m").glob("*.tmp"))
    assert main(args) == 0
    assert (tmp_path / "m" / "procedural_right.pkl").read_bytes() == first


def test_hand_model_command_rejects_unknown_keys(tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text(PARAMS + "  colour: red\n")
    assert main(["hand-model", "--params", str(params), "--out-dir", str(tmp_path / "m")]) == 2
    assert "unknown key(s) ['colour']" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
