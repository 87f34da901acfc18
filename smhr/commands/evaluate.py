"""``smhr evaluate``: score predictions with a benchmark's official protocol.

Writes the metrics JSON (sorted keys, units in names, no timestamps) and, on request, one CSV
row per evaluated sample. Options default to the ``evaluate`` section of ``params.yaml`` when
``--params`` is given; command-line flags override it.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from smhr.commands import argtypes
from smhr.config import load_section
from smhr.errors import UsageError
from smhr.eval.protocols import PROTOCOLS, EvalOptions, evaluate_files, expected_size_note
from smhr.eval.result import MODES, write_metrics, write_per_sample_csv
from smhr.outputs import check_output_file, staged_files

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvaluateConfig:
    """The ``evaluate`` section of ``params.yaml`` (defaults of the command-line options)."""

    mode: Literal["official", "strict"] = "official"
    match: Literal["iou", "centre"] = "iou"
    match_threshold: float = 0.5
    min_score: float = 0.0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--protocol", required=True, choices=PROTOCOLS, help="which benchmark's protocol to apply")
    parser.add_argument(
        "--pred", required=True, type=Path,
        help="prediction file: pred.json or pred.zip (freihand, ho3d-*), or the JSON formats in docs/evaluation.md",
    )
    parser.add_argument(
        "--gt", required=True, type=Path,
        help="ground truth: dir with evaluation_xyz.json + evaluation_verts.json (freihand, ho3d-*), the "
        "InterHand2.6M annotation dir (*_data.json, *_camera.json, *_joint_3d.json), RHD's evaluation dir "
        "(anno_evaluation.pickle + mask/), or the multi-hand ground-truth JSON",
    )
    parser.add_argument("--out", required=True, type=Path, help="metrics JSON to write")
    parser.add_argument("--per-sample-csv", type=Path, default=None, help="also write per-sample errors to this CSV")
    parser.add_argument("--params", type=Path, default=None, help="read option defaults from this params.yaml's 'evaluate' section")
    parser.add_argument(
        "--mode", choices=MODES, default=None,
        help="official: reproduce the official script with its quirks (mirror-allowing Procrustes); "
        "strict: proper rotations (det +1). Default: official",
    )
    parser.add_argument("--match", choices=("iou", "centre"), default=None, help="multihand: match by box IoU or box-centre distance (default iou)")
    parser.add_argument("--match-threshold", type=argtypes.float_at_least(0.0), default=None, help="multihand: IoU >= this, or centre distance <= this many pixels (default 0.5)")
    parser.add_argument("--min-score", type=argtypes.finite_float, default=None, help="multihand: ignore predictions below this score for per-hand metrics (default 0)")
    parser.add_argument("--progress", action="store_true", help="show progress bars")


def run(args: argparse.Namespace) -> int:
    """Checks the output paths, evaluates, then writes the metrics JSON (and CSV) together."""
    check_output_file(args.out, "--out")
    if args.per_sample_csv is not None:
        check_output_file(args.per_sample_csv, "--per-sample-csv")
        if args.per_sample_csv.resolve() == args.out.resolve():
            raise UsageError(f"--per-sample-csv {args.per_sample_csv}: is the same file as --out; give another path")
    cfg = load_section(EvaluateConfig, "evaluate", args.params) if args.params else EvaluateConfig()
    options = EvalOptions(
        mode=args.mode or cfg.mode,
        match=args.match or cfg.match,
        match_threshold=cfg.match_threshold if args.match_threshold is None else args.match_threshold,
        min_score=cfg.min_score if args.min_score is None else args.min_score,
        progress=args.progress,
    )
    result = evaluate_files(args.protocol, args.pred, args.gt, options)
    note = expected_size_note(args.protocol, int(result.metrics.get("num_samples", 0)))
    if note:
        log.warning(note)
    with staged_files() as staged:  # both files appear together, or neither does
        if args.per_sample_csv is not None:
            write_per_sample_csv(result, staged.path(args.per_sample_csv))
        write_metrics(result, staged.path(args.out), extra={"protocol": args.protocol, "mode": options.mode})
    summary = ", ".join(f"{k}={v:.4g}" for k, v in sorted(result.metrics.items()) if isinstance(v, float))
    log.info("%s (%s): %s", args.protocol, options.mode, summary)
    return 0
