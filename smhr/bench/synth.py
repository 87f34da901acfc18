"""``smhr bench synth``: throughput of the synthetic dataset generator, into reports/bench/synth.{json,md}.

Measures, on this machine: procedural backgrounds per second; scene sampling (pose, shape,
viewpoint, camera, albedo, lighting, background) per second; posing + rendering + compositing
images per second; and the end-to-end rate of :func:`smhr.data.synth.generate.synthesize` (JPEG and JSON
writing included). The JSON has sorted keys, units in the names and no timestamps.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def build_parser() -> argparse.ArgumentParser:
    """Options of the synthetic-data benchmark."""
    parser = argparse.ArgumentParser(prog="smhr bench synth", description=__doc__.splitlines()[0])
    parser.add_argument("--num", type=int, default=32, help="samples per measurement (default: 32)")
    parser.add_argument("--image-size", type=int, default=224, help="image side in pixels (default: 224)")
    parser.add_argument("--batch-size", type=int, default=16, help="hands per renderer call (default: 16)")
    parser.add_argument(
        "--hand-model", type=Path, default=Path("data/hand_models/procedural_right.pkl"),
        help="MANO-format hand model (default: data/hand_models/procedural_right.pkl)",
    )
    parser.add_argument("--out", type=Path, default=Path("reports/bench"), help="folder for synth.json and synth.md")
    return parser


def _rate(count: int, seconds: float) -> float:
    return round(count / max(seconds, 1e-9), 2)


def measure(num: int, image_size: int, batch_size: int, hand_model: Path) -> dict[str, float | int | str]:
    """Runs the measurements and returns the result record (JSON-ready)."""
    from smhr.data.synth.backgrounds import ProceduralBackgrounds, procedural_background
    from smhr.data.synth.generate import HandRig, SynthConfig, render_scenes, sample_scene, sample_seed, synthesize
    from smhr.hand import HandModel

    cfg = SynthConfig(num_training=num, num_evaluation=0, image_size=image_size, batch_size=batch_size)
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    for _ in range(num):
        procedural_background(image_size, image_size, rng)
    backgrounds_s = time.perf_counter() - t

    rig = HandRig(HandModel.from_file(hand_model))
    source = ProceduralBackgrounds(cfg.skin_distractor_prob)
    t = time.perf_counter()
    scenes = [sample_scene(rig, sample_seed(0, "training", i), cfg, source) for i in range(num)]
    sampling_s = time.perf_counter() - t

    t = time.perf_counter()
    for start in range(0, num, batch_size):
        render_scenes(rig, scenes[start : start + batch_size], cfg)
    render_s = time.perf_counter() - t

    with tempfile.TemporaryDirectory() as tmp:
        result = synthesize(dataclasses.replace(cfg, out=Path(tmp) / "freihand"), hand_model)
    return {
        "backgrounds_per_s": _rate(num, backgrounds_s),
        "batch_size": batch_size,
        "end_to_end_images_per_s": round(result.images_per_s, 2),
        "image_size_px": image_size,
        "machine": f"CPU, {os.cpu_count()} cores",
        "num_samples": num,
        "pose_render_composite_images_per_s": _rate(num, render_s),
        "scene_sampling_per_s": _rate(num, sampling_s),
        "supersample": cfg.supersample,
        "torch_threads": torch.get_num_threads(),
    }


def _markdown(record: dict[str, float | int | str]) -> str:
    rows = [
        ("procedural backgrounds", record["backgrounds_per_s"], "backgrounds/s"),
        ("scene sampling (incl. background)", record["scene_sampling_per_s"], "samples/s"),
        ("pose + render + composite", record["pose_render_composite_images_per_s"], "images/s"),
        ("end to end (incl. JPEG/JSON writing)", record["end_to_end_images_per_s"], "images/s"),
    ]
    lines = [
        "# Synthetic FreiHAND-format generator throughput",
        "",
        f"{record['num_samples']} samples at {record['image_size_px']}x{record['image_size_px']} px, "
        f"batch {record['batch_size']}, supersample {record['supersample']}, "
        f"{record['torch_threads']} torch threads; {record['machine']}.",
        "Command: `smhr bench synth`",
        "",
        "| stage | rate | unit |",
        "|---|---:|---|",
    ]
    lines += [f"| {name} | {value} | {unit} |" for name, value, unit in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark; writes ``<out>/synth.json`` and ``<out>/synth.md``. Returns 0."""
    args = build_parser().parse_args(argv)
    record = measure(args.num, args.image_size, args.batch_size, args.hand_model)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "synth.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    (args.out / "synth.md").write_text(_markdown(record))
    print(_markdown(record))
    return 0
