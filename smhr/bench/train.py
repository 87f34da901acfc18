"""``smhr bench train``: time per training step, split into its parts, at the ``cpu`` profile.

Parts (each the median over ``--repeats`` timed repeats after one warm-up, in milliseconds of
process CPU time and of wall time):

* ``data``: one batch from the loader (0 workers: decode, augmentation, targets, collate);
* ``backbone``: network forward + backward (backbone, neck, heads) with a loss on the maps only;
* ``hand_model``: gathering the per-cell parameters at the ground-truth centres and running the
  left/right hand models + projection, forward + backward (maps detached);
* ``renderer``: the silhouette + photometric render of those hands, forward + backward;
* ``losses``: every ``render``-stage loss term, forward + backward, minus the two parts above;
* ``optimiser``: gradient clipping + AdamW step + zero_grad.

Two whole steps are timed as well (data excluded): ``backbone_only_step`` (forward, the
``localize`` terms that need no hand model, backward, optimiser) and ``render_step`` (the
``render`` stage's full objective). The goal is ``render_step <= 1.5 x backbone_only_step``, judged
in CPU time (robust to other jobs when torch uses one thread).
Images are toy hands (:mod:`smhr.data.datasets.toy`) at the source size of the synthetic set, so the
benchmark runs anywhere. Results: ``<out>/train.json`` (sorted keys, no timestamps) and ``train.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from smhr.config import from_dict
from smhr.data.training.dataset import DatasetConfig, HandDataset, collate_hands
from smhr.data.training.targets import TargetConfig
from smhr.data.datasets.toy import toy_sample
from smhr.hand.layer import HandModel
from smhr.hand.procedural import ProceduralConfig, build_models
from smhr.model.build import build_model
from smhr.model.config import ModelConfig
from smhr.train.config import LossWeights, StageConfig
from smhr.train import losses as L
from smhr.train.objective import Objective

GOAL = 1.5
"""A full ``render`` step may cost at most this many backbone-only steps."""


def build_parser() -> argparse.ArgumentParser:
    """Options of the training-step benchmark."""
    p = argparse.ArgumentParser(prog="smhr bench train", description=__doc__.splitlines()[0])
    p.add_argument("--params", type=Path, default=Path("params.yaml"),
                   help="params file whose model section and train.stages.render give the profile "
                        "(default: %(default)s; built-in cpu defaults if absent)")
    p.add_argument("--batch-size", type=int, default=None, help="images per step (default: the render stage's)")
    p.add_argument("--input-size", type=int, default=None, help="network input S (default: the render stage's)")
    p.add_argument("--repeats", type=int, default=7, help="timed repeats per part, after one warm-up (default: %(default)s)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's, i.e. OMP_NUM_THREADS)")
    p.add_argument("--seed", type=int, default=0, help="seed of the toy images and the weights (default: %(default)s)")
    p.add_argument("--out", type=Path, default=Path("reports/bench"), help="output folder (default: %(default)s)")
    return p


def _profile(params: Path) -> tuple[ModelConfig, StageConfig, int]:
    """The model section, the render stage and the hand slots per image (``train.data.max_hands``) of
    ``params`` (defaults when the file is absent)."""
    from smhr.config import read_params
    from smhr.train.config import DataSources, parse_train_config

    if not params.is_file():
        weights = LossWeights(reprojection=1.0, silhouette=1.0, photometric=1.0)
        return ModelConfig(), StageConfig(weights=weights), DataSources().max_hands
    raw = read_params(params)
    model_cfg = from_dict(ModelConfig, raw.get("model"), f"{params}:model")
    train = parse_train_config(raw["train"], f"{params}:train")
    stages = train.stages
    return model_cfg, stages["render"] if "render" in stages else list(stages.values())[-1], train.data.max_hands


def _median_ms(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Medians over ``repeats`` calls of ``fn`` after one warm-up call: (wall ms, process CPU ms)."""
    fn()  # warm-up
    wall, cpu = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return 1000.0 * statistics.median(wall), 1000.0 * statistics.median(cpu)


