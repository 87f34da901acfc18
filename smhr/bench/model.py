"""``smhr bench model``: inference cost of the single-stage network and the two-stage baseline.

Per profile (``cpu``: ``params.yaml:model``; ``paper``: ResNet-50, width 1.0, 384 px, neck 256,
heads 64, crops 224) and per architecture, in one fresh process each (so the peak memory is the
case's own):

* ``latency_ms``: time per image at batch 1 for images holding 1, 2, 4 and 8 hands: backbone,
  heads, decoding and the hand model (and, for the two-stage baseline, the crops and the
  regressor). The decoder is **forced** to return exactly n hands by replacing the centre logits
  with a synthetic map holding n peaks (spread over the image, sides alternating), so the timing
  measures the hand-count dependence and nothing else; the image is random (its content does
  not change the compute once the centres are fixed). The hand counts are timed interleaved,
  repeat by repeat, so slow drifts of a shared machine hit them alike; median of the repeats
  after warm-up calls;
* ``ratio_t8_t1``: ``latency_ms["8"] / latency_ms["1"]`` (issue #10's goal for the single-stage
  network: <= 1.05; the baseline's is expected >= 4);
* ``throughput_img_per_s``: images per second at ``--batch-size`` (``--paper-batch-size``) with
  :data:`BATCHED_HANDS` hands per image (the composed set's typical count);
* ``params_m``: parameters in millions; ``gflops``: ``torch.utils.flop_counter.FlopCounterMode``'s
  count of one image with one hand (multiply-add = 2 FLOPs; sampling ops such as ``grid_sample``
  are not counted);
* ``peak_memory_mb``: the case process's peak resident memory (MiB, :mod:`smhr.bench.memory`)
  above its peak before the model was built.

Times are **process CPU time** with one torch thread by default (``--threads``): on a shared
machine that is the compute the inference needs, the latency an idle core would give, while wall
time also counts waiting for the CPU; the wall-time medians are stored beside (``wall``). Results:
``<out>/model.json`` (sorted keys, no timestamps) and ``model.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import multiprocessing
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

from smhr.config import from_dict
from smhr.model.config import ModelConfig

HANDS = (1, 2, 4, 8)
"""Hands per image of the batch-1 latencies."""
BATCHED_HANDS = 2
"""Hands per image of the batched throughput."""
GOAL = 1.05
"""Issue #10: single-stage t(8 hands) / t(1 hand) at most this."""
ARCHITECTURES = ("single_stage", "two_stage")
PAPER = dict(backbone="resnet50", width=1.0, norm="batch", neck_channels=256, head_channels=64, input_size=384,
             crop_size=224)
"""The paper profile's overrides of the model section (docs/model.md)."""


