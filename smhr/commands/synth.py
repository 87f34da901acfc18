"""``smhr synth``: render the synthetic single-hand dataset in FreiHAND's on-disk format.

Reads the ``synth`` section of ``params.yaml`` (and ``base.hand_model_right`` when
``synth.hand_model`` is null); command-line options override the few values one changes for a
quick run.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from smhr.commands import argtypes
from smhr.config import load_section, read_params
from smhr.errors import ModelFileError, UsageError
from smhr.outputs import check_output_dir

MIN_IMAGE_SIZE = 8
"""Smallest ``--image-size`` (the same bound as :meth:`smhr.data.synth.generate.SynthConfig.validate`)."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--params", type=Path, default=Path("params.yaml"), help="params file (default: params.yaml)")
    parser.add_argument("--out", type=Path, default=None, help="dataset root to write (default: synth.out)")
    parser.add_argument(
        "--num-training", type=argtypes.count, default=None,
        help="training samples, >= 0 (default: synth.num_training); the two counts must not both be 0",
    )
    parser.add_argument(
        "--num-evaluation", type=argtypes.count, default=None, help="evaluation samples, >= 0 (default: synth.num_evaluation)"
    )
    parser.add_argument(
        "--image-size", type=argtypes.int_at_least(MIN_IMAGE_SIZE), default=None,
        help=f"image side in pixels, >= {MIN_IMAGE_SIZE} (default: synth.image_size)",
    )
    parser.add_argument("--seed", type=argtypes.seed, default=None, help="base random seed, >= 0 (default: synth.seed)")
    parser.add_argument(
        "--hand-model", type=Path, default=None,
        help="MANO-format hand model file (default: synth.hand_model, else base.hand_model_right)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def run(args: argparse.Namespace) -> int:
    """Reads the config, checks every value and the output folder, then renders the dataset."""
    from smhr.data.synth.generate import SynthConfig, synthesize  # torch is imported only when the command runs

    cfg = load_section(SynthConfig, "synth", args.params)
    overrides = {
        "out": args.out, "num_training": args.num_training, "num_evaluation": args.num_evaluation,
        "image_size": args.image_size, "seed": args.seed,
    }
    cfg = dataclasses.replace(cfg, **{k: v for k, v in overrides.items() if v is not None})
    if cfg.num_training == 0 and cfg.num_evaluation == 0 and (args.num_training, args.num_evaluation) != (None, None):
        raise UsageError("--num-training and --num-evaluation are both 0: nothing to write; give at least one > 0")
    cfg.validate(f"{args.params}:synth")
    check_output_dir(cfg.out, "--out" if args.out is not None else f"{args.params}:synth.out")
    hand_model = args.hand_model or cfg.hand_model or read_params(args.params).get("base", {}).get("hand_model_right")
    if hand_model is None or not Path(hand_model).is_file():
        raise ModelFileError(
            f"{hand_model}: hand model file not found; run 'smhr hand-model' first or set synth.hand_model / "
            "base.hand_model_right in params.yaml"
        )
    result = synthesize(cfg, Path(hand_model), progress=not args.no_progress)
    print(
        f"wrote {result.num_training} training + {result.num_evaluation} evaluation samples to {result.root} "
        f"in {result.seconds:.1f} s ({result.images_per_s:.1f} images/s)"
    )
    return 0
