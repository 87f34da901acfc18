"""dvc.yaml stays consistent with the CLI, params.yaml and the source tree."""

import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from smhr.cli import COMMANDS
from smhr.config import read_params

ROOT = Path(__file__).resolve().parents[1]


def _stages():
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def _lookup(params, dotted):
    node = params
    for part in dotted.split("."):
        assert isinstance(node, dict) and part in node, f"params.yaml has no '{dotted}'"
        node = node[part]
    return node


@pytest.mark.parametrize("name", sorted(_stages()))
def test_stage_is_consistent(name):
    stage = _stages()[name]
    cmds = stage["cmd"] if isinstance(stage["cmd"], list) else [stage["cmd"]]
    for cmd in cmds:
        argv = shlex.split(cmd)
        assert argv[0] == "smhr" and argv[1] in COMMANDS, f"stage {name}: unknown command {cmd!r}"
    params = read_params(ROOT / "params.yaml")
    for entry in stage.get("params", []):
        keys = entry if isinstance(entry, str) else next(iter(entry.values()))
        for key in [keys] if isinstance(keys, str) else keys:
            _lookup(params, key)
    for dep in stage.get("deps", []):
        produced = any(
            dep == (o if isinstance(o, str) else next(iter(o))) for s in _stages().values() for o in s.get("outs", [])
        )
        assert produced or (ROOT / dep).exists(), f"stage {name}: dependency {dep} does not exist"


def test_cached_outputs_are_not_committed():
    """Cached outputs live in DVC's cache, never in git (MANO-derived files must never be committed)."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name, stage in _stages().items():
        for out in stage.get("outs", []):
            path, opts = (out, {}) if isinstance(out, str) else next(iter(out.items()))
            if opts.get("cache", True):
                assert not [t for t in tracked if t == path or t.startswith(path + "/")], f"{name}: {path} is in git"
