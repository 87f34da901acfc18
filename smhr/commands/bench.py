"""``smhr bench {render,eval,data,synth,train,model,all}``: speed and memory benchmarks into reports/bench/.

Each benchmark lives in ``smhr/bench/<name>.py`` and exposes ``build_parser()`` and
``main(argv) -> int``; options after the benchmark's name are passed to it (``smhr bench render
--help`` lists them). ``smhr bench all`` runs every benchmark with the options given, which must
be options every benchmark takes (``--out FOLDER``); an option that some benchmark does not take
is refused before anything runs, naming the benchmarks that lack it.
"""

from __future__ import annotations

import argparse
import importlib

from smhr.errors import SmhrError

BENCHMARKS: dict[str, str] = {
    "render": "smhr.bench.render",
    "eval": "smhr.bench.eval",
    "data": "smhr.bench.data",
    "synth": "smhr.bench.synth",
    "train": "smhr.bench.train",
    "model": "smhr.bench.model",
}

ALL_HELP = (
    "smhr bench all [--out FOLDER]: runs {names} one after another, each with the options given. Only "
    "options every benchmark takes are allowed (--out: folder of the JSON and markdown reports, default "
    "reports/bench); give the others to one benchmark: 'smhr bench NAME --help' lists them."
)


class BenchOptionError(SmhrError, ValueError):
    """An option given to ``smhr bench all`` that not every benchmark takes."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Adds the benchmark name and the options passed on to it."""
    parser.add_argument(
        "name",
        choices=sorted(BENCHMARKS) + ["all"],
        help="which benchmark to run ('all' runs each, passing them the options given)",
    )
    parser.add_argument(
        "rest",
        nargs=argparse.REMAINDER,
        help="options passed to the benchmark itself (see 'smhr bench NAME --help')",
    )


def _refused(rest: list[str], modules: dict) -> dict[str, list[str]]:
    """``{option: [benchmarks that do not take it]}`` for the options in ``rest`` some benchmark lacks."""
    refused: dict[str, list[str]] = {}
    for name, module in modules.items():
        _, unknown = module.build_parser().parse_known_args(rest)
        for token in unknown:
            if token.startswith("-"):
                refused.setdefault(token.split("=", 1)[0], []).append(name)
    return refused


def run(args: argparse.Namespace) -> int:
    """Runs the named benchmark (or each, for ``all``). Returns the largest exit code."""
    names = sorted(BENCHMARKS) if args.name == "all" else [args.name]
    modules = {name: importlib.import_module(BENCHMARKS[name]) for name in names}
    rest = list(args.rest)
    if args.name == "all":
        if {"-h", "--help"} & set(rest):
            print(ALL_HELP.format(names=", ".join(names)))
            return 0
        refused = _refused(rest, modules)
        if refused:
            which = "; ".join(f"{option} (not taken by {', '.join(lacking)})" for option, lacking in refused.items())
            raise BenchOptionError(
                f"'smhr bench all' passes its options to every benchmark, and these do not apply to all: {which}; "
                "run those benchmarks one at a time ('smhr bench NAME --help' lists each one's options)"
            )
    code = 0
    for name, module in modules.items():
        code = max(code, int(module.main(list(rest)) or 0))
    return code
