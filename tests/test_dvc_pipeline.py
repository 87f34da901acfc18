"""dvc.yaml stays consistent with the CLI, params.yaml and the source tree.

Each stage's Python dependencies are derived from the import graph of the code its commands run
(:mod:`smhr.code_deps`: ``smhr/cli.py``, the subcommand's module, the module it dispatches to, and
every ``smhr`` module they import, at any depth, lazily inside functions included, with the
package ``__init__.py`` files on the way). A stage covers them with its command's fingerprint
(``data/code/<command>.txt``, written by the ``code`` stage); a stage that misses one would not
re-run after that file changes, so the test fails and names the dep to add.
"""

from __future__ import annotations

import itertools
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from smhr.cli import COMMANDS
from smhr.code_deps import argv_files, fingerprint_files, fingerprint_name, fingerprint_names
from smhr.config import read_params
from tests.test_code_deps import toy_project

ROOT = Path(__file__).resolve().parents[1]
CODE_DIR = Path("data/code")
"""Where the ``code`` stage writes the fingerprints (``smhr fingerprint --out data/code``)."""


def _interpolate(value, item: dict, params: dict):
    """``${item.key}`` and ``${params.key}`` substituted in strings (recursively in lists and dicts)."""
    if isinstance(value, list):
        return [_interpolate(v, item, params) for v in value]
    if isinstance(value, dict):
        return {_interpolate(k, item, params): _interpolate(v, item, params) for k, v in value.items()}
    if not isinstance(value, str):
        return value

    def lookup(match: re.Match) -> str:
        key = match.group(1)
        return str(_lookup(item, key[len("item."):]) if key.startswith("item.") else _lookup(params, key))

    return re.sub(r"\$\{([\w.]+)\}", lookup, value)


def expand_matrix(stages: dict, params: dict) -> dict:
    """DVC's ``matrix`` stages expanded into plain ones named ``name@v1-v2`` (as ``dvc stage list``)."""
    out = {}
    for name, stage in stages.items():
        if "matrix" not in stage:
            out[name] = stage
            continue
        body = {k: v for k, v in stage.items() if k != "matrix"}
        axes = {k: _lookup(params, v[2:-1]) if isinstance(v, str) and v.startswith("${") else v
                for k, v in stage["matrix"].items()}  # a whole axis from params.yaml: ${study.seeds}
        for values in itertools.product(*axes.values()):
            item = dict(zip(axes, values))
            out[f"{name}@" + "-".join(str(v) for v in values)] = _interpolate(body, item, params)
    return out


def _stages(text: str | None = None) -> dict:
    raw = yaml.safe_load((ROOT / "dvc.yaml").read_text() if text is None else text)["stages"]
    return expand_matrix(raw, read_params(ROOT / "params.yaml"))


def _commands(stage: dict) -> list[list[str]]:
    cmds = stage["cmd"] if isinstance(stage["cmd"], list) else [stage["cmd"]]
    return [shlex.split(cmd) for cmd in cmds]


def _lookup(params, dotted):
    node = params
    for part in dotted.split("."):
        assert isinstance(node, dict) and part in node, f"params.yaml has no '{dotted}'"
        node = node[part]
    return node


def missing_deps(root: Path, stages: dict) -> list[str]:
    """One line per Python file a stage runs but none of its ``deps`` covers.

    A dep covers a file when it is the file, a folder above it, or a fingerprint
    (``data/code/<name>.txt``, :mod:`smhr.code_deps`) that lists it.
    """
    problems = []
    for name, stage in stages.items():
        deps = [Path(d) for d in stage.get("deps", [])]
        covered: set[Path] = set()
        for dep in deps:
            if dep.parent == CODE_DIR and dep.suffix == ".txt":
                covered.update(fingerprint_files(root, dep.stem))
        needed: dict[Path, list[str]] = {}
        for argv in _commands(stage):
            needed.update(argv_files(root, argv))
        for path, chain in sorted(needed.items()):
            if path not in covered and not any(dep == path or dep in path.parents for dep in deps):
                problems.append(f"dvc.yaml stage '{name}': add '{CODE_DIR.as_posix()}/"
                                f"{fingerprint_name(root, _commands(stage)[0])}.txt' or '{path.as_posix()}' to its "
                                f"deps (imported via {' -> '.join(chain)})")
    return problems


@pytest.mark.parametrize("name", sorted(_stages()))
def test_stage_is_consistent(name):
    stage = _stages()[name]
    for argv in _commands(stage):
        assert argv[0] == "smhr" and argv[1] in COMMANDS, f"stage {name}: unknown command {shlex.join(argv)!r}"
    params = read_params(ROOT / "params.yaml")
    for entry in stage.get("params", []):
        keys = entry if isinstance(entry, str) else next(iter(entry.values()))
        for key in [keys] if isinstance(keys, str) else keys:
            _lookup(params, key)