def measure(model_cfg: ModelConfig, stage: StageConfig, repeats: int, seed: int,
            max_hands: int = 4) -> dict[str, dict[str, float]]:
    """Medians of each part and of the two whole steps: ``{part: {"wall_ms", "cpu_ms"}}``.

    ``max_hands`` is the batch's hand slots per image, as the trainer's (``train.data.max_hands``):
    each toy image has one hand, the other slots are padding."""
    rng = np.random.default_rng(seed)
    samples = [toy_sample(rng, 224, "right" if i % 2 else "left") for i in range(2 * stage.batch_size)]
    right, left = (HandModel(d) for d in build_models(ProceduralConfig()))
    torch.manual_seed(seed)
    model = build_model(model_cfg, right, left).train().to(memory_format=torch.channels_last)  # as the trainer
    ds = HandDataset(samples, DatasetConfig(image_size=stage.input_size, max_hands=max_hands, seed=seed,
                                            targets=TargetConfig(stride=model.cfg.stride)), train=True)
    loader = torch.utils.data.DataLoader(ds, batch_size=stage.batch_size, collate_fn=collate_hands, num_workers=0)
    batch = next(iter(loader))
    opt = torch.optim.AdamW(model.parameters(), lr=stage.lr, fused=True)  # as the trainer
    localize = {k: getattr(stage.weights, k) or 1.0 for k in ("center", "center_offset", "keypoint_heatmap")}
    backbone_obj = Objective(model, LossWeights(keypoint_offset=0.0, **localize))
    full_obj = Objective(model, stage.weights)

    def step(objective: Objective) -> None:
        terms = objective(model(batch.image), batch)
        opt.zero_grad(set_to_none=True)
        terms["total"].backward()
        optimise()

    def optimise() -> None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), stage.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)

    def backbone() -> None:
        maps = model(batch.image)
        sum(m.square().mean() for m in maps).backward()

    with torch.no_grad():
        maps = model(batch.image)
    detached = type(maps)(*(m.detach().requires_grad_(True) for m in maps))
    K = full_obj.image_intrinsics(batch)
    hand = batch.hand_mask & batch.center_valid

    def hand_model() -> None:
        pred = model.hands_at(detached, batch.center_index, batch.side, K, mask=hand)
        (pred.vertices.square().mean() + pred.joints2d.square().mean()).backward()

    render_only = Objective(model, LossWeights(center=0.0, center_offset=0.0, keypoint_heatmap=0.0,
                                               keypoint_offset=0.0, silhouette=stage.weights.silhouette or 1.0,
                                               photometric=stage.weights.photometric or 1.0))
    pred_fixed = model.hands_at(detached, batch.center_index, batch.side, K, mask=hand)
    leaves = {"vertices": pred_fixed.vertices.detach().requires_grad_(True),
              "albedo": pred_fixed.albedo.detach().requires_grad_(True), "sh": pred_fixed.sh.detach().requires_grad_(True)}

    def renderer() -> None:
        pred = dataclasses.replace(pred_fixed, **leaves)
        terms = render_only._render_terms(pred, batch, hand, {"silhouette", "photometric"})
        sum(terms.values()).backward()

    leaf = dataclasses.replace(pred_fixed, **{
        f.name: getattr(pred_fixed, f.name).detach().requires_grad_(True) for f in dataclasses.fields(pred_fixed)
        if torch.is_tensor(getattr(pred_fixed, f.name)) and getattr(pred_fixed, f.name).is_floating_point()})
    loss_terms = set(stage.weights.active()) - {"silhouette", "photometric"}

    def losses() -> None:
        terms = full_obj._hand_terms(leaf, batch, loss_terms)
        focal = {"center": detached.center, "keypoint_heatmap": detached.keypoint_heatmap}
        total = sum(terms.values()) + sum(
            L.focal_heatmap_loss(focal[k], getattr(batch, f"{k}_heatmap" if k == "center" else k))
            for k in focal if k in loss_terms)
        total.backward()

    parts = {
        "data": _median_ms(lambda: next(iter(loader)), repeats),
        "backbone": _median_ms(backbone, repeats),
        "hand_model": _median_ms(hand_model, repeats),
        "renderer": _median_ms(renderer, repeats),
        "losses": _median_ms(losses, repeats),
    }
    model(batch.image).center.sum().backward()  # gradients for the optimiser to apply (kept between calls)
    parts["optimiser"] = _median_ms(lambda: (torch.nn.utils.clip_grad_norm_(model.parameters(), stage.grad_clip),
                                             opt.step()), repeats)
    parts["backbone_only_step"] = _median_ms(lambda: step(backbone_obj), repeats)
    parts["render_step"] = _median_ms(lambda: step(full_obj), repeats)
    return {k: {"wall_ms": round(w, 2), "cpu_ms": round(c, 2)} for k, (w, c) in parts.items()}


