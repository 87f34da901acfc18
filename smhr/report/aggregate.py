"""Mean +- std over seeds, and per-seed paired differences against a reference method.

Pure functions on the tidy frame of :func:`smhr.report.load.load_metrics`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from smhr.report.load import sort_frame

AGG_COLUMNS = ("method", "benchmark", "metric", "mean", "std", "n")
DELTA_COLUMNS = ("variant", "benchmark", "metric", "delta", "std", "ci95", "n", "seeds")


def aggregate(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample standard deviation over seeds.

    Args:
        frame: tidy metrics (``method, seed, benchmark, metric, value``).

    Returns:
        Columns ``method, benchmark, metric, mean, std, n``: ``n`` counts the seeds with a finite
        value (NaN values, e.g. a metric undefined for one seed, are not counted), ``std`` uses
        ``ddof=1`` and is NaN for ``n < 2``; ``mean`` is NaN for ``n = 0``.
    """
    if frame.empty:
        return pd.DataFrame(columns=list(AGG_COLUMNS))
    rows = []
    for (method, bench, metric), group in frame.groupby(["method", "benchmark", "metric"], sort=False):
        values = group["value"].to_numpy(np.float64)
        values = values[np.isfinite(values)]
        n = len(values)
        rows.append((method, bench, metric, float(values.mean()) if n else np.nan,
                     float(values.std(ddof=1)) if n > 1 else np.nan, n))
    return sort_frame(pd.DataFrame(rows, columns=list(AGG_COLUMNS)))


def paired_deltas(frame: pd.DataFrame, reference: str = "main",
                  exclude: tuple[str, ...] = ("mean_hand",)) -> pd.DataFrame:
    """Per method, benchmark and metric: the difference to ``reference`` over the seeds both have.

    For each seed ``s`` both methods were evaluated with, ``d_s = value(method, s) - value(reference, s)``
    (a variant trained with seed ``s`` against the reference with the same seed).

    Args:
        frame: tidy metrics.
        reference: the method the deltas are taken against.
        exclude: methods left out (the mean-hand baseline has one seed and no training).

    Returns:
        Columns ``variant, benchmark, metric, delta, std, ci95, n, seeds``: mean of ``d_s``, its
        sample std (``ddof=1``), the half-width of the 95 % Student-t confidence interval of the
        mean (``t_{0.975, n-1} * std / sqrt(n)``; NaN for ``n < 2``), the number of paired seeds and
        which (``"0,1,2"``). Rows without any paired finite seed are dropped.
    """
    if frame.empty or reference not in set(frame["method"]):
        return pd.DataFrame(columns=list(DELTA_COLUMNS))
    wide = frame.pivot_table(index=["benchmark", "metric", "seed"], columns="method", values="value", aggfunc="first",
                             dropna=False)
    rows = []
    for method in wide.columns:
        if method == reference or method in exclude:
            continue
        diff = (wide[method] - wide[reference]).dropna()
        for (bench, metric), d in diff.groupby(level=["benchmark", "metric"], sort=False):
            values = d.to_numpy(np.float64)
            n = len(values)
            if n == 0:
                continue
            std = float(values.std(ddof=1)) if n > 1 else np.nan
            ci = float(stats.t.ppf(0.975, n - 1) * std / np.sqrt(n)) if n > 1 else np.nan
            seeds = ",".join(str(s) for s in sorted(d.index.get_level_values("seed")))
            rows.append((method, bench, metric, float(values.mean()), std, ci, n, seeds))
    return sort_frame(pd.DataFrame(rows, columns=list(DELTA_COLUMNS)))