@pytest.mark.parametrize("name", sorted(_stages()))
def test_stage_deps_exist(name):
    """A dep that names no file (a typo, a moved module) and no other stage's output is an error."""
    outs = {Path(o if isinstance(o, str) else next(iter(o)))
            for s in _stages().values() for o in s.get("outs", []) + s.get("metrics", [])}
    for dep in _stages()[name].get("deps", []):
        # an output, a folder of outputs, or a file inside an output folder
        produced = any(Path(dep) == o or Path(dep) in o.parents or o in Path(dep).parents for o in outs)
        assert produced or (ROOT / dep).exists(), (
            f"dvc.yaml stage '{name}': dependency '{dep}' does not exist; fix the path or remove it"
        )


@pytest.mark.parametrize("name", sorted(_stages()))
def test_stage_lists_every_module_its_command_imports(name):
    problems = missing_deps(ROOT, {name: _stages()[name]})
    assert not problems, "\n".join(problems)


def test_missing_dep_is_named_with_its_stage_and_import_chain(tmp_path):
    root = toy_project(tmp_path)
    stages = _stages(
        "stages:\n  synth:\n    cmd: smhr synth\n    deps: [smhr/__init__.py, smhr/cli.py, smhr/errors.py, "
        "smhr/commands, smhr/data, smhr/geometry/__init__.py]\n"
    )
    assert missing_deps(root, stages) == [
        "dvc.yaml stage 'synth': add 'data/code/synth.txt' or 'smhr/geometry/camera.py' to its deps "
        "(imported via smhr.commands.synth -> smhr.data.synth -> smhr.geometry.camera)"
    ]
    assert missing_deps(root, _stages("stages:\n  synth:\n    cmd: smhr synth\n    deps: [data/code/synth.txt]\n")) == []


def test_the_code_stage_writes_every_fingerprint_a_stage_reads_and_watches_the_sources():
    stages = _stages()
    code = stages["code"]
    assert code["cmd"] == f"smhr fingerprint --out {CODE_DIR.as_posix()}" and code["outs"] == [CODE_DIR.as_posix()]
    assert set(code["deps"]) == {"smhr", "notebooks"}
    names = set(fingerprint_names(ROOT))
    for name, stage in stages.items():
        for dep in stage.get("deps", []):
            assert not dep.startswith("smhr/"), f"{name}: depend on its command's fingerprint, not on {dep}"
            if Path(dep).parent == CODE_DIR:
                assert Path(dep).stem in names, f"{name}: {dep} is not a fingerprint smhr fingerprint writes"


def test_cached_outputs_are_not_committed():
    """Cached outputs live in DVC's cache, never in git (MANO-derived files must never be committed)."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name, stage in _stages().items():
        for out in stage.get("outs", []):
            path, opts = (out, {}) if isinstance(out, str) else next(iter(out.items()))
            if opts.get("cache", True):
                assert not [t for t in tracked if t == path or t.startswith(path + "/")], f"{name}: {path} is in git"


def test_study_branches_only_reuse_identical_stages():
    """A training stage that starts from another variant's model (``--init models/main/...``) is only
    right if every stage up to that model is identical for both variants (same config and seed:
    :func:`smhr.train.config.shared_prefix`); and every stage's --init is the stage before it."""
    from smhr.train.config import parse_train_config, resolve_stages, shared_prefix

    cfg = parse_train_config(read_params(ROOT / "params.yaml")["train"])
    checked = 0
    for name, stage in _stages().items():
        for argv in _commands(stage):
            if argv[1] != "train":
                continue
            flags = {"--no-progress", "--resume"}
            words = [w for w in argv[2:] if w not in flags]
            opt = dict(zip(words[::2], words[1::2]))
            variant, current = opt["--variant"], opt["--stage"]
            order = list(resolve_stages(cfg, variant))
            assert f"models/{variant}/seed{opt['--seed']}/{current}" == opt["--out"], name
            if "--init" not in opt:
                assert order.index(current) == 0, f"{name}: stage {current!r} needs --init"
                continue
            other, seed, previous = Path(opt["--init"]).parts[1:4]
            assert seed == f"seed{opt['--seed']}" and previous == order[order.index(current) - 1], name
            assert f"models/{other}/{seed}/{previous}" in stage["deps"], f"{name}: --init is not a dep"
            if other != variant:
                checked += 1
                assert previous in shared_prefix(cfg, variant, other), (
                    f"{name}: starts from {other}'s {previous!r} model, but {variant} trains that stage "
                    f"differently; train its own chain")
    assert checked  # the study does branch somewhere (else this test tests nothing)
