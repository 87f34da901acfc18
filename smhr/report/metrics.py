"""Which metrics the tables show, under which header, with how many decimals.

The metric names are the keys ``smhr evaluate`` writes (``docs/evaluation.md``): units are in the
names (``_mm``, ``_px``, ``_ms``); F-scores, AUCs, AP, recall and accuracies are fractions.
"""

from __future__ import annotations

import math

_MESH = ("pa_mpjpe_mm", "pa_mpvpe_mm", "f5", "f15", "auc_pa_0_50mm")
HEADLINE: dict[str, tuple[str, ...]] = {
    "synth": _MESH,
    "freihand": _MESH,
    "ho3d": _MESH,
    "composed": ("ap", "centre_ap", "recall_at_min_score", "handedness_acc", "joints2d_err_px", "pa_mpjpe_mm", "pa_mpvpe_mm"),
    "interhand": ("mpjpe_all_mm", "mpjpe_single_mm", "mpjpe_interacting_mm", "mrrpe_mm", "handedness_acc"),
    "rhd": ("epe3d_mean_mm", "auc3d_20_50mm", "epe2d_mean_px"),
}
"""Headline metrics per benchmark, in column order (FreiHAND protocol for synth/freihand/ho3d,
multihand for composed). Any other ``*_px`` metric of a benchmark (a 2D error) is shown after them."""

LABELS: dict[str, str] = {
    "pa_mpjpe_mm": "PA-MPJPE [mm]",
    "pa_mpvpe_mm": "PA-MPVPE [mm]",
    "mpjpe_mm": "MPJPE [mm]",
    "mpvpe_mm": "MPVPE [mm]",
    "f5": "F@5mm",
    "f15": "F@15mm",
    "auc_pa_0_50mm": "AUC (PA, 0-50 mm)",
    "auc_0_50mm": "AUC (0-50 mm)",
    "ap": "AP",
    "centre_ap": "centre AP",
    "recall": "recall (top-K)",
    "recall_at_min_score": "recall",
    "joints2d_err_px": "2D error [px]",
    "handedness_acc": "handedness acc.",
    "mpjpe_all_mm": "MPJPE all [mm]",
    "mpjpe_single_mm": "MPJPE single [mm]",
    "mpjpe_interacting_mm": "MPJPE inter. [mm]",
    "mrrpe_mm": "MRRPE [mm]",
    "epe3d_mean_mm": "EPE 3D [mm]",
    "auc3d_20_50mm": "AUC (20-50 mm)",
    "epe2d_mean_px": "2D error [px]",
}
"""Column headers of known metrics (units in brackets)."""

UNITS: dict[str, str] = {"_mm": "mm", "_px": "px", "_ms": "ms", "_mb": "MB"}
LOWER_IS_BETTER_UNITS = ("_mm", "_px", "_ms")


def label(metric: str) -> str:
    """The column header of ``metric``: :data:`LABELS`, else the name with its unit in brackets."""
    if metric in LABELS:
        return LABELS[metric]
    for suffix, unit in UNITS.items():
        if metric.endswith(suffix):
            stem = metric[: -len(suffix)].replace("_", " ")
            return f"{'2D error' if '2d' in stem and unit == 'px' else stem} [{unit}]"
    return metric.replace("_", " ")


def headline(benchmark: str, available: set[str] | list[str]) -> list[str]:
    """The headline metrics of ``benchmark`` that are ``available``, in column order.

    Args:
        benchmark: benchmark name; an unknown one shows every available metric whose name has a
            unit or is a fraction listed in :data:`LABELS` (counts are left out).
        available: metric names present for it.
    """
    available = set(available)
    wanted = HEADLINE.get(benchmark)
    if wanted is None:
        wanted = tuple(sorted(m for m in available if m in LABELS or m.endswith(tuple(UNITS))))
    chosen = [m for m in wanted if m in available]
    extra_2d = sorted(m for m in available if m.endswith("_px") and "median" not in m and m not in chosen)
    return chosen + extra_2d


def decimals(metric: str) -> int:
    """Decimals shown: 2 for mm/px/ms/MB values, 0 for counts (``num_*``), 3 for fractions."""
    if metric.startswith("num_"):
        return 0
    return 2 if metric.endswith(tuple(UNITS)) else 3


def lower_is_better(metric: str) -> bool:
    """True for errors (mm, px, ms), False for scores (F, AUC, AP, recall, accuracy)."""
    return metric.endswith(LOWER_IS_BETTER_UNITS)


def fmt(value: float | None, places: int, sign: bool = False) -> str:
    """Fixed-point text of ``value`` (``"n/a"`` for None/NaN/inf, never ``-0.00``); ``sign`` prints ``+``."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if round(value, places) == 0:
        value = 0.0
    return f"{value:+.{places}f}" if sign else f"{value:.{places}f}"
