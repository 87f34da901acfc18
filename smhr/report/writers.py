"""Writing a :class:`~smhr.report.tables.Table` as CSV (numbers), Markdown and LaTeX booktabs.

Outputs are deterministic (fixed float format, rows in the table's order, ``\\n`` line ends) and
written together atomically: ``<out_root>/tables/<name>.{csv,md,tex}`` appear all three or none.
"""

from __future__ import annotations

from itertools import groupby
from pathlib import Path

import pandas as pd

from smhr.outputs import staged_files
from smhr.report.tables import PM, Table

CSV_FLOAT = "%.6f"
"""Float format of the CSV files (enough digits to recompute any displayed cell)."""
_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def to_csv(table: Table) -> str:
    """The numbers behind the table (its ``data``), floats as :data:`CSV_FLOAT`."""
    return table.data.to_csv(index=False, float_format=CSV_FLOAT, lineterminator="\n")


def _flat(group: str, header: str) -> str:
    return f"{group} {header}" if group else header


def to_markdown(table: Table) -> str:
    """A GitHub Markdown table: one header row (``benchmark header``), right-aligned numbers, the note below."""
    headers = [table.index, *(_flat(g, h) for g, h in table.columns)]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join([":---", *["---:"] * len(table.columns)]) + "|"]
    lines += ["| " + " | ".join([name, *cells]) + " |" for name, cells in table.rows]
    if table.note:
        lines += ["", table.note]
    return "\n".join(lines) + "\n"


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped and ``±`` as ``$\\pm$``."""
    out = "".join(_LATEX_SPECIAL.get(c, c) for c in text)
    return out.replace(PM.strip(), r"$\pm$")


def to_latex(table: Table) -> str:
    """A booktabs ``tabular`` (``\\toprule``, ``\\midrule``, ``\\bottomrule``; needs ``\\usepackage{booktabs}``).

    Column groups (benchmarks) become a ``\\multicolumn`` row with ``\\cmidrule`` under each group.
    """
    ncol = len(table.columns)
    lines = [r"\begin{tabular}{l" + "r" * ncol + "}", r"\toprule"]
    if any(g for g, _ in table.columns):
        top, rules, col = [""], [], 2
        for group, members in groupby(g for g, _ in table.columns):
            span = len(list(members))
            top.append(rf"\multicolumn{{{span}}}{{c}}{{{latex_escape(group)}}}" if span > 1 else latex_escape(group))
            if group:
                rules.append(rf"\cmidrule(lr){{{col}-{col + span - 1}}}")
            col += span
        lines += [" & ".join(top) + r" \\", " ".join(rules)]
    lines.append(" & ".join(latex_escape(h) for h in [table.index, *(h for _, h in table.columns)]) + r" \\")
    lines.append(r"\midrule")
    lines += [" & ".join(latex_escape(c) for c in [name, *cells]) + r" \\" for name, cells in table.rows]
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def write_table(table: Table, out_root: str | Path, name: str) -> list[Path]:
    """Writes ``<out_root>/tables/<name>.csv``, ``.md`` and ``.tex`` together, atomically.

    Returns:
        The three paths.
    """
    folder = Path(out_root) / "tables"
    paths = [folder / f"{name}.{ext}" for ext in ("csv", "md", "tex")]
    with staged_files() as staged:
        for path, text in zip(paths, (to_csv(table), to_markdown(table), to_latex(table))):
            staged.path(path).write_text(text)
    return paths


def show(table: Table) -> pd.DataFrame:
    """The display cells as a DataFrame (for a notebook's output)."""
    grouped = any(g for g, _ in table.columns)
    columns = pd.MultiIndex.from_tuples(table.columns) if grouped else [h for _, h in table.columns]
    index = pd.Index([n for n, _ in table.rows], name=table.index)
    return pd.DataFrame([cells for _, cells in table.rows], index=index, columns=columns)
