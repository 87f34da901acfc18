"""A small fake study tree in the layout contract, with made-up but valid numbers.

``write_fake_study(root)`` writes::

    metrics/<method>/seed<S>/{synth,composed}.json  (+ _pck.csv, _per_sample.csv)
    reports/bench/model.json

Methods: ``main``, ``full`` and ``two_stage`` with seeds 0-2, ``no_silhouette`` with seeds 0-1 (so a
cell has fewer seeds), ``mean_hand`` seed 0; ``two_stage`` has no composed metrics. The metric keys
are exactly those ``smhr evaluate`` writes for the freihand and multihand protocols (plus
``num_images``, ``protocol`` and ``mode``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

FREIHAND_KEYS = (
    "auc_0_50mm", "auc_mesh_0_50mm", "auc_pa_0_50mm", "auc_pa_mesh_0_50mm", "f15", "f15_unaligned", "f5",
    "f5_unaligned", "mpjpe_median_mm", "mpjpe_mm", "mpvpe_median_mm", "mpvpe_mm", "pa_mpjpe_median_mm",
    "pa_mpjpe_mm", "pa_mpvpe_median_mm", "pa_mpvpe_mm",
)
MULTIHAND_KEYS = ("ap", "handedness_acc", "mpjpe_mm", "pa_mpjpe_mm", "pa_mpvpe_mm", "recall")
SEEDS = {"main": (0, 1, 2), "full": (0, 1, 2), "no_silhouette": (0, 1), "two_stage": (0, 1, 2), "mean_hand": (0,)}
N_IMAGES = 4


def metric_value(method: str, seed: int, bench: str, key: str) -> float:
    """A made-up, deterministic value (mm errors 5-40, fractions in (0, 1))."""
    rng = np.random.default_rng([ord(c) for c in f"{method}/{seed}/{bench}/{key}"])
    return float(5 + 35 * rng.random()) if key.endswith("_mm") else float(rng.random())


def _metrics(method: str, seed: int, bench: str) -> dict:
    keys = FREIHAND_KEYS if bench == "synth" else MULTIHAND_KEYS
    data: dict = {k: metric_value(method, seed, bench, k) for k in keys}
    if bench == "synth":
        data.update(num_samples=N_IMAGES, protocol="freihand")
    else:
        data.update(num_gt_hands=6, num_pred_hands=7, num_matched=5, num_missed=1, num_false_positive=2,
                    num_evaluated=5, protocol="multihand")
        if method == "mean_hand":
            data["pa_mpvpe_mm"] = None  # a metric the protocol could not compute: null in the JSON
    data.update(num_images=N_IMAGES, mode="official")
    return data


def write_fake_metrics(metrics: Path) -> Path:
    """Writes the metrics tree under ``metrics`` (see the module docstring)."""
    for method, seeds in SEEDS.items():
        for seed in seeds:
            folder = metrics / method / f"seed{seed}"
            folder.mkdir(parents=True)
            for bench in ("synth", "composed"):
                if method == "two_stage" and bench == "composed":
                    continue
                text = json.dumps(_metrics(method, seed, bench), indent=2, sort_keys=True)
                (folder / f"{bench}.json").write_text(text)
                thresholds = np.linspace(0, 50, 11)
                pck = 1 - np.exp(-thresholds / (10 + seed + len(method)))
                (folder / f"{bench}_pck.csv").write_text(
                    "threshold_mm,pck\n" + "".join(f"{t:.6f},{p:.6f}\n" for t, p in zip(thresholds, pck)))
                errors = [metric_value(method, seed, bench, f"image{i}") for i in range(N_IMAGES)]
                image = [str(i) if bench == "synth" else f"{i}:0" for i in range(N_IMAGES)]
                (folder / f"{bench}_per_sample.csv").write_text(
                    "image,pa_mpjpe_mm\n" + "".join(f"{i},{e:.6f}\n" for i, e in zip(image, errors)))
    return metrics


BENCH = {
    "profiles": {
        "cpu": {
            "single_stage": {"latency_ms": {"1": 10.0, "2": 10.2, "4": 10.3, "8": 10.5}, "ratio_t8_t1": 1.05,
                             "params_m": 3.1, "gflops": 0.4, "throughput_img_per_s": 180.0, "peak_memory_mb": 120.5},
            "two_stage": {"latency_ms": {"1": 15.0, "2": 22.0, "4": 36.0, "8": 64.0}, "ratio_t8_t1": 4.2667,
                          "params_m": 6.0, "gflops": 0.9, "throughput_img_per_s": 60.0, "peak_memory_mb": 200.0},
        },
        "paper": {
            "single_stage": {"latency_ms": {"1": 80.0, "2": 81.0, "4": 82.0, "8": 83.0}, "ratio_t8_t1": 1.0375,
                             "params_m": 30.2, "gflops": 20.0, "throughput_img_per_s": 14.0, "peak_memory_mb": 900.0},
        },
    },
    "threads": 2,
}


def write_fake_study(root: Path) -> Path:
    """Writes ``root/metrics`` and ``root/reports/bench/model.json``. Returns ``root``."""
    write_fake_metrics(root / "metrics")
    bench = root / "reports" / "bench" / "model.json"
    bench.parent.mkdir(parents=True)
    bench.write_text(json.dumps(BENCH, indent=1, sort_keys=True))
    return root


@pytest.fixture
def study(tmp_path: Path) -> Path:
    """A fresh fake study tree (metrics + model benchmark) in a temporary folder."""
    return write_fake_study(tmp_path / "study")


from tests.predict.conftest import tiny_checkpoint  # noqa: E402,F401 - the tiny random-weight checkpoint fixture
