"""The trainer: one stage of one variant, readable top to bottom (nanoGPT's train.py is the model).

``train_stage`` builds the data, the optimiser (AdamW), the schedule (warm-up + cosine or step),
optionally an EMA, then runs ``stage.steps`` optimiser steps: forward, the weighted loss terms
(:class:`smhr.train.objective.Objective`), backward, gradient clipping, step. Every
``checkpoint_every`` steps it writes a **resumable checkpoint** (model, optimiser, schedule, EMA,
every RNG state and the data position) atomically; ``resume=True`` continues from it and gives
bitwise the weights and metrics of a run that was never interrupted. Every ``val_every`` steps it
validates on held-out images with the project's metrics. dvclive records both, so ``dvc plots``
draws the curves.

Architectures: the single-stage network trains with :class:`~smhr.train.objective.Objective`, the
two-stage baseline with :class:`~smhr.train.objective_two_stage.TwoStageObjective` (both give the
step's terms from the network and the batch: :meth:`Objective.terms`); the rest of the loop is shared.
``state.pt`` records the architecture and a resume of another one is refused.

Distributed: when launched by ``torchrun`` (``WORLD_SIZE`` > 1) each process takes its share of
each global batch (:class:`smhr.train.sampler.ResumableBatchSampler`) and DDP averages gradients
(gloo on CPU, NCCL on CUDA); only rank 0 writes files.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from tqdm import tqdm

from smhr.data.training.dataset import DatasetConfig, HandDataset, collate_hands
from smhr.data.datasets.sample import Sample
from smhr.data.training.targets import TargetConfig
from smhr.errors import ModelFileError, TrainingDivergedError
from smhr.model.network import SMHRNet
from smhr.model.two_stage import TwoStageNet
from smhr.train.config import DataSources, StageConfig
from smhr.train.ema import ModelEMA
from smhr.train.objective import Objective
from smhr.train.objective_two_stage import TwoStageObjective
from smhr.train.rng import capture_rng_state, restore_rng_state, seed_everything
from smhr.train.sampler import ResumableBatchSampler
from smhr.train.schedule import lr_factor
from smhr.train.validate import validate

log = logging.getLogger(__name__)

STATE_FILE = "state.pt"
"""The resumable checkpoint inside a stage's output folder."""
FORMAT = "smhr-train-state"
VERSION = 1


@dataclass(frozen=True)
class Runtime:
    """Where and how a stage runs (not part of the experiment's identity).

    Attributes:
        device: ``cpu`` or ``cuda`` (``cuda:N`` per rank under torchrun).
        amp: mixed precision on CUDA: ``none``, ``bf16`` or ``fp16``.
        deterministic: ask torch for deterministic algorithms (needed for bitwise resume).
        progress: show a progress bar.
        stop_after: stop (as if killed) after this many steps of this run: for resume tests.
    """

    device: str = "cpu"
    amp: str = "none"
    deterministic: bool = True
    progress: bool = True
    stop_after: int | None = None


def distributed() -> tuple[int, int]:
    """(rank, world size); initialises the process group when torchrun launched us."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() and os.environ.get("SMHR_DEVICE", "cpu") != "cpu"
                                else "gloo")
    return (dist.get_rank(), dist.get_world_size()) if world > 1 else (0, 1)


def _atomic_save(payload: dict[str, Any], path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def load_state(path: Path) -> dict[str, Any]:
    """Reads a resumable checkpoint; one clear error when it is missing, corrupt or foreign."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no checkpoint to resume from; run without --resume") from None
    except Exception as err:  # torch raises many types for a truncated or foreign file
        raise ModelFileError(f"{path}: not a readable training checkpoint ({type(err).__name__}); "
                             f"delete it and train again") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT or state.get("version") != VERSION:
        raise ModelFileError(f"{path}: not an smhr training checkpoint (format {FORMAT} v{VERSION}); "
                             f"delete it and train again")
    return state


