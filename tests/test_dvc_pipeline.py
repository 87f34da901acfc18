"""dvc.yaml stays consistent with the CLI, params.yaml and the source tree.

Each stage's Python dependencies are derived from the import graph of the code its commands run
(``smhr/cli.py``, the subcommand's module, the benchmark or action module it dispatches to, and
every ``smhr`` module they import, at any depth, lazily inside functions included, with the
package ``__init__.py`` files on the way). A stage that misses one would not re-run after that
file changes, so the test fails and names the file to add.
"""

from __future__ import annotations

import ast
import functools
import itertools
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from smhr.cli import COMMANDS
from smhr.config import read_params

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "smhr"


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


def _module_file(root: Path, module: str) -> Path | None:
    """``smhr.a.b`` -> ``smhr/a/b.py`` or ``smhr/a/b/__init__.py`` under ``root`` (None if neither)."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@functools.cache
def _imported_names(root: Path, path: Path) -> set[str]:
    """Every dotted name an ``import`` or ``from ... import`` anywhere in ``path`` may load.

    ``from a.b import c`` yields ``a.b`` and ``a.b.c`` (``c`` may be a submodule); relative
    imports are resolved against the file's package.
    """
    package = list(path.relative_to(root).parent.parts)  # the package a relative import starts from
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _dispatch_table_modules(root: Path, path: Path, key: str) -> set[str]:
    """Modules a command picks by name from a module-level ``{"name": "smhr.x.y", ...}`` table.

    ``smhr bench render`` imports ``smhr.bench.render`` through such a table (``importlib``);
    ``key == "all"`` takes every entry of the table.
    """
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if not isinstance(value, ast.Dict):
            continue
        table = {
            k.value: v.value
            for k, v in zip(value.keys, value.values)
            if isinstance(k, ast.Constant) and isinstance(v, ast.Constant) and isinstance(v.value, str)
        }
        if not table or not all(v.startswith(PACKAGE + ".") for v in table.values()):
            continue
        if key == "all":
            found.update(table.values())
        elif key in table:
            found.add(table[key])
    return found


def import_closure(root: Path, start: list[str]) -> dict[Path, list[str]]:
    """Source files the modules ``start`` load, each with one import chain that reaches it.

    Args:
        root: the project root (the folder holding the ``smhr`` package).
        start: dotted module names the command runs.

    Returns:
        ``{file relative to root: [module, ..., module]}``: the chain from a start module.
    """
    chains: dict[str, list[str]] = {}
    todo = [(name, [name]) for name in start]
    while todo:
        name, chain = todo.pop(0)
        parts = name.split(".")
        for i in range(1, len(parts) + 1):  # the package __init__ files on the way are run too
            module = ".".join(parts[:i])
            if parts[0] != PACKAGE or module in chains:
                continue
            path = _module_file(root, module)
            if path is None:  # a name imported from a module, not a module itself
                continue
            here = chain[:-1] + [module] if module != name else chain
            chains[module] = here
            todo.extend((imported, here + [imported]) for imported in sorted(_imported_names(root, path)))
    return {_module_file(root, m).relative_to(root): chain for m, chain in chains.items()}


def stage_python_deps(root: Path, argv: list[str]) -> dict[Path, list[str]]:
    """The Python files ``smhr <command> ...`` runs (see :func:`import_closure`)."""
    module = COMMANDS[argv[1]][0]
    start = ["smhr.cli", module]
    if len(argv) > 2 and not argv[2].startswith("-"):
        start += sorted(_dispatch_table_modules(root, _module_file(root, module), argv[2]))
    if argv[1:3] == ["report", "notebook"]:  # the notebook's own imports run in its kernel
        notebook = root / "notebooks" / f"{argv[3]}.py"
        if notebook.is_file():
            start += sorted(n for n in _imported_names(root, notebook) if n.split(".")[0] == PACKAGE)
    return import_closure(root, start)


def missing_deps(root: Path, stages: dict) -> list[str]:
    """One line per Python file a stage runs but no ``deps`` entry (the file or a folder above it) covers."""
    problems = []
    for name, stage in stages.items():
        deps = [Path(d) for d in stage.get("deps", [])]
        needed: dict[Path, list[str]] = {}
        for argv in _commands(stage):
            needed.update(stage_python_deps(root, argv))
        for path, chain in sorted(needed.items()):
            if not any(dep == path or dep in path.parents for dep in deps):
                problems.append(f"dvc.yaml stage '{name}': add '{path.as_posix()}' to its deps "
                                f"(imported via {' -> '.join(chain)})")
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
        produced = any(Path(dep) == o or Path(dep) in o.parents for o in outs)  # an output, or a folder of outputs
        assert produced or (ROOT / dep).exists(), (
            f"dvc.yaml stage '{name}': dependency '{dep}' does not exist; fix the path or remove it"
        )


@pytest.mark.parametrize("name", sorted(_stages()))
def test_stage_lists_every_module_its_command_imports(name):
    problems = missing_deps(ROOT, {name: _stages()[name]})
    assert not problems, "\n".join(problems)


def _toy_project(tmp: Path) -> Path:
    """A miniature package tree: a command importing lazily, a sub-package, a dispatch table."""
    files = {
        "smhr/__init__.py": "",
        "smhr/cli.py": "from smhr.errors import SmhrError\n",
        "smhr/errors.py": "",
        "smhr/commands/__init__.py": "",
        "smhr/commands/synth.py": "def run():\n    from smhr.data.synth import x\n",
        "smhr/commands/bench.py": 'BENCHMARKS = {"render": "smhr.bench.render", "eval": "smhr.bench.eval"}\n',
        "smhr/data/__init__.py": "",
        "smhr/data/synth.py": "from . import sample\nimport smhr.geometry.camera as cam\n",
        "smhr/data/sample.py": "",
        "smhr/geometry/__init__.py": "",
        "smhr/geometry/camera.py": "import numpy\n",
        "smhr/bench/__init__.py": "",
        "smhr/bench/render.py": "from smhr.render import renderer\n",
        "smhr/bench/eval.py": "",
        "smhr/render/__init__.py": "",
        "smhr/render/renderer.py": "",
    }
    for rel, text in files.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_text(text)
    return tmp


def test_import_closure_follows_lazy_relative_and_package_imports(tmp_path):
    root = _toy_project(tmp_path)
    found = {p.as_posix() for p in stage_python_deps(root, ["smhr", "synth"])}
    assert found == {
        "smhr/__init__.py", "smhr/cli.py", "smhr/errors.py", "smhr/commands/__init__.py", "smhr/commands/synth.py",
        "smhr/data/__init__.py", "smhr/data/synth.py", "smhr/data/sample.py", "smhr/geometry/__init__.py",
        "smhr/geometry/camera.py",
    }
    bench = {p.as_posix() for p in stage_python_deps(root, ["smhr", "bench", "render", "--out", "x"])}
    assert {"smhr/bench/render.py", "smhr/render/__init__.py", "smhr/render/renderer.py"} <= bench
    assert "smhr/bench/eval.py" not in bench
    assert {Path("smhr/bench/eval.py"), Path("smhr/bench/render.py")} <= set(stage_python_deps(root, ["smhr", "bench", "all"]))


def test_missing_dep_is_named_with_its_stage_and_import_chain(tmp_path):
    root = _toy_project(tmp_path)
    stages = _stages(
        "stages:\n  synth:\n    cmd: smhr synth\n    deps: [smhr/__init__.py, smhr/cli.py, smhr/errors.py, "
        "smhr/commands, smhr/data, smhr/geometry/__init__.py]\n"
    )
    assert missing_deps(root, stages) == [
        "dvc.yaml stage 'synth': add 'smhr/geometry/camera.py' to its deps "
        "(imported via smhr.commands.synth -> smhr.data.synth -> smhr.geometry.camera)"
    ]


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
