"""ModelConfig: defaults equal params.yaml's model section; bad values are ConfigErrors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from smhr.config import load_section
from smhr.errors import ConfigError
from smhr.model.config import ModelConfig

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_equal_params_yaml() -> None:
    cfg = load_section(ModelConfig, "model", ROOT / "params.yaml")
    assert cfg == ModelConfig()
    section = yaml.safe_load((ROOT / "params.yaml").read_text())["model"]
    assert set(section) == set(ModelConfig.__dataclass_fields__)  # every field is written out


@pytest.mark.parametrize("bad", [
    {"width": 0.0}, {"input_size": 100}, {"nms_kernel": 2}, {"score_threshold": 1.5},
    {"pretrained": "r18.pth", "width": 0.5}, {"albedo_mean": (0.8, 1.2, 0.5)}, {"depth_ref": -1.0},
])
def test_bad_values(bad: dict) -> None:
    with pytest.raises(ConfigError):
        ModelConfig(**bad)


def test_unknown_key_and_bad_choice(tmp_path: Path) -> None:
    p = tmp_path / "params.yaml"
    p.write_text("model:\n  backbone: resnet101\n")
    with pytest.raises(ConfigError, match="backbone"):
        load_section(ModelConfig, "model", p)
    p.write_text("model:\n  depth: 3\n")
    with pytest.raises(ConfigError, match="unknown key"):
        load_section(ModelConfig, "model", p)