def train_stage(model: SMHRNet | TwoStageNet, stage: StageConfig, data: DataSources, train_samples: Sequence[Sample],
                val_samples: Sequence[Sample], out_dir: Path, seed: int, single_camera: bool,
                runtime: Runtime = Runtime(), resume: bool = False, name: str = "stage") -> dict[str, float]:
    """Trains ``model`` in place for one stage and writes its outputs into ``out_dir``.

    Args:
        model: the network (either architecture), initialised (from scratch or from the previous stage).
        stage: the stage's config.
        data: loader settings (workers, hand slots, augmentation).
        train_samples: training images (a dataset adapter or a list).
        val_samples: held-out images for validation.
        out_dir: receives ``state.pt`` (resumable), ``metrics.json`` and ``live/`` (dvclive).
        seed: base seed (initialisation happened before; data order and augmentation use it).
        single_camera: one camera per image (single-hand data) or default intrinsics (composed).
        runtime: device, precision, determinism.
        resume: continue from ``out_dir/state.pt``.
        name: stage name for logs.

    Returns:
        The final validation metrics (also written to ``out_dir/metrics.json`` by rank 0).
    """
    rank, world = distributed()
    device = torch.device(runtime.device)
    torch.use_deterministic_algorithms(runtime.deterministic, warn_only=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    # NHWC weights make every convolution run NHWC (its output follows): ~8 % faster on CPU (oneDNN)
    model.to(device, memory_format=torch.channels_last)

    # data: deterministic order and augmentation, whatever the number of workers
    ds_cfg = DatasetConfig(image_size=stage.input_size, max_hands=data.max_hands, seed=seed, augment=data.augment,
                           targets=TargetConfig(stride=model.cfg.stride))
    train_set = HandDataset(train_samples, ds_cfg, train=True)
    sampler = ResumableBatchSampler(len(train_set), stage.batch_size, seed=seed, rank=rank, world=world)

    # optimisation
    decay, no_decay = [], []
    for pname, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": stage.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=stage.lr,
                            fused=True)  # one kernel for all tensors, not torch's per-tensor loop on CPU
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(
        s, stage.steps, stage.warmup_steps, stage.schedule, stage.min_lr_factor))
    ema = ModelEMA(model, stage.ema_decay) if stage.ema_decay else None
    if model.cfg.architecture == "two_stage":
        objective: Objective = TwoStageObjective(model, stage.weights, single_camera=single_camera, seed=seed)
    else:
        objective = Objective(model, stage.weights, single_camera=single_camera)
    # heads a stage does not weight (e.g. appearance before `render`) get no gradient: DDP must know
    net = (torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None,
                                                     find_unused_parameters=True) if world > 1 else model)

    step, history = 0, []
    state_path = out_dir / STATE_FILE
    if resume:
        state = load_state(state_path)
        if state.get("architecture", "single_stage") != model.cfg.architecture:
            raise ModelFileError(f"{state_path}: a {state.get('architecture', 'single_stage')} run, this one trains "
                                 f"{model.cfg.architecture}; resume with the same variant or delete it")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        if ema is not None:
            ema.load_state_dict(state["ema"])
        restore_rng_state(state["rng"])
        step, history = int(state["step"]), list(state["history"])
        sampler.set_state(int(state["epoch"]), int(state["position"]))
        log.info("%s: resuming at step %d of %d", name, step, stage.steps)
    else:
        seed_everything(seed + 1000 * rank)
    live = _Live(out_dir / "live", step, enabled=rank == 0)

    def save() -> None:
        if rank == 0:
            _atomic_save({
                "format": FORMAT, "version": VERSION, "stage": name, "step": step,
                "architecture": model.cfg.architecture,
                "epoch": sampler.epoch, "position": sampler.position, "model": model.state_dict(),
                "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                "ema": ema.state_dict() if ema is not None else None, "rng": capture_rng_state(),
                "history": history,
            }, state_path)

    amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(runtime.amp)
    scaler = torch.amp.GradScaler("cuda", enabled=runtime.amp == "fp16" and device.type == "cuda")
    batches = _batches(train_set, sampler, data.num_workers, device)
    bar = tqdm(total=stage.steps, initial=step, desc=f"train {name}", disable=not runtime.progress or rank != 0,
               unit="step", dynamic_ncols=True)
    stopped_at = step + runtime.stop_after if runtime.stop_after is not None else None
    model.train()
    while step < stage.steps:
        if stopped_at is not None and step >= stopped_at:
            bar.close()
            return {}
        batch = next(batches)
        with torch.autocast(device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
            terms = objective.terms(net, batch, step)
        opt.zero_grad(set_to_none=True)
        scaler.scale(terms["total"]).backward()
        scaler.unscale_(opt)
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), stage.grad_clip or math.inf)
        if not scaler.is_enabled() and not bool(torch.isfinite(grad_norm)):
            # fp16's scaler skips such steps itself; anywhere else the weights would turn NaN
            raise TrainingDivergedError(_divergence(name, step + 1, terms, out_dir))
        scaler.step(opt)
        scaler.update()
        sched.step()
        if ema is not None:
            ema.update(model)
        step += 1
        sampler.position += 1
        bar.update(1)
        if step % stage.log_every == 0 or step == stage.steps:
            values = {k: float(v.detach()) for k, v in terms.items()}
            if not math.isfinite(values["total"]):  # fp16: its scaler skips such steps, so say it here
                raise TrainingDivergedError(_divergence(name, step, terms, out_dir))
            live.log({f"train/{k}": v for k, v in values.items()} | {"train/lr": sched.get_last_lr()[0]}, step)
            bar.set_postfix(loss=f"{values['total']:.4f}")
        if step % stage.val_every == 0 or step == stage.steps:
            metrics = validate(ema.shadow if ema is not None else model, val_samples, ds_cfg, objective, device)
            history.append({"step": step, **metrics})
            live.log({f"val/{k}": v for k, v in metrics.items()}, step)
            model.train()
        if step % stage.checkpoint_every == 0 or step == stage.steps:
            save()
    bar.close()
    final = history[-1] if history else {}
    if rank == 0:
        if ema is not None:
            model.load_state_dict(ema.shadow.state_dict())
        tmp = out_dir / ".metrics.json.tmp"
        clean = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in final.items()}
        tmp.write_text(json.dumps(clean, sort_keys=True, indent=2) + "\n")
        os.replace(tmp, out_dir / "metrics.json")
    return final


