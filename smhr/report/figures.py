"""The report's figures (matplotlib, Agg) and a byte-stable PNG writer.

PNGs carry no software or date metadata and fonts/hash salts are fixed, so the same data give the
same bytes on one machine (``save_figure``).
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from smhr.outputs import atomic_write  # noqa: E402
from smhr.report.load import BENCHMARKS, METHODS, order_key  # noqa: E402
from smhr.report.metrics import label  # noqa: E402

DPI = 120
STABLE_RC = {"svg.hashsalt": "smhr", "font.family": "DejaVu Sans", "figure.dpi": DPI}


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Writes ``fig`` as PNG atomically, without metadata (stable bytes), and closes it. Returns ``path``."""
    buffer = io.BytesIO()
    with matplotlib.rc_context(STABLE_RC):
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None}, bbox_inches="tight", pad_inches=0.1)
    plt.close(fig)
    return atomic_write(path, buffer.getvalue())


def _by_order(values: pd.Series, known: tuple[str, ...]) -> list[str]:
    return sorted(set(values), key=lambda v: order_key(v, known))


def pck_figure(pck: pd.DataFrame) -> Figure:
    """PCK against threshold, one panel per benchmark, one line per method (mean over seeds).

    Args:
        pck: :func:`smhr.report.load.load_pck` output (``threshold_mm`` in mm, ``pck`` in [0, 1]).
    """
    benches = _by_order(pck["benchmark"], BENCHMARKS) or ["(none)"]
    with matplotlib.rc_context(STABLE_RC):
        fig, axes = plt.subplots(1, len(benches), figsize=(4.2 * len(benches), 3.4), squeeze=False)
        for ax, bench in zip(axes[0], benches):
            part = pck[pck["benchmark"] == bench]
            for method in _by_order(part["method"], METHODS):
                curve = part[part["method"] == method].groupby("threshold_mm")["pck"].agg(["mean", "count"])
                n = int(part.loc[part["method"] == method, "seed"].nunique())
                ax.plot(curve.index.to_numpy(), curve["mean"].to_numpy(), label=f"{method} (n={n})")
            ax.set(title=bench, xlabel="threshold [mm]", ylabel="PCK", ylim=(0, 1))
            ax.grid(alpha=0.3)
            if len(part):
                ax.legend(fontsize=7, loc="lower right")
        fig.tight_layout()
    return fig


def ablation_figure(deltas: pd.DataFrame, metric: str = "pa_mpjpe_mm") -> Figure:
    """Bars of each variant's delta of ``metric`` (variant - reference), error bars = std over seeds.

    Args:
        deltas: :func:`smhr.report.aggregate.paired_deltas` output.
        metric: the metric shown, one panel per benchmark that has it.
    """
    part = deltas[deltas["metric"] == metric]
    benches = _by_order(part["benchmark"], BENCHMARKS) or ["(none)"]
    with matplotlib.rc_context(STABLE_RC):
        fig, axes = plt.subplots(1, len(benches), figsize=(4.2 * len(benches), 3.4), squeeze=False)
        for ax, bench in zip(axes[0], benches):
            rows = part[part["benchmark"] == bench]
            variants = _by_order(rows["variant"], METHODS)
            rows = rows.set_index("variant").loc[variants] if variants else rows
            x = np.arange(len(variants))
            ax.bar(x, rows["delta"].to_numpy(float) if variants else [], yerr=np.nan_to_num(rows["std"].to_numpy(float))
                   if variants else None, capsize=3, color="tab:blue")
            ax.axhline(0, color="black", linewidth=0.8)
            ax.set_xticks(x, [f"{v}\n(n={int(n)})" for v, n in zip(variants, rows["n"])] if variants else [],
                          rotation=30, ha="right", fontsize=7)
            ax.set(title=f"{bench} (whiskers: std over seeds)", ylabel=f"Δ {label(metric)} vs reference")
            ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
    return fig


def efficiency_figure(latency: pd.DataFrame, summary: pd.DataFrame) -> Figure:
    """Latency per image against hands per image, one panel per profile, single- vs two-stage.

    Args:
        latency: :func:`smhr.report.efficiency.latency` output.
        summary: :func:`smhr.report.efficiency.summary` output (for the measured t8/t1 in the legend).
    """
    profiles = list(dict.fromkeys(latency["profile"])) or ["(none)"]
    with matplotlib.rc_context(STABLE_RC):
        fig, axes = plt.subplots(1, len(profiles), figsize=(4.2 * len(profiles), 3.4), squeeze=False)
        for ax, profile in zip(axes[0], profiles):
            part = latency[latency["profile"] == profile]
            for arch in dict.fromkeys(part["architecture"]):
                rows = part[part["architecture"] == arch]
                ratio = summary[(summary["profile"] == profile) & (summary["architecture"] == arch)]["ratio_t8_t1"]
                text = f", t8/t1 = {float(ratio.iloc[0]):.2f}" if len(ratio) and np.isfinite(ratio.iloc[0]) else ""
                ax.plot(rows["hands"], rows["latency_ms"], marker="o", label=f"{arch.replace('_', '-')}{text}")
            ax.set(title=f"{profile} profile", xlabel="hands per image", ylabel="latency per image [ms]")
            ax.set_xticks(sorted(set(part["hands"])))
            ax.set_ylim(bottom=0)
            ax.grid(alpha=0.3)
            if len(part):
                ax.legend(fontsize=7)
        fig.tight_layout()
    return fig
