"""The ``smhr`` command line: one entry point, one subcommand per task.

Each subcommand lives in ``smhr/commands/<name>.py`` and provides two functions:
``configure(parser)`` (adds its options, each with help text) and ``run(args) -> int``.
Modules are imported only when their subcommand runs, so ``smhr --help`` is fast and
does not import torch. The table below is the whole list: no registry, no plugins.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from smhr.errors import SmhrError

# subcommand -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "hand-model": ("smhr.commands.hand_model", "generate the procedural MANO-format hand models and previews"),
    "synth": ("smhr.commands.synth", "render the synthetic single-hand dataset in FreiHAND's on-disk format"),
    "compose": ("smhr.commands.compose", "compose multi-hand images from a single-hand FreiHAND-layout source"),
    "data": ("smhr.commands.data", "inspect datasets: 'data check' validates a directory, 'data show' draws samples"),
    "evaluate": ("smhr.commands.evaluate", "evaluate predictions with a benchmark's official protocol"),
    "bench": ("smhr.commands.bench", "speed and memory benchmarks, results into reports/bench/"),
    "predict": ("smhr.commands.predict", "run a checkpoint on images, folders or a video: overlays, JSON, meshes, prediction files"),
    "export": ("smhr.commands.export", "export a checkpoint's network to ONNX (dynamic batch)"),
}


def build_parser() -> argparse.ArgumentParser:
    """Builds the top-level parser; subcommand options are added lazily in ``main``."""
    parser = argparse.ArgumentParser(
        prog="smhr",
        description="Single-stage multi-hand 3D hand mesh reconstruction: data, rendering, evaluation.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, text) in COMMANDS.items():
        sub.add_parser(name, help=text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the CLI. Returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    top = build_parser()
    # Find the subcommand without parsing its options, then build only its parser.
    known, rest = top.parse_known_args(argv)
    if known.command is None:
        top.print_help()
        return 0 if not argv else 2
    module_name, text = COMMANDS[known.command]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"smhr {known.command}", description=text)
    module.configure(parser)
    args = parser.parse_args(rest)
    logging.basicConfig(
        level=logging.DEBUG if known.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(module.run(args) or 0)
    except SmhrError as err:
        print(f"smhr {known.command}: error: {err}", file=sys.stderr)
        return 1
