"""Which source files each ``smhr`` command runs, and the fingerprint files the DVC stages depend on.

A stage must re-run when any Python file its command runs changes, and only then. The files are
found from the import graph: ``smhr/cli.py``, the command's module (``smhr.commands.<name>``), the
module a command picks by name from a dispatch table (``smhr bench model`` ->
``smhr.bench.model``), every ``smhr`` module those import at any depth (imports inside functions
included, relative imports resolved), the package ``__init__.py`` files on the way and, for
``smhr report``, the ``smhr`` imports of the notebooks in ``notebooks/`` (they run in the kernel).

``smhr fingerprint`` writes one text file per command (``data/code/train.txt``,
``data/code/bench-model.txt``, ...) listing those files with their SHA-256, and each stage depends
on its command's file instead of on ~20 source paths. DVC compares the file's hash, so editing
``smhr/report`` re-runs the fingerprint stage (a second) and the report stages, not the training;
and ``dvc.lock`` stays small, which matters because DVC re-parses and rewrites all of it after
every stage (ruamel's round trip, timed: 3.2 s with a 0.39 MB lock, 1.7 s with this 0.21 MB one).

Parsing only, never importing: the graph of a file that does not import is still found.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from collections.abc import Iterable
from pathlib import Path

PACKAGE = "smhr"
"""The package whose modules are followed; imports of other packages are not."""


def module_file(root: Path, module: str) -> Path | None:
    """``smhr.a.b`` -> ``root/smhr/a/b.py`` or ``root/smhr/a/b/__init__.py`` (None if neither exists)."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@functools.lru_cache(maxsize=4096)
def _imports_of(path: str, package: tuple[str, ...], mtime_ns: int, size: int) -> frozenset[str]:
    """The dotted names the file imports (cached per file version: ``mtime_ns`` and ``size`` key it)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"), filename=path)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return frozenset(names)


def imported_names(root: Path, path: Path) -> set[str]:
    """Every dotted name an ``import`` or ``from ... import`` anywhere in ``path`` may load.

    ``from a.b import c`` yields ``a.b`` and ``a.b.c`` (``c`` may be a submodule); relative imports
    are resolved against the package of ``path`` (its folder under ``root``).
    """
    stat = path.stat()
    package = tuple(path.resolve().relative_to(root.resolve()).parent.parts)
    return set(_imports_of(str(path), package, stat.st_mtime_ns, stat.st_size))


def dispatch_table(path: Path) -> dict[str, str]:
    """A module-level ``{"name": "smhr.x.y", ...}`` table of ``path`` (``{}`` if it has none).

    ``smhr bench`` picks ``smhr.bench.<name>`` from such a table with ``importlib``, which the
    import statements alone do not show.
    """
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if not isinstance(value, ast.Dict):
            continue
        table = {
            k.value: v.value
            for k, v in zip(value.keys, value.values)
            if isinstance(k, ast.Constant) and isinstance(v, ast.Constant) and isinstance(v.value, str)
        }
        if table and all(v.startswith(PACKAGE + ".") for v in table.values()):
            return table
    return {}


def _table(root: Path, module: str) -> dict[str, str]:
    """The dispatch table of ``module`` under ``root`` (``{}`` if none, or if the module is missing)."""
    path = module_file(root, module)
    return dispatch_table(path) if path is not None else {}


def import_closure(root: Path, start: Iterable[str]) -> dict[Path, list[str]]:
    """Source files the modules ``start`` load, each with one import chain that reaches it.

    Args:
        root: the project root (the folder holding the ``smhr`` package).
        start: dotted module names the command runs.

    Returns:
        ``{file relative to root: [module, ..., module]}``: a chain from a start module to the file.
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
            path = module_file(root, module)
            if path is None:  # a name imported from a module, not a module itself
                continue
            here = chain[:-1] + [module] if module != name else chain
            chains[module] = here
            todo.extend((imported, here + [imported]) for imported in sorted(imported_names(root, path)))
    return {module_file(root, m).relative_to(root): chain for m, chain in chains.items()}


