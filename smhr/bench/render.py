"""Renderer benchmark: time and peak memory of ``render_hands`` (``smhr bench render``).

Each case (batch, hands, size, mode) runs in a fresh spawned process, so its peak resident
memory growth (``resource.getrusage(RUSAGE_SELF).ru_maxrss`` after minus before the runs, KiB on
Linux) is its own. Meshes: the procedural hand (or any MANO-format file) posed at random.
The dense all-pairs reference (pixels x faces) is not run where its autograd tensors would
exceed ``--dense-cap-gb``; the estimate is recorded instead.
Writes ``<out>.json`` (sorted keys, no timestamps) and ``<out>.md``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

DENSE_FLOATS_PER_PAIR = 40  # tensors autograd keeps per (pixel, face) pair in a dense SoftRas


def _scene(batch: int, hands: int, size: int, model_path: str | None, seed: int):
    import torch

    from smhr.hand.layer import HandModel
    from smhr.hand.procedural import ProceduralConfig, build_models

    model = HandModel.from_file(model_path) if model_path else HandModel(build_models(ProceduralConfig(pose_samples=400))[0])
    gen = torch.Generator().manual_seed(seed)
    n = batch * hands
    with torch.no_grad():
        v = model(global_orient=0.5 * torch.randn(n, 3, generator=gen), hand_pose=0.3 * torch.randn(n, 45, generator=gen)).vertices
    shift = torch.rand(n, 3, generator=gen) * torch.tensor([0.08, 0.08, 0.1]) + torch.tensor([-0.04, -0.04, 0.45])
    verts = (v - v.mean(1, keepdim=True) + shift[:, None]).view(batch, hands, -1, 3)
    focal = 250.0 * size / 128
    K = torch.tensor([[focal, 0, (size - 1) / 2], [0, focal, (size - 1) / 2], [0, 0, 1.0]]).expand(batch, hands, 3, 3)
    return verts, model.faces, K, torch.ones(batch, hands, dtype=torch.bool)


def _run_case(case: dict) -> dict:
    import torch

    from smhr.render import render_hands

    torch.set_num_threads(case["threads"])
    verts, faces, K, mask = _scene(case["batch"], case["hands"], case["size"], case["model"], case["seed"])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fwd, both = [], []
    for _ in range(case["repeats"]):
        v = verts.clone().requires_grad_(True)
        t0 = time.perf_counter()
        out = render_hands(v, faces, K, mask, (case["size"], case["size"]), mode=case["mode"])
        t1 = time.perf_counter()
        (out.alpha.sum() + out.depth.sum() + out.rgb.sum()).backward() if case["mode"] == "soft" else out.depth.sum().backward()
        t2 = time.perf_counter()
        fwd.append(t1 - t0)
        both.append(t2 - t0)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    pairs = case["batch"] * case["size"] ** 2 * case["hands"] * faces.shape[0]
    return {
        "forward_ms": 1000 * statistics.median(fwd),
        "forward_backward_ms": 1000 * statistics.median(both),
        "peak_rss_growth_mb": grown / 1024,
        "dense_reference": f"skipped: would need {pairs * DENSE_FLOATS_PER_PAIR * 4 / 1e9:.1f} GB",
    }


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark; returns the exit code."""
    parser = argparse.ArgumentParser(prog="smhr bench render", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="reports/bench/render", help="output path without extension (.json and .md are written)")
    parser.add_argument("--batch", type=int, default=8, help="images per batch")
    parser.add_argument("--hands", type=int, nargs="+", default=[1, 2, 4], help="hands per image, one case each")
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256], help="square image sizes in pixels")
    parser.add_argument("--modes", nargs="+", default=["soft", "sharp"], choices=["soft", "sharp"], help="render modes")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per case (the median is reported)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--model", default=None, help="MANO-format hand model file (default: procedural hand built in memory)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random poses and placements")
    parser.add_argument("--dense-cap-gb", type=float, default=4.0, help="largest estimated memory the dense reference may use")
    args = parser.parse_args(argv)
    results = {}
    ctx = multiprocessing.get_context("spawn")
    for size in args.sizes:
        for hands in args.hands:
            for mode in args.modes:
                case = dict(batch=args.batch, hands=hands, size=size, mode=mode, repeats=args.repeats,
                            threads=args.threads, model=args.model, seed=args.seed)
                with ctx.Pool(1) as pool:
                    results[f"b{args.batch}_h{hands}_{size}px_{mode}"] = pool.apply(_run_case, (case,))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = ["| case | forward ms | forward+backward ms | peak RSS growth MB | dense reference |", "|---|---|---|---|---|"]
    for name, r in results.items():
        rows.append(f"| {name} | {r['forward_ms']:.0f} | {r['forward_backward_ms']:.0f} | {r['peak_rss_growth_mb']:.0f} | {r['dense_reference']} |")
    for suffix, text in ((".json", json.dumps(results, indent=2, sort_keys=True) + "\n"), (".md", "\n".join(rows) + "\n")):
        fd, tmp = tempfile.mkstemp(dir=out.parent)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, out.with_suffix(suffix))
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
