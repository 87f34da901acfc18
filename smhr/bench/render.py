"""Renderer benchmark: time and peak memory of ``render_hands`` and of the dense reference (``smhr bench render``).

Each case (batch, hands, size, mode) runs in a fresh spawned process, so its peak resident
memory growth (:func:`smhr.bench.memory.peak_rss_mib` after minus before the runs) is its own. Meshes: the procedural hand (or any MANO-format file) posed at random.
For the sizes in ``--dense-sizes``, the same case also runs through the dense all-pairs reference
:func:`smhr.render.dense.render_hands_dense` in another fresh process, in chunks sized so that
one chunk needs about ``--dense-cap-gb``. Its duration is first estimated from one chunk; a case
whose estimate exceeds ``--dense-max-seconds`` records ``skipped: estimated N s`` (and the
estimate) instead of running. ``speedup_forward_backward`` is dense / ``render_hands``.
Writes ``<out>/render.json`` (sorted keys, no timestamps) and ``<out>/render.md``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import tempfile
import time
from pathlib import Path

from smhr.bench.memory import peak_rss_mib

DENSE_BYTES_PER_PAIR = {"soft": 400, "sharp": 100}
"""Peak RSS growth per (sample, face) pair of one dense chunk, float32, forward+backward. Soft: the
chunk's tensors live during its recomputing backward pass take about 200 B per pair (measured
with glibc's mmap threshold fixed at 128 KiB); glibc's default heap keeps about as much again.
Sharp: about 80 B, no gradients over the pairs."""
DENSE_KEYS = ("dense_forward_ms", "dense_forward_backward_ms", "dense_peak_rss_growth_mb", "dense_pairs_per_s",
              "dense_pixels_per_chunk", "dense_estimated_forward_backward_ms", "speedup_forward_backward")


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


def _loss(out, mode: str):
    return out.alpha.sum() + out.depth.sum() + out.rgb.sum() if mode == "soft" else out.depth.sum()


def _timed(render, verts, repeats: int, mode: str) -> tuple[list[float], list[float]]:
    """Forward and forward+backward seconds of ``repeats`` runs of ``render(verts)``."""
    fwd, both = [], []
    for _ in range(repeats):
        v = verts.clone().requires_grad_(True)
        t0 = time.perf_counter()
        out = render(v)
        t1 = time.perf_counter()
        _loss(out, mode).backward()
        t2 = time.perf_counter()
        fwd.append(t1 - t0)
        both.append(t2 - t0)
    return fwd, both


def _run_case(case: dict) -> dict:
    import torch

    from smhr.render import render_hands

    torch.set_num_threads(case["threads"])
    verts, faces, K, mask = _scene(case["batch"], case["hands"], case["size"], case["model"], case["seed"])
    before = peak_rss_mib()
    size = (case["size"], case["size"])
    fwd, both = _timed(lambda v: render_hands(v, faces, K, mask, size, mode=case["mode"]), verts, case["repeats"], case["mode"])
    return {
        "forward_ms": 1000 * statistics.median(fwd),
        "forward_backward_ms": 1000 * statistics.median(both),
        "peak_rss_growth_mb": peak_rss_mib() - before,
    }


def _run_dense_case(case: dict) -> dict:
    """The case through ``render_hands_dense``: estimated from one chunk, run if under the cap."""
    import torch

    from smhr.render import RenderSettings
    from smhr.render.dense import render_hands_dense

    torch.set_num_threads(case["threads"])
    verts, faces, K, mask = _scene(case["batch"], case["hands"], case["size"], case["model"], case["seed"])
    mode, size = case["mode"], case["size"]
    per_pixel = 1 if mode == "soft" else RenderSettings().supersample ** 2
    faces_per_image = case["hands"] * faces.shape[0]
    chunk = max(1, int(case["dense_cap_gb"] * 1e9 / (DENSE_BYTES_PER_PAIR[mode] * faces_per_image)))
    before = peak_rss_mib()
    render_hands_dense(verts[:1], faces, K[:1], mask[:1], (1, 1), mode=mode)  # first-call set-up, not timed
    # Estimate: the first rows of image 0 holding about one chunk; the cost per pair does not
    # depend on what the pixels show.
    rows = max(1, chunk // (per_pixel * size))
    _, probe = _timed(lambda v: render_hands_dense(v, faces, K[:1], mask[:1], (rows, size), mode=mode, pixels_per_chunk=chunk),
                      verts[:1], 2, mode)  # the first run also pays for fresh memory
    estimate = min(probe) * case["batch"] * size / rows
    result = {"dense_pixels_per_chunk": chunk, "dense_estimated_forward_backward_ms": 1000 * estimate}
    if estimate > case["dense_max_seconds"]:
        return {**result, "dense_reference": f"skipped: estimated {estimate:.0f} s"}
    fwd, both = _timed(lambda v: render_hands_dense(v, faces, K, mask, (size, size), mode=mode, pixels_per_chunk=chunk),
                       verts, case["dense_repeats"], mode)
    grown = peak_rss_mib() - before
    pairs = case["batch"] * size * size * per_pixel * faces_per_image
    return {**result, "dense_reference": "run", "dense_forward_ms": 1000 * statistics.median(fwd),
            "dense_forward_backward_ms": 1000 * statistics.median(both), "dense_peak_rss_growth_mb": grown,
            "dense_pairs_per_s": pairs / statistics.median(both)}


def _row(name: str, r: dict) -> str:
    ours = f"| {name} | {r['forward_ms']:.0f} | {r['forward_backward_ms']:.0f} | {r['peak_rss_growth_mb']:.0f} |"
    if r["dense_forward_ms"] is not None:
        return ours + (f" {r['dense_forward_ms']:.0f} | {r['dense_forward_backward_ms']:.0f} | "
                       f"{r['dense_peak_rss_growth_mb']:.0f} | {r['speedup_forward_backward']:.1f} |")
    if r["dense_estimated_forward_backward_ms"] is not None:
        estimated = r["dense_estimated_forward_backward_ms"] / r["forward_backward_ms"]
        return ours + f" {r['dense_reference']} | - | - | ~{estimated:.0f} (estimated) |"
    return ours + f" {r['dense_reference']} | - | - | - |"


def build_parser() -> argparse.ArgumentParser:
    """Options of the renderer benchmark."""
    parser = argparse.ArgumentParser(prog="smhr bench render", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("reports/bench"),
                        help="folder for render.json and render.md (default: %(default)s)")
    parser.add_argument("--batch", type=int, default=8, help="images per batch")
    parser.add_argument("--hands", type=int, nargs="+", default=[1, 2, 4], help="hands per image, one case each")
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256], help="square image sizes in pixels")
    parser.add_argument("--modes", nargs="+", default=["soft", "sharp"], choices=["soft", "sharp"], help="render modes")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per case (the median is reported)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--model", default=None, help="MANO-format hand model file (default: procedural hand built in memory)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random poses and placements")
    parser.add_argument("--dense-sizes", type=int, nargs="*", default=[128, 256],
                        help="sizes whose cases also run the dense all-pairs reference (give no value for none)")
    parser.add_argument("--dense-cap-gb", type=float, default=1.0, help="memory one dense chunk may use (sets the pixels per chunk)")
    parser.add_argument("--dense-max-seconds", type=float, default=600.0,
                        help="time cap per dense case: estimated from one chunk first, skipped (estimate recorded) above it")
    parser.add_argument("--dense-repeats", type=int, default=1, help="timed dense runs per case (the median is reported)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark; returns the exit code."""
    args = build_parser().parse_args(argv)
    results = {}
    ctx = multiprocessing.get_context("spawn")
    for size in args.sizes:
        for hands in args.hands:
            for mode in args.modes:
                case = dict(batch=args.batch, hands=hands, size=size, mode=mode, repeats=args.repeats,
                            threads=args.threads, model=args.model, seed=args.seed, dense_cap_gb=args.dense_cap_gb,
                            dense_max_seconds=args.dense_max_seconds, dense_repeats=args.dense_repeats)
                result = {"dense_reference": "not requested", **dict.fromkeys(DENSE_KEYS)}
                with ctx.Pool(1) as pool:
                    result.update(pool.apply(_run_case, (case,)))
                if size in args.dense_sizes:
                    with ctx.Pool(1) as pool:
                        result.update(pool.apply(_run_dense_case, (case,)))
                if result["dense_forward_backward_ms"] is not None:
                    result["speedup_forward_backward"] = result["dense_forward_backward_ms"] / result["forward_backward_ms"]
                results[f"b{args.batch}_h{hands}_{size}px_{mode}"] = result
    args.out.mkdir(parents=True, exist_ok=True)
    rows = ["| case | forward ms | forward+backward ms | peak RSS growth MB | dense forward ms | dense forward+backward ms "
            "| dense peak RSS growth MB | dense / ours (forward+backward) |", "|---|---|---|---|---|---|---|---|"]
    rows += [_row(name, r) for name, r in results.items()]
    for suffix, text in ((".json", json.dumps(results, indent=2, sort_keys=True) + "\n"), (".md", "\n".join(rows) + "\n")):
        fd, tmp = tempfile.mkstemp(dir=args.out)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, args.out / f"render{suffix}")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
