"""``smhr benchmark``: a checkpoint (or the mean-hand baseline) on every benchmark of ``params.yaml:benchmark``.

Thin over :mod:`smhr.benchmark`: checks the options, ``--out`` and every benchmark's paths before any
work (a null root skips the benchmark with one log line; a set root that does not exist is an
error naming its key), loads the predictor, then runs each benchmark into ``--out``:
``<bench>.json``, ``<bench>_pck.csv``, ``<bench>_per_sample.csv``, ``<bench>_pred.json`` (see
:mod:`smhr.benchmark.run`). The metrics are ``smhr evaluate``'s on the written prediction file, with
the options of ``params.yaml:evaluate``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from smhr.benchmark.config import BenchmarkSection
from smhr.benchmark.registry import BENCHMARKS, Benchmark
from smhr.commands import argtypes
from smhr.config import DEFAULT_PARAMS, from_dict, load_section, read_params
from smhr.errors import ConfigError, UsageError
from smhr.outputs import check_output_dir

log = logging.getLogger(__name__)

HEADLINE = ("pa_mpjpe_mm", "pa_mpvpe_mm", "f5", "f15", "auc_pa_0_50mm", "ap", "recall", "handedness_acc",
            "epe3d_mean_mm", "mpjpe_all_mm", "num_no_detection")
"""Metrics named in the log line of a finished benchmark (those the protocol has)."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Adds the options of ``smhr benchmark``."""
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--checkpoint", type=Path, help="model.pt written by smhr train (single- or two-stage)")
    who.add_argument("--mean-hand", action="store_true",
                     help="the mean-hand baseline instead of a model: the mean MANO pose and shape of "
                          "train.data.single_root's training split, placed at every labelled hand's box "
                          "(it is given the ground-truth boxes and sides: an upper bound on detection)")
    parser.add_argument("--out", required=True, type=Path,
                        help="output folder, e.g. metrics/<method>/seed<S>: per benchmark <bench>.json, "
                             "<bench>_pck.csv, <bench>_per_sample.csv, <bench>_pred.json")
    parser.add_argument("--benchmarks", nargs="+", choices=tuple(BENCHMARKS), metavar="NAME", default=None,
                        help=f"benchmarks to run, of {', '.join(BENCHMARKS)} (default: all; those whose root "
                             f"is null in params.yaml:benchmark are skipped)")
    parser.add_argument("--params", type=Path, default=DEFAULT_PARAMS,
                        help="params file: its 'benchmark', 'evaluate', 'base' and (--mean-hand) 'train' sections "
                             "(default: %(default)s)")
    parser.add_argument("--batch-size", type=argtypes.positive, default=None,
                        help="images per forward pass (default: benchmark.batch_size)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="where the network runs (default: cpu)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def active_benchmarks(section: BenchmarkSection, names: list[str], params: Path) -> list[Benchmark]:
    """The benchmarks to run: those of ``names`` whose paths are all set and exist.

    Raises:
        ConfigError: a path that is set but does not exist (naming ``params.yaml:benchmark.<key>``).
    """
    active = []
    for name in names:
        bench = BENCHMARKS[name]
        paths = bench.paths(section)
        unset = [key for key, value in paths.items() if value is None]
        if unset:
            log.info("benchmark %s: skipped (%s:benchmark.%s is null)", name, params, unset[0])
            continue
        for key, value in paths.items():
            if not Path(value).exists():
                raise ConfigError(f"{params}:benchmark.{key} = {value}: not found; point it at the {name} data "
                                  f"({bench.description}) or set it to null to skip the benchmark")
        active.append(bench)
    return active


def _mean_hand_predictor(params: Path, data: dict):
    from smhr.benchmark.predictors import MeanHandPredictor
    from smhr.model.build import load_hand_models
    from smhr.train.mean_hand import mean_hand_from_freihand

    base = data.get("base") or {}
    right, left = (base.get(f"hand_model_{side}") for side in ("right", "left"))
    if not (right and left):
        raise ConfigError(f"{params}:base: set hand_model_right and hand_model_left (run `smhr hand-model`)")
    root = ((data.get("train") or {}).get("data") or {}).get("single_root")
    if not root:
        raise ConfigError(f"{params}:train.data.single_root: not set; --mean-hand averages that set's training split")
    mean = mean_hand_from_freihand(root, "training")
    log.info("mean hand of %d training hands of %s", mean.count, root)
    hand_right, hand_left = load_hand_models(right, left)
    return MeanHandPredictor(mean, (hand_left, hand_right))


def _network_predictor(checkpoint: Path, device: str):
    import torch

    from smhr.benchmark.predictors import NetworkPredictor
    from smhr.model.checkpoint import load_checkpoint

    if device == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA device is visible; use --device cpu")
    net, _ = load_checkpoint(checkpoint, map_location="cpu")
    return NetworkPredictor(net, checkpoint, device)


def run(args: argparse.Namespace) -> int:
    """Checks everything, then runs each benchmark (its files appear together when it is done)."""
    from smhr.benchmark.run import RunOptions, run_benchmark
    from smhr.commands.evaluate import EvaluateConfig
    from smhr.eval.protocols import EvalOptions

    out = check_output_dir(args.out, "--out")
    if args.checkpoint is not None and not args.checkpoint.is_file():
        raise UsageError(f"--checkpoint {args.checkpoint}: file not found; give a model.pt written by smhr train")
    data = read_params(args.params)
    section = load_section(BenchmarkSection, "benchmark", args.params)
    batch_size = args.batch_size if args.batch_size is not None else section.batch_size
    if batch_size < 1:
        raise ConfigError(f"{args.params}:benchmark.batch_size = {batch_size}: must be >= 1")
    ev = from_dict(EvaluateConfig, data.get("evaluate"), f"{args.params}:evaluate")
    options = RunOptions(batch_size, EvalOptions(ev.mode, ev.match, ev.match_threshold, ev.min_score),
                         progress=not args.no_progress)
    benches = active_benchmarks(section, args.benchmarks or list(BENCHMARKS), args.params)
    if not benches:
        log.info("no benchmark to run: set their roots in %s:benchmark", args.params)
        return 0
    predictor = (_mean_hand_predictor(args.params, data) if args.mean_hand
                 else _network_predictor(args.checkpoint, args.device))
    for bench in benches:
        outcome = run_benchmark(bench, bench.open(section), predictor, out, options)
        shown = ", ".join(f"{k}={outcome.metrics[k]:.4g}" for k in HEADLINE
                          if isinstance(outcome.metrics.get(k), (int, float)))
        log.info("benchmark %s: %d images in %.1f s: %s -> %s", bench.name, outcome.metrics["num_images"],
                 outcome.seconds, shown, out / f"{bench.name}.json")
    return 0