def _divergence(name: str, step: int, terms: dict[str, torch.Tensor], out_dir: Path) -> str:
    """The message of a non-finite step: which terms, and what to do."""
    bad = sorted(k for k, v in terms.items() if k != "total" and not bool(torch.isfinite(v.detach())))
    what = f"non-finite loss terms {bad}" if bad else "finite loss terms but a non-finite gradient"
    return (f"stage {name} diverged at step {step}: {what}; the weights were not updated with it. Lower "
            f"train.stages.{name}.lr, lengthen its warmup_steps or tighten its grad_clip, then rerun (or "
            f"--resume from the last checkpoint in {out_dir})")


def _batches(dataset: HandDataset, sampler: ResumableBatchSampler, workers: int, device: torch.device):
    """Endless batches from ``sampler``'s position on; a new epoch's order when one ends."""
    while True:
        dataset.set_epoch(sampler.epoch)
        loader = torch.utils.data.DataLoader(
            dataset, batch_sampler=_Snapshot(sampler), num_workers=workers, collate_fn=collate_hands,
            pin_memory=device.type == "cuda", persistent_workers=False)
        for batch in loader:
            yield batch.to(device, non_blocking=True)
        sampler.set_state(sampler.epoch + 1, 0)


class _Snapshot(torch.utils.data.Sampler[list[int]]):
    """The sampler's batches from its position at creation (the live sampler's position moves on)."""

    def __init__(self, sampler: ResumableBatchSampler) -> None:
        self.batches = list(iter(sampler))

    def __iter__(self):
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


class _Live:
    """dvclive for metrics and plots; on resume, rows after the checkpoint's step are dropped first."""

    def __init__(self, directory: Path, step: int, enabled: bool) -> None:
        self.live = None
        if not enabled:
            return
        from dvclive import Live

        if step == 0 and directory.exists():
            import shutil

            shutil.rmtree(directory)
        _truncate_plots(directory, step)
        self.live = Live(str(directory), resume=step > 0, save_dvc_exp=False, dvcyaml=False, report=None)

    def log(self, values: dict[str, float], step: int) -> None:
        if self.live is None:
            return
        self.live.step = step
        for key, value in sorted(values.items()):
            if math.isfinite(value):
                self.live.log_metric(key, value, timestamp=False)
        self.live.make_summary()


def _truncate_plots(directory: Path, step: int) -> None:
    """Drops rows logged after ``step`` (a killed run may have logged past its last checkpoint)."""
    for tsv in sorted((directory / "plots").rglob("*.tsv")) if directory.exists() else []:
        lines = tsv.read_text().splitlines()
        kept = [lines[0]] + [line for line in lines[1:] if int(line.split("\t")[0]) <= step]
        tsv.write_text("\n".join(kept) + "\n")