def build_parser() -> argparse.ArgumentParser:
    """Options of the inference benchmark."""
    p = argparse.ArgumentParser(prog="smhr bench model", description=__doc__.splitlines()[0])
    p.add_argument("--params", type=Path, default=Path("params.yaml"),
                   help="params file whose model section is the cpu profile (default: %(default)s; "
                        "built-in defaults if absent)")
    p.add_argument("--profiles", nargs="+", choices=("cpu", "paper"), default=["cpu", "paper"],
                   help="profiles to measure (default: both)")
    p.add_argument("--repeats", type=int, default=15, help="timed repeats per hand count, cpu profile (default: %(default)s)")
    p.add_argument("--paper-repeats", type=int, default=3, help="timed repeats, paper profile (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=8, help="images per batch for throughput, cpu profile (default: %(default)s)")
    p.add_argument("--paper-batch-size", type=int, default=2,
                   help="images per batch for throughput, paper profile (default: %(default)s)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and images (default: %(default)s)")
    p.add_argument("--out", type=Path, default=Path("reports/bench"), help="output folder (default: %(default)s)")
    return p


def forced_centers(batch: int, hands: int, size: int) -> torch.Tensor:
    """(batch, 2, size, size) centre logits with exactly ``hands`` peaks per image, spread on a grid.

    Peaks are 10 (score 0.99995), everything else -10; sides alternate left, right.
    """
    logits = torch.full((batch, 2, size, size), -10.0)
    cols = math.ceil(math.sqrt(hands))
    rows = math.ceil(hands / cols)
    for i in range(hands):
        r, c = divmod(i, cols)
        logits[:, i % 2, int((r + 0.5) * size / rows), int((c + 0.5) * size / cols)] = 10.0
    return logits


def _runner(model: torch.nn.Module, batch: int, hands: int, seed: int) -> Callable[[], object]:
    """One inference of ``batch`` random images whose decoder returns exactly ``hands`` hands each."""
    size = model.cfg.input_size
    x = torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(seed))
    center = forced_centers(batch, hands, size // model.cfg.stride)

    def run() -> object:
        with torch.no_grad():
            pred = model.decode(model(x)._replace(center=center))
        if int(pred.mask.sum()) != batch * hands:
            raise RuntimeError(f"forced decoding gave {int(pred.mask.sum())} hands, not {batch * hands}")
        return pred

    return run


def _times(fn: Callable[[], object]) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return 1000.0 * (time.perf_counter() - w0), 1000.0 * (time.process_time() - c0)


def measure_case(cfg: ModelConfig, repeats: int, batch: int, threads: int, seed: int) -> dict:
    """Every figure of one profile and architecture (run it in a fresh process: peak memory)."""
    from torch.utils.flop_counter import FlopCounterMode

    from smhr.bench.memory import peak_rss_mib
    from smhr.hand.layer import HandModel
    from smhr.hand.procedural import ProceduralConfig, build_models
    from smhr.model.build import build_model

    torch.set_num_threads(threads)
    right, left = (HandModel(d) for d in build_models(ProceduralConfig(pose_samples=400)))
    base = peak_rss_mib()
    torch.manual_seed(seed)
    model = build_model(cfg, right, left).eval()
    runs = {n: _runner(model, 1, n, seed) for n in HANDS}
    for fn in runs.values():  # warm-up
        fn()
    wall: dict[int, list[float]] = {n: [] for n in HANDS}
    cpu: dict[int, list[float]] = {n: [] for n in HANDS}
    for _ in range(repeats):
        for n, fn in runs.items():
            w, c = _times(fn)
            wall[n].append(w)
            cpu[n].append(c)
    batched = _runner(model, batch, BATCHED_HANDS, seed)
    batched()
    bw, bc = zip(*(_times(batched) for _ in range(max(1, repeats // 2))))
    with FlopCounterMode(display=False) as counter:
        runs[1]()
    latency = {str(n): round(statistics.median(cpu[n]), 3) for n in HANDS}
    return {
        "latency_ms": latency,
        "ratio_t8_t1": round(statistics.median(cpu[8]) / statistics.median(cpu[1]), 4),
        "params_m": round(sum(p.numel() for p in model.parameters()) / 1e6, 4),
        "gflops": round(counter.get_total_flops() / 1e9, 4),
        "throughput_img_per_s": round(1000.0 * batch / statistics.median(bc), 3),
        "peak_memory_mb": round(peak_rss_mib() - base, 1),
        "wall": {"latency_ms": {str(n): round(statistics.median(wall[n]), 3) for n in HANDS},
                 "throughput_img_per_s": round(1000.0 * batch / statistics.median(bw), 3)},
    }


def _in_fresh_process(*args) -> dict:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(measure_case, args)


def profile_config(name: str, params: Path) -> ModelConfig:
    """The model config of profile ``name`` (``cpu``: the params file's model section)."""
    from smhr.config import read_params

    cpu = from_dict(ModelConfig, read_params(params).get("model"), f"{params}:model") if params.is_file() else ModelConfig()
    cpu = dataclasses.replace(cpu, pretrained=None)
    return cpu if name == "cpu" else dataclasses.replace(cpu, **PAPER)


def write_report(result: dict, out: Path) -> None:
    """Writes ``model.json`` and the markdown table ``model.md``."""
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / ".model.json.tmp"
    tmp.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, out / "model.json")
    lines = ["# Inference cost: single-stage network vs two-stage baseline", "",
             f"{result['note']} Latency: process CPU time per image at batch 1, median of the repeats after a "
             f"warm-up, {result['threads']} torch thread(s); the decoder is forced to return exactly n hands "
             "(synthetic centre map). Throughput: batched, "
             f"{BATCHED_HANDS} hands per image. GFLOPs: one image, one hand. Memory: the case process's peak RSS "
             "above its peak before the model was built (MiB).", ""]
    for prof, methods in result["profiles"].items():
        cfg = result["configs"][prof]
        lines += [f"## Profile `{prof}`: {cfg['backbone']} x{cfg['width']}, {cfg['input_size']} px, neck "
                  f"{cfg['neck_channels']}, heads {cfg['head_channels']}, crops {cfg['crop_size']} px; "
                  f"{result['repeats'][prof]} repeats, batch {result['batch_size'][prof]}", "",
                  "| method | 1 hand ms | 2 hands ms | 4 hands ms | 8 hands ms | t8/t1 | params M | GFLOPs | img/s batched "
                  "| peak MiB | wall ms 1 / 8 hands |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for name, m in methods.items():
            lat, wl = m["latency_ms"], m["wall"]["latency_ms"]
            lines.append(f"| {name} | {lat['1']:.1f} | {lat['2']:.1f} | {lat['4']:.1f} | {lat['8']:.1f} | "
                         f"**{m['ratio_t8_t1']:.3f}** | {m['params_m']:.2f} | {m['gflops']:.2f} | "
                         f"{m['throughput_img_per_s']:.1f} | {m['peak_memory_mb']:.0f} | {wl['1']:.1f} / {wl['8']:.1f} |")
        lines.append("")
    single = result["profiles"].get("cpu", {}).get("single_stage")
    if single:
        lines += [f"Goal (issue #10): single-stage t8/t1 <= {GOAL} on CPU: "
                  f"**{'met' if single['ratio_t8_t1'] <= GOAL else 'missed'}** ({single['ratio_t8_t1']:.3f}).", ""]
    lines += [f"Command: `{result['command']}`", ""]
    tmp = out / ".model.md.tmp"
    tmp.write_text("\n".join(lines))
    os.replace(tmp, out / "model.md")


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark. Returns the exit code."""
    args = build_parser().parse_args(argv)
    for name in ("repeats", "paper_repeats", "batch_size", "paper_batch_size", "threads"):
        if getattr(args, name) < 1:
            from smhr.errors import ConfigError

            raise ConfigError(f"--{name.replace('_', '-')}: must be >= 1, got {getattr(args, name)}")
    repeats = {"cpu": args.repeats, "paper": args.paper_repeats}
    batch = {"cpu": args.batch_size, "paper": args.paper_batch_size}
    profiles, configs = {}, {}
    for prof in args.profiles:
        cfg = profile_config(prof, args.params)
        configs[prof] = {k: getattr(cfg, k) for k in ("backbone", "width", "input_size", "neck_channels",
                                                      "head_channels", "crop_size", "max_hands")}
        profiles[prof] = {}
        for arch in ARCHITECTURES:
            print(f"smhr bench model: {prof} / {arch} ...", file=sys.stderr, flush=True)
            profiles[prof][arch] = _in_fresh_process(dataclasses.replace(cfg, architecture=arch), repeats[prof],
                                                     batch[prof], args.threads, args.seed)
    result = {
        "profiles": profiles,
        "threads": args.threads,
        "batch_size": {p: batch[p] for p in args.profiles},
        "repeats": {p: repeats[p] for p in args.profiles},
        "batched_hands_per_image": BATCHED_HANDS,
        "configs": configs,
        "goal_ratio_t8_t1": GOAL,
        "clock": "process_cpu",
        "command": " ".join(["smhr", "bench", "model", *(argv if argv is not None else sys.argv[1:])]),
        "machine": platform.machine(),
        "note": f"Timed on a shared {os.cpu_count()}-core CPU (other jobs running).",
    }
    write_report(result, args.out)
    print((args.out / "model.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
