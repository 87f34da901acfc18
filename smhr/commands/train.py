"""``smhr train``: train one named stage of one variant (``params.yaml:train``) into a folder.

Thin over :func:`smhr.train.run.run_stage`. Under ``torchrun`` (``python -m torch.distributed.run
--nproc-per-node N -m smhr train ...``) every process runs this command; the trainer shards each
global batch by rank and only rank 0 writes files (docs/training.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

from smhr.config import DEFAULT_PARAMS, load_section, read_params
from smhr.errors import ConfigError, UsageError
from smhr.outputs import check_output_dir


def configure(parser: argparse.ArgumentParser) -> None:
    """Adds the options of ``smhr train``."""
    parser.add_argument("--params", type=Path, default=DEFAULT_PARAMS,
                        help="params file: its 'train', 'model' and 'base' sections (default: %(default)s)")
    parser.add_argument("--stage", required=True,
                        help="stage name of train.stages (localize, reproject, render, multi), or 'all' for a "
                             "variant with stagewise: false")
    parser.add_argument("--variant", default="main",
                        help="main (the unmodified schedule) or a name of train.variants (default: %(default)s)")
    parser.add_argument("--out", required=True, type=Path,
                        help="output folder: model.pt, metrics.json, live/, config.yaml, state.pt")
    parser.add_argument("--init", type=Path, default=None,
                        help="output folder of the previous stage (its model.pt initialises this one); default: "
                             "the sibling OUT/../<previous stage>; ignored for the first stage, which starts from "
                             "scratch or model.pretrained")
    parser.add_argument("--seed", type=int, default=None,
                        help="base seed of this run (initialisation, data order, augmentation); default: "
                             "params.yaml train.seed. The study trains every variant with several seeds")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/state.pt (bitwise the same result)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="cpu, or cuda (under torchrun each process takes cuda:LOCAL_RANK) (default: %(default)s)")
    parser.add_argument("--amp", choices=("none", "bf16", "fp16"), default="none",
                        help="mixed precision on CUDA (default: %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    """Checks options, paths and config before any work, then trains the stage."""
    from smhr.model.config import ModelConfig
    from smhr.train.config import parse_train_config
    from smhr.train.run import previous_stage, run_stage, stage_config
    from smhr.train.trainer import STATE_FILE, Runtime

    out = check_output_dir(args.out, "--out")
    if args.amp != "none" and args.device != "cuda":
        raise UsageError(f"--amp {args.amp}: mixed precision needs --device cuda; use --amp none on the CPU")
    params = read_params(args.params)
    if "train" not in params:
        raise ConfigError(f"{args.params}: section 'train' not found; add it (see docs/training.md)")
    cfg = parse_train_config(params["train"], f"{args.params}:train")
    if args.seed is not None:
        if args.seed < 0:
            raise UsageError(f"--seed {args.seed}: must be >= 0")
        cfg = dataclasses.replace(cfg, seed=args.seed)
    model_cfg = load_section(ModelConfig, "model", args.params)
    base = params.get("base") or {}
    hands = tuple(base.get(f"hand_model_{side}") for side in ("right", "left"))
    if not all(hands):
        raise ConfigError(f"{args.params}:base: set hand_model_right and hand_model_left (run `smhr hand-model`)")
    _, names = stage_config(cfg, args.stage, args.variant)
    prev = previous_stage(names, args.stage)
    init = None
    if prev is not None:
        init = args.init if args.init is not None else out.parent / prev
        if not (init / "model.pt").is_file():
            hint = "--init DIR" if args.init is not None else f"--init DIR (default {init} is derived from --out)"
            raise UsageError(f"{init / 'model.pt'}: the previous stage {prev!r} has no model; train it first "
                             f"or pass {hint}")
    if args.resume and not (out / STATE_FILE).is_file():
        raise UsageError(f"--resume: {out / STATE_FILE} not found; run without --resume to start the stage")
    import torch
    import torch.distributed as dist

    if args.device == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA device is visible; use --device cpu")
    os.environ["SMHR_DEVICE"] = args.device  # read by the trainer to pick NCCL or gloo
    device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}" if args.device == "cuda" else "cpu"
    if args.device == "cuda":
        torch.cuda.set_device(device)  # NCCL's collectives use the current device
    runtime = Runtime(device=device, amp=args.amp, progress=not args.no_progress)
    run_stage(cfg, model_cfg, hands, args.stage, args.variant, out, init=init, runtime=runtime, resume=args.resume)
    if dist.is_initialized():  # under torchrun: every rank waits for rank 0's files, then leaves cleanly
        dist.barrier()
        dist.destroy_process_group()
    return 0
