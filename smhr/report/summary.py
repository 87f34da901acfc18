"""The study's one metrics file for ``dvc metrics show/diff`` and ``dvc exp show``.

Per method, benchmark and metric: the mean over seeds, its sample std and the seed count, read
from the metrics tree (:func:`smhr.report.load.load_metrics`); nothing else is computed here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from smhr.outputs import atomic_write
from smhr.report.aggregate import aggregate
from smhr.report.load import load_metrics


def summary(metrics_root: str | Path) -> dict[str, dict[str, dict[str, float | int | None]]]:
    """``{method: {benchmark: {metric: mean, metric + "_std": std, "seeds": n}}}`` over seeds.

    Args:
        metrics_root: the metrics folder (``metrics/<method>/seed<S>/<benchmark>.json``).

    Returns:
        Nested dict; ``std`` is ``None`` for fewer than two seeds; ``seeds`` is the largest seed
        count of the benchmark's metrics (a metric undefined for some seeds has fewer).
    """
    out: dict[str, dict[str, dict[str, float | int | None]]] = {}
    for row in aggregate(load_metrics(metrics_root)).itertuples(index=False):
        cell = out.setdefault(row.method, {}).setdefault(row.benchmark, {})
        cell[row.metric] = None if math.isnan(row.mean) else round(float(row.mean), 6)
        cell[f"{row.metric}_std"] = None if math.isnan(row.std) else round(float(row.std), 6)
        cell["seeds"] = max(int(cell.get("seeds", 0)), int(row.n))
    return out


def write_summary(metrics_root: str | Path, out: str | Path) -> Path:
    """Writes :func:`summary` as JSON (sorted keys, no timestamps), atomically; returns ``out``."""
    text = json.dumps(summary(metrics_root), indent=2, sort_keys=True, allow_nan=False) + "\n"
    return atomic_write(out, text.encode())
