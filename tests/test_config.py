from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from smhr.config import from_dict, load_section, to_dict
from smhr.errors import ConfigError


@dataclass(frozen=True)
class Inner:
    sigma: float = 1.0


@dataclass(frozen=True)
class Section:
    root: Path
    n: int = 3
    lr: float = 1.0e-3
    mode: Literal["soft", "sharp"] = "soft"
    size: tuple[int, int] = (224, 224)
    inner: Inner = field(default_factory=Inner)
    note: str | None = None


def test_from_dict_types_and_defaults():
    cfg = from_dict(Section, {"root": "data/x", "lr": 1, "size": [64, 32], "inner": {"sigma": 2}})
    assert cfg.root == Path("data/x") and cfg.n == 3 and cfg.lr == 1.0 and isinstance(cfg.lr, float)
    assert cfg.size == (64, 32) and cfg.inner == Inner(2.0) and cfg.note is None
    assert to_dict(cfg)["root"] == "data/x"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"root": "x", "bogus": 1}, "unknown key(s) ['bogus']"),
        ({}, "missing required key 'root'"),
        ({"root": "x", "lr": "1e-4"}, "PyYAML reads 1e-4 as a string"),
        ({"root": "x", "n": 2.5}, "expected an integer"),
        ({"root": "x", "mode": "blurry"}, "not one of"),
        ({"root": "x", "size": [1, 2, 3]}, "expected 2 values"),
        ({"root": "x", "inner": {"sigmaa": 1.0}}, "unknown key(s) ['sigmaa']"),
    ],
)
def test_from_dict_errors(data, message):
    with pytest.raises(ConfigError) as err:
        from_dict(Section, data, "params.yaml:s")
    assert message in str(err.value) and "params.yaml:s" in str(err.value)


def test_load_section(tmp_path):
    p = tmp_path / "params.yaml"
    p.write_text("base:\n  seed: 0\ns:\n  root: a\n")
    assert load_section(Section, "s", p).root == Path("a")
    with pytest.raises(ConfigError, match="section 'missing' not found"):
        load_section(Section, "missing", p)
    with pytest.raises(ConfigError, match="params file not found"):
        load_section(Section, "s", tmp_path / "nope.yaml")


def test_project_params_file_is_valid_yaml():
    from smhr.config import read_params

    params = read_params(Path(__file__).resolve().parents[1] / "params.yaml")
    assert "base" in params
