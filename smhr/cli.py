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

from smhr.errors import ConfigError, SmhrError, UsageError
from smhr.outputs import Terminated, signals_raise

# subcommand -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "hand-model": ("smhr.commands.hand_model", "generate the procedural MANO-format hand models and previews"),
    "synth": ("smhr.commands.synth", "render the synthetic single-hand dataset in FreiHAND's on-disk format"),
    "compose": ("smhr.commands.compose", "compose multi-hand images from a single-hand FreiHAND-layout source"),
    "data": ("smhr.commands.data", "inspect datasets: 'data check' validates a directory, 'data show' draws samples"),
    "evaluate": ("smhr.commands.evaluate", "evaluate predictions with a benchmark's official protocol"),
    "benchmark": ("smhr.commands.benchmark", "a checkpoint or the mean-hand baseline on every benchmark of params.yaml"),
    "train": ("smhr.commands.train", "train one named stage of one variant (params.yaml:train) into a folder"),
    "bench": ("smhr.commands.bench", "speed and memory benchmarks, results into reports/bench/"),
    "predict": ("smhr.commands.predict", "run a checkpoint on images, folders or a video: overlays, JSON, meshes, prediction files"),
    "export": ("smhr.commands.export", "export a checkpoint's network to ONNX (dynamic batch)"),
    "report": ("smhr.commands.report", "execute an analysis notebook (results, ablations, efficiency, qualitative)"),
    "fingerprint": ("smhr.commands.fingerprint", "list the source files each command runs, with hashes (the study's code deps)"),
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


def _parse(argv: list[str]) -> tuple[argparse.Namespace, argparse.Namespace, object] | int:
    """Parses ``argv``; returns (top-level args, command args, command module) or an exit code."""
    top = build_parser()
    try:
        # Find the subcommand without parsing its options, then build only its parser.
        known, rest = top.parse_known_args(argv)
        if known.command is None:
            top.print_help()
            return 0 if not argv else 2
        module_name, text = COMMANDS[known.command]
        module = importlib.import_module(module_name)
        parser = argparse.ArgumentParser(prog=f"smhr {known.command}", description=text)
        module.configure(parser)
        return known, parser.parse_args(rest), module
    except SystemExit as done:  # argparse: --help (0) or a usage error (2), already printed
        return done.code if isinstance(done.code, int) else 2


def main(argv: list[str] | None = None) -> int:
    """Runs the CLI. Returns the process exit code.

    Exit codes: 0 success; 1 a failure (bad data, a failed write: one line naming the file); 2 a
    usage error (argparse, an option or ``params.yaml`` value out of range, an output path that
    cannot be written); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM). Commands remove their
    partial outputs before an error or a signal ends them.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parsed = _parse(argv)
    if isinstance(parsed, int):
        return parsed
    known, args, module = parsed
    logging.basicConfig(
        level=logging.DEBUG if known.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    prefix = f"smhr {known.command}"
    try:
        with signals_raise():
            return int(module.run(args) or 0)
    except (ConfigError, UsageError) as err:
        print(f"{prefix}: error: {err}", file=sys.stderr)
        return 2
    except SmhrError as err:
        print(f"{prefix}: error: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        where = f"{err.filename}: " if err.filename else ""
        reason = err.strerror or str(err)
        print(f"{prefix}: error: {where}{reason}; check the path, its permissions and the free disk space", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prefix}: interrupted; partial outputs were removed", file=sys.stderr)
        return 130
    except Terminated:
        print(f"{prefix}: terminated; partial outputs were removed", file=sys.stderr)
        return 143
