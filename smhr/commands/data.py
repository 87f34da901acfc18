"""``smhr data {check,show}``: validate a dataset folder, or draw a grid of its samples.

Examples::

    smhr data check --dataset freihand --root data/synth
    smhr data check --dataset ho3d --root /datasets/HO3D_v3 --split evaluation --version v3
    smhr data show --dataset rhd --root /datasets/RHD_published_v2 --out reports/data/rhd.png --n 16
"""

from __future__ import annotations

import argparse
from pathlib import Path

from smhr.commands import argtypes
from smhr.data.datasets.check import DATASETS, DatasetOptions, check_dataset, open_dataset
from smhr.errors import DatasetError
from smhr.outputs import check_output_file

ACTIONS: dict[str, tuple[str, str]] = {
    "check": (
        "validate a dataset folder: list every missing file, unreadable image and malformed record",
        "Reads every sample and lists every problem with its fix. Exit status 1 if any.",
    ),
    "show": (
        "draw samples (skeletons, boxes, side labels, masks) into a grid PNG",
        "Draws N samples chosen by SEED into one PNG.",
    ),
}
"""action -> (one-line help, description)."""


MIN_CELL = 16
"""Smallest ``--cell`` of ``data show`` (a skeleton and its labels need a few pixels)."""


def _action(sub: argparse._SubParsersAction, name: str, text: str, description: str) -> argparse.ArgumentParser:
    """Adds subcommand ``name`` with the options every action shares (which dataset, where)."""
    parser = sub.add_parser(name, help=text, description=description)
    parser.add_argument("--dataset", required=True, choices=DATASETS, help="which adapter reads ROOT")
    parser.add_argument(
        "--root", required=True, type=Path, help="the dataset folder, laid out as the dataset distributes it"
    )
    parser.add_argument(
        "--split",
        default=None,
        help="split to read (default: freihand 'training', ho3d 'train', interhand 'train', rhd 'training', "
        "composed 'benchmark'); freihand: training|evaluation, ho3d: train|evaluation, interhand: train|val|test, "
        "rhd: training|evaluation",
    )
    parser.add_argument(
        "--version",
        default=None,
        help="freihand: sample version gs|hom|sample|auto|all or 0..3 (default gs); ho3d: v2|v3 (default v3)",
    )
    parser.add_argument(
        "--subset", default=None, choices=["H+M", "H", "M"], help="interhand annotation subset (default H+M)"
    )
    parser.add_argument(
        "--fps", default=None, choices=["5", "30"], help="interhand: use ROOT/InterHand2.6M_<fps>fps_batch1 if present"
    )
    parser.add_argument(
        "--hands",
        default=None,
        choices=["dominant", "all"],
        help="rhd: keep the dominant hand per image as the official protocol does (default), or every hand",
    )
    return parser


def _options(args: argparse.Namespace) -> DatasetOptions:
    return DatasetOptions(split=args.split, version=args.version, subset=args.subset, fps=args.fps, hands=args.hands)


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = _action(sub, "check", *ACTIONS["check"])
    check.add_argument(
        "--limit", type=argtypes.positive, default=None, help="check only the first N >= 1 samples (default: all)"
    )
    show = _action(sub, "show", *ACTIONS["show"])
    show.add_argument("--out", required=True, type=Path, help="the PNG file to write (folders are created)")
    show.add_argument("--n", type=argtypes.positive, default=16, help="number of samples to draw, >= 1 (default 16)")
    show.add_argument("--seed", type=argtypes.seed, default=0, help="which samples are drawn, >= 0 (default 0)")
    show.add_argument(
        "--cell", type=argtypes.int_at_least(MIN_CELL), default=256,
        help=f"side of each grid cell in pixels, >= {MIN_CELL} (default 256)",
    )


def run(args: argparse.Namespace) -> int:
    if args.action == "check":
        report = check_dataset(args.dataset, args.root, _options(args), limit=args.limit)
        for problem in report.problems:
            print(f"{problem.where}: {problem.message}")
        status = "OK" if report.ok else f"{len(report.problems)} problem(s)"
        print(f"{args.dataset} {args.root}: {report.checked} samples, {report.hands} hands checked: {status}")
        return 0 if report.ok else 1
    from smhr.viz.overlay import save_grid

    check_output_file(args.out, "--out")
    dataset = open_dataset(args.dataset, args.root, _options(args))
    if len(dataset) == 0:
        raise DatasetError(f"{args.root}: the dataset has no samples; check --split and the annotation files")
    save_grid(args.out, dataset, n=args.n, seed=args.seed, cell=args.cell)
    print(f"wrote {args.out} ({min(args.n, len(dataset))} of {len(dataset)} samples)")
    return 0