def write_report(result: dict, out: Path) -> None:
    """Writes ``train.json`` and the markdown table ``train.md``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "train.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    ms = result["ms"]
    lines = [
        "# Training step time",
        "",
        f"Profile: {result['profile']}; batch {result['batch_size']}, input {result['input_size']} px, "
        f"{result['max_hands']} hand slots per image (one hand each, as single-hand training batches), "
        f"rendered terms at {result['render_size']} px (the target stride); median of {result['repeats']} repeats after a warm-up; "
        f"{result['torch_threads']} torch thread(s). {result['note']}",
        "",
        "| part | CPU ms per step | wall ms per step |",
        "| --- | ---: | ---: |",
    ]
    names = {"backbone_only_step": "**backbone-only step** (no data)", "render_step": "**render-stage step** (no data)"}
    for key in ("data", "backbone", "hand_model", "renderer", "losses", "optimiser", "backbone_only_step", "render_step"):
        lines.append(f"| {names.get(key, key)} | {ms[key]['cpu_ms']:.1f} | {ms[key]['wall_ms']:.1f} |")
    lines += [
        "",
        f"Render-stage step / backbone-only step = **{result['ratio']:.2f}** in process CPU time (goal <= {GOAL}: "
        f"{'met' if result['goal_met'] else 'missed'}); {result['ratio_wall']:.2f} in wall time. With one torch "
        "thread the CPU time is the compute a step needs, nearly independent of other jobs on a shared "
        "machine; wall time includes waiting for the CPU.",
        "",
        f"Command: `{result['command']}`",
        "",
    ]
    (out / "train.md").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark. Returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    model_cfg, stage, max_hands = _profile(args.params)
    stage = dataclasses.replace(stage, batch_size=args.batch_size or stage.batch_size,
                                input_size=args.input_size or stage.input_size)
    ms = measure(model_cfg, stage, args.repeats, args.seed, max_hands)
    ratio = ms["render_step"]["cpu_ms"] / ms["backbone_only_step"]["cpu_ms"]
    ratio_wall = ms["render_step"]["wall_ms"] / ms["backbone_only_step"]["wall_ms"]
    result = {
        "batch_size": stage.batch_size,
        "command": " ".join(["smhr", "bench", "train", *(argv if argv is not None else sys.argv[1:])]),
        "goal_met": bool(ratio <= GOAL),
        "input_size": stage.input_size,
        "machine": platform.machine(),
        "max_hands": max_hands,
        "ms": ms,
        "note": f"Timed on a {os.cpu_count()}-core CPU; wall-clock figures also depend on other load.",
        "profile": f"{model_cfg.backbone} x{model_cfg.width}, norm {model_cfg.norm} ({args.params})",
        "ratio": round(ratio, 3),
        "ratio_wall": round(ratio_wall, 3),
        "render_size": stage.input_size // model_cfg.stride,
        "repeats": args.repeats,
        "torch_threads": torch.get_num_threads(),
        "weights": {k: v for k, v in sorted(stage.weights.active().items())},
    }
    write_report(result, args.out)
    print((args.out / "train.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
