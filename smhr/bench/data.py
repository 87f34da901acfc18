"""``smhr bench data``: training-loader throughput (samples/s) with 0 and 2 worker processes.

Loads a composed set (:class:`~smhr.data.datasets.composed.ComposedDataset`: JPEG + PNG decoding, the
random augmentation, target encoding, collate), the full per-sample cost a training step waits
for. Without ``--root`` (or when the folder is absent) a temporary composed set of toy hands
(:mod:`smhr.data.datasets.toy`) is written first, so the benchmark runs anywhere. Results go to
``<out>/data.json`` (sorted keys, no timestamps) and ``<out>/data.md``. Also ``python -m smhr.bench.data``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from smhr.data.synth.backgrounds import ProceduralBackgrounds
from smhr.data.compose.build import ComposeConfig, write_composed
from smhr.data.datasets.composed import ComposedDataset
from smhr.data.training.dataset import DatasetConfig, HandDataset, collate_hands
from smhr.data.datasets.imageio import write_json
from smhr.data.datasets.toy import toy_sample

DEFAULT_ROOT = Path("data/composed")


def build_parser() -> argparse.ArgumentParser:
    """Options of the data-loading benchmark."""
    p = argparse.ArgumentParser(prog="smhr bench data", description=__doc__.splitlines()[0])
    p.add_argument("--root", type=Path, default=DEFAULT_ROOT,
                   help="composed set to load (default: %(default)s; a temporary toy set if absent)")
    p.add_argument("--split", default="train", choices=("train", "benchmark"), help="split to load (default: %(default)s)")
    p.add_argument("--image-size", type=int, default=256, help="network input side S (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=16, help="samples per batch (default: %(default)s)")
    p.add_argument("--batches", type=int, default=20, help="timed batches per setting, after one warm-up batch (default: %(default)s)")
    p.add_argument("--workers", type=int, nargs="+", default=[0, 2], help="DataLoader worker counts to time (default: 0 2)")
    p.add_argument("--toy-images", type=int, default=64, help="images of the temporary toy set (default: %(default)s)")
    p.add_argument("--no-augment", action="store_true", help="time the evaluation path (letterbox only)")
    p.add_argument("--out", type=Path, default=Path("reports/bench"), help="output folder (default: %(default)s)")
    return p


def _toy_set(folder: Path, n: int, size: int) -> Path:
    rng = np.random.default_rng(0)
    hands = [toy_sample(rng, 128, "right") for _ in range(16)]
    cfg = ComposeConfig(num_benchmark=0, num_train=n, image_size=size, seed=0)
    return write_composed({"benchmark": hands, "train": hands}, cfg, ProceduralBackgrounds(), folder / "toy_composed", progress=False)


def time_loader(data: HandDataset, batch_size: int, batches: int, workers: int) -> tuple[float, float]:
    """Throughput over ``batches`` batches, after one untimed warm-up batch (worker start-up).

    The loader cycles through epochs if the dataset is shorter than ``(batches + 1) * batch_size``.

    Returns:
        ``(samples per second of wall time, main-process CPU milliseconds per sample)``. The CPU
        time is the whole loading cost with 0 workers (and insensitive to other jobs on the
        machine); with workers it is only what the training process itself spends (collation).
    """
    loader = torch.utils.data.DataLoader(data, batch_size=batch_size, num_workers=workers, collate_fn=collate_hands,
                                         shuffle=False, drop_last=True)
    seen, start, epoch = 0, None, 0
    bar = tqdm(total=batches, desc=f"workers={workers}", leave=False)
    while seen < batches:
        data.set_epoch(epoch)
        for batch in loader:
            if start is None:
                start, cpu_start = time.perf_counter(), time.process_time()  # the first batch is the warm-up
                continue
            seen += 1
            bar.update(1)
            if seen == batches:
                break
        epoch += 1
    bar.close()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return batches * batch_size / wall, 1000.0 * cpu / (batches * batch_size)


def write_report(result: dict, out: Path) -> None:
    """Writes ``data.json`` and the markdown table ``data.md``."""
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "data.json", result)
    lines = [
        "# Data loading throughput",
        "",
        f"Source: {result['source']}; split `{result['split']}`; input {result['image_size']} px; "
        f"batch {result['batch_size']}; augmentation {'on' if result['augment'] else 'off'}; "
        f"{result['batches']} timed batches. {result['note']}",
        "",
        "| workers | samples/s | wall ms/sample | main-process CPU ms/sample |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for row in result["results"]:
        lines.append(
            f"| {row['num_workers']} | {row['samples_per_s']:.1f} | {row['ms_per_sample']:.2f} | {row['main_cpu_ms_per_sample']:.2f} |"
        )
    lines += [
        "",
        "With 0 workers the CPU column is the full per-sample loading cost (decode, augmentation,",
        "targets, collate), independent of other jobs; with workers it is the collation left in the",
        "training process.",
        "",
        f"Command: `{result['command']}`",
        "",
    ]
    (out / "data.md").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark. Returns the exit code."""
    args = build_parser().parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root, source = args.root, str(args.root)
        if not (root / "annotations.json").is_file():
            root, source = _toy_set(Path(tmp), args.toy_images, args.image_size), "temporary toy composed set"
        samples = ComposedDataset(root, args.split)
        data = HandDataset(samples, DatasetConfig(image_size=args.image_size), train=not args.no_augment)
        rows = []
        for workers in args.workers:
            rate, cpu_ms = time_loader(data, args.batch_size, args.batches, workers)
            rows.append({
                "main_cpu_ms_per_sample": round(cpu_ms, 2), "ms_per_sample": round(1000.0 / rate, 2),
                "num_workers": workers, "samples_per_s": round(rate, 1),
            })
    result = {
        "augment": not args.no_augment,
        "batch_size": args.batch_size,
        "batches": args.batches,
        "command": " ".join(["smhr", "bench", "data", *(argv if argv is not None else sys.argv[1:])]),
        "torch_threads": torch.get_num_threads(),
        "image_size": args.image_size,
        "machine": platform.machine(),
        "note": f"Timed on a {os.cpu_count()}-core CPU; wall-clock figures also depend on other load.",
        "results": rows,
        "source": source,
        "split": args.split,
    }
    write_report(result, args.out)
    print((args.out / "data.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
