"""The report's tables, built from aggregated frames: every cell is a number read from a file.

A :class:`Table` holds the display cells (for Markdown and LaTeX) and the numbers behind them
(for CSV); :mod:`smhr.report.writers` writes both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from smhr.report.load import BENCHMARKS, METHODS, order_key
from smhr.report.metrics import decimals, fmt, headline, label

PM = " ± "
"""Separator of a value and its spread in display cells (LaTeX writes ``$\\pm$``)."""


@dataclass
class Table:
    """One table of the report.

    Attributes:
        index: header of the row-label column.
        columns: ``(group, header)`` per data column; a two-level header where groups are set.
        rows: ``(row label, cells)``, one display string per column.
        data: the numbers behind the cells, written as the CSV.
        note: one line saying what the cells are (written under the Markdown table).
    """

    index: str
    columns: list[tuple[str, str]]
    rows: list[tuple[str, list[str]]]
    data: pd.DataFrame
    note: str = ""


def _columns(agg: pd.DataFrame) -> list[tuple[str, str]]:
    """(benchmark, metric) columns in order: benchmarks as :data:`BENCHMARKS`, headline metrics."""
    out = []
    for bench in sorted(set(agg["benchmark"]), key=lambda b: order_key(b, BENCHMARKS)):
        out += [(bench, m) for m in headline(bench, set(agg.loc[agg["benchmark"] == bench, "metric"]))]
    return out


def _mean_std(mean: float, std: float, places: int, sign: bool = False) -> str:
    text = fmt(mean, places, sign)
    return text if np.isnan(std) or text == "n/a" else text + PM + fmt(std, places)


def _cells(lookup: dict, columns: list[tuple[str, str]], row_n: int, value: str, spread: str, sign: bool) -> list[str]:
    cells = []
    for bench, metric in columns:
        rec = lookup.get((bench, metric))
        if rec is None or rec["n"] == 0:
            cells.append("n/a")
            continue
        text = _mean_std(rec[value], rec[spread], decimals(metric), sign)
        cells.append(text if rec["n"] == row_n else f"{text} (n={rec['n']})")
    return cells


def _keep(frame: pd.DataFrame, columns: list[tuple[str, str]]) -> pd.DataFrame:
    """The rows of ``frame`` whose ``(benchmark, metric)`` is one of ``columns``."""
    wanted = set(columns)
    keep = [(b, m) in wanted for b, m in zip(frame["benchmark"], frame["metric"])]
    mask = pd.Series(keep, index=frame.index, dtype=bool)
    return frame[mask].reset_index(drop=True)


def _methods(frame: pd.DataFrame, column: str) -> list[str]:
    return sorted(set(frame[column]), key=lambda m: order_key(m, METHODS))


def results_table(agg: pd.DataFrame) -> Table:
    """The main results: one row per method, columns benchmark x headline metric.

    Args:
        agg: :func:`smhr.report.aggregate.aggregate` output.

    Returns:
        Cells ``mean ± std`` over seeds (std left out for one seed); column ``seeds`` is the
        method's largest seed count, and a cell with fewer seeds says ``(n=k)``.
    """
    columns = _columns(agg)
    shown = _keep(agg, columns)
    rows = []
    for method in _methods(shown, "method"):
        part = shown[shown["method"] == method]
        lookup = {(r.benchmark, r.metric): r._asdict() for r in part.itertuples(index=False)}
        n = int(part["n"].max())
        rows.append((method, [str(n), *_cells(lookup, columns, n, "mean", "std", False)]))
    return Table(
        index="method",
        columns=[("", "seeds"), *[(b, label(m)) for b, m in columns]],
        rows=rows,
        data=shown,
        note="mean ± std over seeds (sample std); (n=k): fewer seeds for that cell",
    )


def ablation_table(deltas: pd.DataFrame, agg: pd.DataFrame, reference: str = "main") -> Table:
    """The ablations: the reference's absolute values, then one row per variant with its deltas.

    Args:
        deltas: :func:`smhr.report.aggregate.paired_deltas` output.
        agg: :func:`smhr.report.aggregate.aggregate` output (for the reference row).
        reference: the reference method.

    Returns:
        Reference row ``mean ± std``; variant rows ``delta ± std`` of the per-seed paired
        differences (variant minus reference), with the number of paired seeds; the CSV has the
        95 % confidence half-width too.
    """
    ref = agg[agg["method"] == reference]
    columns = _columns(ref) if not ref.empty else []
    rows = []
    if not ref.empty:
        lookup = {(r.benchmark, r.metric): r._asdict() for r in ref.itertuples(index=False)}
        n = int(ref["n"].max())
        rows.append((f"{reference} (reference)", [str(n), *_cells(lookup, columns, n, "mean", "std", False)]))
    shown = _keep(deltas, columns)
    for variant in _methods(shown, "variant"):
        part = shown[shown["variant"] == variant]
        lookup = {(r.benchmark, r.metric): r._asdict() for r in part.itertuples(index=False)}
        n = int(part["n"].max())
        rows.append((variant, [str(n), *_cells(lookup, columns, n, "delta", "std", True)]))
    return Table(
        index="variant",
        columns=[("", "seeds"), *[(b, label(m)) for b, m in columns]],
        rows=rows,
        data=shown,
        note=f"variants: mean ± std over seeds of (variant - {reference}) paired by seed; "
             f"the CSV adds the 95 % t-interval half-width (ci95)",
    )


EFFICIENCY_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("params_m", "params [M]", 2),
    ("gflops", "GFLOPs", 2),
    ("latency_1_ms", "1 hand [ms]", 2),
    ("latency_8_ms", "8 hands [ms]", 2),
    ("ratio_t8_t1", "t8/t1", 3),
    ("throughput_img_per_s", "throughput [img/s]", 1),
    ("peak_memory_mb", "peak memory [MB]", 1),
)
"""Columns of the efficiency table: (field of :func:`smhr.report.efficiency.summary`, header, decimals)."""


def efficiency_table(summary: pd.DataFrame) -> Table:
    """Single- vs two-stage per profile: size, cost, latency at 1 and 8 hands, their measured ratio.

    Args:
        summary: :func:`smhr.report.efficiency.summary` output (one row per profile and architecture).
    """
    rows = []
    for rec in summary.itertuples(index=False):
        d = rec._asdict()
        rows.append((f"{d['profile']} {d['architecture'].replace('_', '-')}",
                     [fmt(d.get(key, np.nan), places) for key, _, places in EFFICIENCY_COLUMNS]))
    return Table(index="profile, model", columns=[("", header) for _, header, _ in EFFICIENCY_COLUMNS],
                 rows=rows, data=summary, note="latency per image at batch 1; t8/t1 as measured by smhr bench model")
