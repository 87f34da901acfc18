"""Executing one analysis notebook: jupytext ``py:percent`` source -> papermill -> ``.ipynb``.

The source's cell tagged ``parameters`` holds literals (``metrics_root = "metrics"``...);
:func:`declared_parameters` reads them, :func:`resolve_parameters` takes overrides from the
``report`` section of a params file, :func:`execute` runs the notebook with the ``python3``
kernel in a folder of your choice and writes the executed notebook atomically (a failed run leaves
the previous output, or nothing).

``params.yaml:report`` (all keys optional)::

    report:
      metrics_root: metrics          # top-level keys: every notebook that declares them
      qualitative:                   # a notebook's name: keys for that notebook only
        method: main
"""

from __future__ import annotations

import ast
import importlib.util
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from smhr.errors import UsageError
from smhr.report.load import ReportError

log = logging.getLogger(__name__)

KERNEL = "python3"
SECTION = "report"


def notebook_source(notebooks: str | Path, name: str) -> Path:
    """``<notebooks>/<name>.py``.

    Raises:
        UsageError: no such notebook (the message lists those that exist).
    """
    path = Path(notebooks) / f"{name}.py"
    if not path.is_file():
        found = sorted(p.stem for p in Path(notebooks).glob("*.py")) if Path(notebooks).is_dir() else []
        raise UsageError(f"NAME {name}: no notebook {path}; choose one of {found or 'none (wrong --notebooks?)'}")
    return path


def _read(path: Path) -> Any:
    import jupytext

    return jupytext.read(path, fmt="py:percent")


def declared_parameters(path: str | Path) -> dict[str, Any]:
    """The literals assigned in the notebook's ``parameters`` cell.

    Raises:
        ReportError: no cell tagged ``parameters``, or a statement in it that is not ``name = literal``.
    """
    nb = _read(Path(path))
    cells = [c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise ReportError(f"{path}: expected one cell tagged 'parameters' (# %% tags=[\"parameters\"]), "
                          f"found {len(cells)}")
    out: dict[str, Any] = {}
    for node in ast.parse(cells[0].source).body:
        try:
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
                raise ValueError("not a simple assignment")
            out[node.targets[0].id] = ast.literal_eval(node.value)
        except ValueError as err:
            raise ReportError(f"{path}: parameters cell line {node.lineno}: {err}; write `name = literal`") from err
    return out


def resolve_parameters(name: str, declared: dict[str, Any], params_file: str | Path | None,
                       notebook_names: set[str]) -> dict[str, Any]:
    """The parameters papermill injects: overrides from ``params_file``'s ``report`` section.

    Args:
        name: the notebook.
        declared: its :func:`declared_parameters`.
        params_file: a YAML file with a ``report`` section, or None (no overrides).
        notebook_names: every notebook's name (top-level keys naming one hold that notebook's keys).

    Returns:
        The shared keys the notebook declares, updated with the notebook's own keys.

    Raises:
        UsageError: the section is not a mapping, or a notebook's own key is not one it declares.
    """
    if params_file is None:
        return {}
    from smhr.config import read_params

    section = read_params(params_file).get(SECTION) or {}
    if not isinstance(section, dict):
        raise UsageError(f"--params {params_file}: '{SECTION}' must be a mapping of notebook parameters")
    shared = {k: v for k, v in section.items() if not (k in notebook_names and isinstance(v, dict))}
    own = section.get(name) if isinstance(section.get(name), dict) else {}
    unknown = sorted(set(own) - set(declared))
    if unknown:
        raise UsageError(f"--params {params_file}: {SECTION}.{name}.{unknown[0]} is not a parameter of "
                         f"notebook {name}; "
                         f"use one of {sorted(declared)}")
    params = {k: v for k, v in shared.items() if k in declared}
    params.update(own)
    return params


def check_kernel() -> None:
    """Raises UsageError unless the ``python3`` kernel (ipykernel) can start from this environment."""
    if importlib.util.find_spec("papermill") is None or importlib.util.find_spec("jupytext") is None:
        raise UsageError("papermill and jupytext are not installed; "
                         "install the notebooks extra: pip install -e '.[notebooks]'")
    from jupyter_client.kernelspec import KernelSpecManager

    if importlib.util.find_spec("ipykernel") is None or KERNEL not in KernelSpecManager().find_kernel_specs():
        raise UsageError(f"no Jupyter kernel '{KERNEL}' in this environment; install the notebooks extra "
                         "(pip install -e '.[notebooks]', which brings ipykernel)")


def execute(source: str | Path, output: str | Path, parameters: dict[str, Any], cwd: str | Path = ".") -> Path:
    """Runs a ``py:percent`` notebook with papermill and writes the executed ``.ipynb`` atomically.

    Args:
        source: the jupytext source.
        output: the executed notebook to write (replaced only if every cell succeeds).
        parameters: values injected after the ``parameters`` cell.
        cwd: the kernel's working folder (relative paths in the notebook start there).

    Returns:
        ``output``.

    Raises:
        ReportError: a cell raised; the message names the notebook, the cell and the error.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    source, output = Path(source), Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=".tmp.ipynb", dir=output.parent)
    os.close(fd)
    try:
        papermill.execute_notebook(_read(source), tmp, parameters=parameters, kernel_name=KERNEL, cwd=str(cwd),
                                   progress_bar=False, log_output=False, report_mode=False)
        from smhr.outputs import file_mode

        os.chmod(tmp, file_mode())
        os.replace(tmp, output)
    except PapermillExecutionError as err:
        first = next((line for line in err.source.splitlines() if line.strip() and not line.startswith("#")), "")
        log.debug("%s", "\n".join(err.traceback))
        raise ReportError(f"notebook {source}: cell {err.exec_count} (`{first.strip()[:60]}`) failed: "
                          f"{err.ename}: {err.evalue.splitlines()[0] if err.evalue else ''}; "
                          f"fix the cause and run it again (open it with `jupyter lab {source}` to debug)") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    return output