def _command_module(command: str) -> str:
    from smhr.cli import COMMANDS

    return COMMANDS[command][0]


def notebook_imports(root: Path) -> list[str]:
    """The ``smhr`` modules the notebooks in ``root/notebooks`` import (sorted)."""
    names: set[str] = set()
    for notebook in sorted((root / "notebooks").glob("*.py")):
        names.update(n for n in imported_names(root, notebook) if n.split(".")[0] == PACKAGE)
    return sorted(names)


def fingerprint_name(root: Path, argv: list[str]) -> str:
    """The fingerprint a command line depends on: ``train``; ``bench-model`` for a name of a dispatch
    table (``smhr bench all`` depends on ``bench``, every module of the table).

    Args:
        root: the project root.
        argv: ``["smhr", command, ...]``.
    """
    command = argv[1]
    table = _table(root, _command_module(command))
    if table and len(argv) > 2 and argv[2] in table:
        return f"{command}-{argv[2]}"
    return command


def fingerprint_names(root: Path) -> list[str]:
    """Every fingerprint ``smhr fingerprint`` writes: one per command (with every module it may dispatch
    to), and one per name of a dispatch table (``bench-model``: only what ``smhr bench model`` runs)."""
    from smhr.cli import COMMANDS

    names = []
    for command, (module, _) in COMMANDS.items():
        table = _table(root, module)
        names += [command] + [f"{command}-{key}" for key in table]
    return names


def fingerprint_files(root: Path, name: str) -> dict[Path, list[str]]:
    """The source files the command lines of fingerprint ``name`` run (see :func:`fingerprint_name`).

    Raises:
        KeyError: ``name`` is not one of :func:`fingerprint_names`.
    """
    from smhr.cli import COMMANDS

    for command, (module, _) in COMMANDS.items():
        table = _table(root, module)
        key = name[len(command) + 1:] if name.startswith(command + "-") else None
        if name == command or key in table:
            start = ["smhr.cli", module] + ([table[key]] if key else sorted(table.values()))
            if command == "report":
                start += notebook_imports(root)
            return import_closure(root, start)
    raise KeyError(f"no fingerprint {name!r}; known: {', '.join(fingerprint_names(root))}")


def argv_files(root: Path, argv: list[str]) -> dict[Path, list[str]]:
    """The source files ``smhr <command> ...`` runs, for one command line (``argv[0] == "smhr"``).

    Narrower than its fingerprint's files only for ``smhr report``, whose fingerprint covers every
    notebook's imports.
    """
    module = _command_module(argv[1])
    start = ["smhr.cli", module]
    table = _table(root, module)
    if len(argv) > 2 and argv[2] in table:
        start.append(table[argv[2]])
    elif len(argv) > 2 and argv[2] == "all":
        start += sorted(table.values())
    if argv[1:3] == ["report", "notebook"] and len(argv) > 3:  # the notebook's own imports run in its kernel
        notebook = root / "notebooks" / f"{argv[3]}.py"
        if notebook.is_file():
            start += sorted(n for n in imported_names(root, notebook) if n.split(".")[0] == PACKAGE)
    return import_closure(root, start)


def fingerprint_text(root: Path, name: str) -> str:
    """The fingerprint file of ``name``: a comment, then ``<sha256>  <path>`` per file, sorted by path."""
    lines = [f"# Source files `smhr {name.replace('-', ' ', 1)}` runs, with their SHA-256 (written by "
             f"`smhr fingerprint`; see smhr/code_deps.py). DVC stages that run it depend on this file."]
    for path in sorted(fingerprint_files(root, name), key=lambda p: p.as_posix()):
        digest = hashlib.sha256((root / path).read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.as_posix()}")
    return "\n".join(lines) + "\n"
