import ast
import dataclasses
import functools
import importlib
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


PROJECT_PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"
SMHR = Path(__file__).resolve().parents[1] / "smhr"


@functools.cache
def _section_readers() -> dict[str, type]:
    """``{section: config class}`` for every ``load_section(Class, "section", ...)`` call in smhr/.

    Found in the source, so a command added later is checked without editing this test.
    """
    readers: dict[str, type] = {}
    for path in sorted(SMHR.rglob("*.py")):
        tree = ast.parse(path.read_text())
        parts = path.relative_to(SMHR.parent).with_suffix("").parts
        origin = {".".join(p for p in parts if p != "__init__"): None}  # where each imported name comes from
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                origin.update({alias.asname or alias.name: (node.module, alias.name) for alias in node.names})
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "load_section"):
                continue
            cls_arg, section_arg = node.args[:2]
            assert isinstance(cls_arg, ast.Name) and isinstance(section_arg, ast.Constant), (
                f"{path}: load_section needs a class name and a literal section for this test to check it"
            )
            module, name = origin.get(cls_arg.id) or (next(iter(origin)), cls_arg.id)
            readers[section_arg.value] = getattr(importlib.import_module(module), name)
    return readers


def _differences(loaded, default, where: str) -> list[str]:
    """Fields whose dataclass default differs from params.yaml, recursing into nested configs."""
    out = []
    for f in dataclasses.fields(default):
        a, b = getattr(loaded, f.name), getattr(default, f.name)
        if dataclasses.is_dataclass(b):
            out += _differences(a, b, f"{where}.{f.name}")
        elif a != b:
            out.append(f"{where}.{f.name}: params.yaml has {a!r}, the class default is {b!r}")
    return out


def _missing_keys(default, node: dict, where: str) -> list[str]:
    """Fields of config ``default`` (nested ones included) that the params.yaml mapping ``node`` lacks."""
    out = []
    for f in dataclasses.fields(default):
        value = getattr(default, f.name)
        if f.name not in node:
            out.append(f"{where}.{f.name}")
        elif dataclasses.is_dataclass(value):
            out += _missing_keys(value, node[f.name], f"{where}.{f.name}")
    return out


def test_every_section_reader_is_found():
    assert {"hand_model", "synth", "compose", "evaluate"} <= set(_section_readers())


@pytest.mark.parametrize("section", sorted(_section_readers()))
def test_class_defaults_equal_params_yaml(section):
    """Each config class loads the real params.yaml, which documents every field at its class default."""
    from smhr.config import read_params

    cls = _section_readers()[section]
    loaded = load_section(cls, section, PROJECT_PARAMS)
    missing = _missing_keys(cls(), read_params(PROJECT_PARAMS)[section], section)
    assert not missing, f"params.yaml does not document {missing}; add them with the class defaults"
    problems = _differences(loaded, cls(), section)
    assert not problems, "\n".join(problems)
