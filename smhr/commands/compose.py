"""``smhr compose``: build the composed multi-hand benchmark and training split (a DVC stage)."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

from smhr.config import DEFAULT_PARAMS, load_section
from smhr.errors import ConfigError
from smhr.outputs import check_output_dir

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    """Adds the options of ``smhr compose``."""
    parser.add_argument(
        "--params", type=Path, default=DEFAULT_PARAMS,
        help="params file whose 'compose' section configures the run (default: %(default)s)",
    )
    parser.add_argument(
        "--output", type=Path, default=None,
        help="output folder, overriding compose.output_root (it is replaced only once complete)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def run(args: argparse.Namespace) -> int:
    """Reads and checks the config and the output folder, opens the source splits, writes the composed set."""
    from smhr.data.synth.backgrounds import make_background_source
    from smhr.data.compose.build import ComposeConfig, write_composed
    from smhr.data.datasets.freihand import FreiHAND

    cfg = load_section(ComposeConfig, "compose", args.params)
    if args.output is not None:
        cfg = dataclasses.replace(cfg, output_root=str(args.output))
    where = f"{args.params}:compose"
    cfg.validate(where)
    if cfg.num_benchmark == 0 and cfg.num_train == 0:
        raise ConfigError(f"{where}: num_benchmark and num_train are both 0: nothing to write; set at least one > 0")
    if cfg.seed < 0:
        raise ConfigError(f"{where}.seed = {cfg.seed} must be >= 0")
    check_output_dir(cfg.output_root, "--output" if args.output is not None else f"{where}.output_root")

    def source(split: str) -> FreiHAND:
        version = cfg.source_version if split == "training" else "gs"
        return FreiHAND(cfg.source_root, split, version=version, load_verts=cfg.write_verts, load_mask=True)

    sources = {"benchmark": source(cfg.benchmark_source_split), "train": source(cfg.train_source_split)}
    backgrounds = make_background_source(None if cfg.background == "procedural" else cfg.background)
    out = write_composed(sources, cfg, backgrounds, progress=not args.no_progress)
    log.info("wrote %d benchmark and %d training images to %s", cfg.num_benchmark, cfg.num_train, out)
    return 0
