"""``smhr report``: the analysis notebooks, and the study's one metrics file.

Example::

    smhr report notebook results --params params.yaml
    smhr report notebook qualitative --out reports/notebooks
    smhr report summary --metrics-root metrics --out reports/metrics.json

``summary`` writes the mean, std and seed count of every method x benchmark x metric (what
``dvc metrics show`` and ``dvc exp show`` list).

The notebook (``notebooks/NAME.py``, jupytext py:percent) reads the study's files and writes its
tables to ``reports/tables/NAME*.{csv,md,tex}`` and figures to ``reports/figures/NAME*.png``
(paths from its ``parameters`` cell, overridable in ``params.yaml:report``; docs/study.md).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from smhr.outputs import check_output_dir

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    nb = sub.add_parser(
        "notebook", help="execute notebooks/NAME.py with papermill into OUT/NAME.ipynb",
        description="Converts notebooks/NAME.py (jupytext py:percent) and executes it with papermill on the "
        "'python3' kernel, in the current folder; the executed notebook is written only if every cell succeeds. "
        "Notebooks: results (main table), ablations (deltas vs main), efficiency (single- vs two-stage), "
        "qualitative (truth vs prediction, worst cases included).",
    )
    nb.add_argument("name", metavar="NAME", help="the notebook: a file NAME.py in --notebooks (results, ablations, "
                    "efficiency, qualitative)")
    nb.add_argument("--params", type=Path, default=None,
                    help="a params.yaml whose 'report' section overrides the notebook's parameters cell "
                    "(top-level keys: every notebook; a key named after a notebook: that notebook's own keys)")
    nb.add_argument("--out", type=Path, default=Path("reports/notebooks"),
                    help="folder of the executed notebook (default reports/notebooks)")
    nb.add_argument("--notebooks", type=Path, default=Path("notebooks"),
                    help="folder of the notebook sources (default notebooks)")


    sm = sub.add_parser(
        "summary", help="mean, std and seeds of every method x benchmark x metric into one JSON",
        description="Reads metrics/<method>/seed<S>/<benchmark>.json (smhr benchmark) and writes "
        "{method: {benchmark: {metric: mean, metric_std: std, seeds: n}}} with sorted keys: the file "
        "dvc metrics show / dvc exp show read.",
    )
    sm.add_argument("--metrics-root", type=Path, default=Path("metrics"),
                    help="folder of the per-run metrics (default metrics)")
    sm.add_argument("--out", type=Path, default=Path("reports/metrics.json"),
                    help="the JSON to write (default reports/metrics.json)")


def run(args: argparse.Namespace) -> int:
    """Dispatches to the action."""
    if args.action == "summary":
        return _summary(args)
    return _notebook(args)


def _summary(args: argparse.Namespace) -> int:
    """Checks the folders, then writes the summary."""
    from smhr.errors import UsageError
    from smhr.outputs import check_output_file
    from smhr.report.summary import write_summary

    if not args.metrics_root.is_dir():
        raise UsageError(f"--metrics-root {args.metrics_root}: folder not found; run `smhr benchmark` "
                         "(dvc repro) first or point it at the metrics folder")
    check_output_file(args.out, "--out")
    log.info("wrote %s", write_summary(args.metrics_root, args.out))
    return 0


def _notebook(args: argparse.Namespace) -> int:
    """Checks the notebook, parameters, kernel and output folder, then executes."""
    from smhr.report import notebook

    source = notebook.notebook_source(args.notebooks, args.name)
    check_output_dir(args.out, "--out")
    declared = notebook.declared_parameters(source)
    names = {p.stem for p in args.notebooks.glob("*.py")}
    parameters = notebook.resolve_parameters(args.name, declared, args.params, names)
    notebook.check_kernel()
    output = notebook.execute(source, args.out / f"{args.name}.ipynb", parameters)
    log.info("%s: executed into %s", source, output)
    return 0
