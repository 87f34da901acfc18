"""Reading the metrics tree written by ``smhr benchmark`` into tidy pandas frames.

Layout (the study's contract)::

    <root>/<method>/seed<S>/<benchmark>.json             flat dict of metrics (numbers; strings ignored)
    <root>/<method>/seed<S>/<benchmark>_pck.csv          columns threshold_mm,pck
    <root>/<method>/seed<S>/<benchmark>_per_sample.csv   one row per image: image, pa_mpjpe_mm, ...

``<method>`` is a variant name or ``mean_hand``. Known methods and benchmarks that are absent are
left out with one log line each; a file that exists but cannot be read is an error naming it.
"""

from __future__ import annotations

import json
import logging
import math
import re
from pathlib import Path

import pandas as pd

from smhr.errors import SmhrError

log = logging.getLogger(__name__)

METHODS: tuple[str, ...] = (
    "main", "full", "no_consistency", "no_silhouette", "no_photometric", "no_stagewise", "two_stage", "mean_hand",
)
"""Known methods in table order (variants, then the mean-hand baseline); others follow alphabetically."""
BENCHMARKS: tuple[str, ...] = ("synth", "composed", "freihand", "ho3d", "interhand", "rhd")
"""Known benchmarks in column order; others follow alphabetically."""
METRIC_COLUMNS: tuple[str, ...] = ("method", "seed", "benchmark", "metric", "value")
PCK_COLUMNS: tuple[str, ...] = ("method", "seed", "benchmark", "threshold_mm", "pck")
_SEED = re.compile(r"^seed(\d+)$")
_SUFFIXES = ("_pck", "_per_sample", "_pred")


class ReportError(SmhrError, ValueError):
    """A metrics, benchmark or notebook file of the study cannot be read or used."""


def order_key(name: str, known: tuple[str, ...]) -> tuple[int, str]:
    """Sort key: the position in ``known``, unknown names after them alphabetically."""
    return (known.index(name), "") if name in known else (len(known), name)


def seed_dirs(root: str | Path, report_missing: bool = False) -> list[tuple[str, int, Path]]:
    """The ``(method, seed, folder)`` triples under ``root``, in table order.

    Logs one line for each folder that is not ``seed<S>`` and, with ``report_missing``, for each
    known method (:data:`METHODS`) that has no folder.
    """
    root = Path(root)
    if not root.is_dir():
        if report_missing:
            log.warning("%s: no metrics folder; every method is left out (run the evaluation stages first)", root)
        return []
    found: list[tuple[str, int, Path]] = []
    for method_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for seed_dir in sorted(p for p in method_dir.iterdir() if p.is_dir()):
            match = _SEED.match(seed_dir.name)
            if match is None:
                log.warning("%s: not a seed<S> folder, ignored", seed_dir)
                continue
            found.append((method_dir.name, int(match.group(1)), seed_dir))
    present = {m for m, _, _ in found}
    for method in METHODS if report_missing else ():
        if method not in present:
            log.info("%s/%s: no metrics, method left out", root, method)
    return sorted(found, key=lambda t: (order_key(t[0], METHODS), t[1]))


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ReportError(f"{path}: not a readable metrics JSON ({err}); re-run `smhr benchmark` for it") from err
    if not isinstance(data, dict):
        raise ReportError(f"{path}: expected a flat JSON object of metrics; re-run `smhr benchmark` for it")
    return data


def _number(value: object) -> float | None:
    """The metric's value as float (None -> NaN); None for values that are not metrics (strings...)."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def load_metrics(root: str | Path) -> pd.DataFrame:
    """Every metric of every method, seed and benchmark under ``root``.

    Args:
        root: the metrics folder (``metrics``).

    Returns:
        Tidy frame with columns ``method, seed, benchmark, metric, value`` (value float; a null in
        the JSON is NaN), rows in table order (methods, seeds, benchmarks as :data:`METHODS` and
        :data:`BENCHMARKS`, then metric names sorted).

    Raises:
        ReportError: a metrics JSON that exists but is not a JSON object.
    """
    rows: list[tuple[str, int, str, str, float]] = []
    for method, seed, folder in seed_dirs(root, report_missing=True):
        for path in sorted(folder.glob("*.json")):
            bench = path.stem
            if bench.endswith(_SUFFIXES):
                continue
            for metric, raw in sorted(_read_json(path).items()):
                value = _number(raw)
                if value is not None:
                    rows.append((method, seed, bench, metric, value))
    frame = pd.DataFrame(rows, columns=list(METRIC_COLUMNS))
    present = set(frame["benchmark"])
    for bench in BENCHMARKS:
        if bench not in present:
            log.info("benchmark %s: no metrics under %s, left out", bench, root)
    return sort_frame(frame)


def sort_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` sorted by method, benchmark (known orders), then the remaining key columns present."""
    keys = [c for c in ("variant", "method", "benchmark", "seed", "metric", "threshold_mm") if c in frame.columns]
    if frame.empty:
        return frame.reset_index(drop=True)

    def key(column: pd.Series) -> pd.Series:
        if column.name == "method" or column.name == "variant":
            return column.map(lambda m: order_key(m, METHODS))
        if column.name == "benchmark":
            return column.map(lambda b: order_key(b, BENCHMARKS))
        return column

    return frame.sort_values(keys, key=key, kind="mergesort").reset_index(drop=True)


def load_pck(root: str | Path) -> pd.DataFrame:
    """Every PCK curve under ``root``: columns ``method, seed, benchmark, threshold_mm, pck``.

    Raises:
        ReportError: a ``_pck.csv`` without the columns ``threshold_mm,pck``.
    """
    parts = []
    for method, seed, folder in seed_dirs(root):
        for path in sorted(folder.glob("*_pck.csv")):
            curve = read_csv(path, ("threshold_mm", "pck"))
            curve.insert(0, "benchmark", path.name[: -len("_pck.csv")])
            curve.insert(0, "seed", seed)
            curve.insert(0, "method", method)
            parts.append(curve[list(PCK_COLUMNS)])
    if not parts:
        return pd.DataFrame(columns=list(PCK_COLUMNS))
    return sort_frame(pd.concat(parts, ignore_index=True))


def read_csv(path: str | Path, required: tuple[str, ...]) -> pd.DataFrame:
    """Reads one CSV of the metrics tree and checks its columns.

    Raises:
        ReportError: unreadable, or a column of ``required`` missing.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise ReportError(f"{path}: not a readable CSV ({err}); re-run `smhr benchmark` for it") from err
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ReportError(f"{path}: missing column(s) {missing}; re-run `smhr benchmark` for it")
    return frame


def per_sample_path(root: str | Path, method: str, seed: int, benchmark: str) -> Path:
    """``<root>/<method>/seed<S>/<benchmark>_per_sample.csv``."""
    return Path(root) / method / f"seed{seed}" / f"{benchmark}_per_sample.csv"
