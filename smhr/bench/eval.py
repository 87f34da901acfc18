"""``smhr bench eval``: time the FreiHAND/HO3D protocol at the official split sizes.

Data are random but hand-like: a fixed random 'hand' point set (about 10 cm across), posed per
sample, with Gaussian noise on the prediction (8 mm per axis on joints, 4 mm on vertices). Each
run computes joints and 778-vertex meshes, both F-scores (5, 15 mm), unaligned and Procrustes
aligned, plus HO3D's scale-translation alignment. Results: ``reports/bench/eval.json`` (sorted
keys, no timestamps) and ``eval.md``. Also runnable as ``python -m smhr.bench.eval``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from smhr.bench.memory import peak_rss_mib
from smhr.eval.mesh_benchmarks import evaluate_mesh_benchmark

SIZES = {"freihand": 3960, "ho3d_v3": 20137}


def hand_like(rng: np.random.Generator, n: int, points: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """(gt, pred) (n, points, 3) metres: a fixed random hand shape, posed, and a noisy copy."""
    template = np.random.default_rng(1234).normal(size=(points, 3)) * np.array([0.03, 0.05, 0.015])
    q = np.linalg.qr(rng.normal(size=(n, 3, 3)))[0]
    q = q * np.sign(np.linalg.det(q))[:, None, None]
    gt = template @ q + rng.normal(size=(n, 1, 3)) * 0.05 + np.array([0.0, 0.0, 0.5])
    return gt, gt + rng.normal(size=gt.shape) * noise


def build_parser() -> argparse.ArgumentParser:
    """Options of the evaluation benchmark."""
    parser = argparse.ArgumentParser(prog="smhr bench eval", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("reports/bench"),
                        help="folder for eval.json and eval.md (default: %(default)s)")
    parser.add_argument("--sets", nargs="+", choices=sorted(SIZES), default=sorted(SIZES), help="which set sizes to time")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of each set size (e.g. 0.1 for a quick run)")
    parser.add_argument("--mode", choices=("official", "strict"), default="official", help="alignment mode")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the synthetic data")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark; returns 0."""
    args = build_parser().parse_args(argv)
    results = {}
    for name in args.sets:
        n = max(1, int(round(SIZES[name] * args.scale)))
        rng = np.random.default_rng(args.seed)
        gj, pj = hand_like(rng, n, 21, 0.008)
        gv, pv = hand_like(rng, n, 778, 0.004)
        start = time.perf_counter()
        res = evaluate_mesh_benchmark(gj, gv, pj, pv, mode=args.mode, scale_translation=True, progress=True)
        seconds = time.perf_counter() - start
        results[name] = {
            "num_samples": n,
            "seconds": round(seconds, 2),
            "peak_rss_mib_so_far": round(peak_rss_mib(), 1),
            "pa_mpjpe_mm": round(res.metrics["pa_mpjpe_mm"], 4),
            "f5": round(res.metrics["f5"], 4),
        }
    report = {"machine": f"{platform.machine()} {platform.system()}", "mode": args.mode, "results": results,
              "note": f"timed on a {os.cpu_count()}-core CPU; wall-clock figures also depend on other load"}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "eval.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    lines = ["# smhr bench eval", "", f"Mode: {args.mode}. {report['note']}.", "",
             "| set | samples | seconds | peak RSS (MiB) | pa_mpjpe_mm | f5 |", "|---|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['num_samples']} | {r['seconds']} | {r['peak_rss_mib_so_far']} | {r['pa_mpjpe_mm']} | {r['f5']} |")
    (args.out / "eval.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
