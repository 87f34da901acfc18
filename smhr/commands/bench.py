"""``smhr bench {render,eval,data,synth,all}``: speed and memory benchmarks into reports/bench/.

Each benchmark lives in ``smhr/bench/<name>.py`` and exposes ``main(argv) -> int``; options after
the benchmark's name are passed to it (``smhr bench render --help`` lists them).
"""

from __future__ import annotations

import argparse
import importlib

BENCHMARKS: dict[str, str] = {
    "render": "smhr.bench.render",
    "eval": "smhr.bench.eval",
    "data": "smhr.bench.data",
    "synth": "smhr.bench.synth",
}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name",
        choices=sorted(BENCHMARKS) + ["all"],
        help="which benchmark to run ('all' runs each with its defaults)",
    )
    parser.add_argument(
        "rest",
        nargs=argparse.REMAINDER,
        help="options passed to the benchmark itself (see 'smhr bench NAME --help')",
    )


def run(args: argparse.Namespace) -> int:
    names = sorted(BENCHMARKS) if args.name == "all" else [args.name]
    code = 0
    for name in names:
        module = importlib.import_module(BENCHMARKS[name])
        code = max(code, int(module.main(list(args.rest) if args.name != "all" else []) or 0))
    return code
