"""One named stage of one variant, end to end: data, initialisation, :func:`train_stage`, outputs.

``smhr train`` is a thin wrapper over :func:`run_stage`. A stage's output folder holds:

* ``model.pt``: the final weights as a self-describing checkpoint
  (:func:`smhr.model.checkpoint.save_checkpoint`: resolved model config with this stage's input
  size, hand-model paths and hashes, ``extra = {stage, variant, step, seed}``): what
  ``smhr predict`` and the next stage read;
* ``metrics.json``: the last validation metrics; ``live/``: dvclive curves;
* ``config.yaml``: the resolved stage (model, data, schedule, weights, variant);
* ``state.pt``: the resumable training state (``--resume``).

Data: the ``single`` source is ``FreiHAND(single_root, "training", single_version)``; ``multi`` is
``ComposedDataset(multi_root, "train")``. The last ``val_images`` images of that split are held
out for validation and never trained on.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import yaml

from smhr.config import to_dict
from smhr.data.datasets.sample import Sample
from smhr.errors import ConfigError, DatasetError
from smhr.model.build import build_model, load_hand_models
from smhr.model.checkpoint import load_checkpoint, save_checkpoint
from smhr.model.config import ModelConfig
from smhr.train.config import TrainConfig, resolve_model, resolve_stages
from smhr.train.trainer import Runtime, distributed, train_stage

log = logging.getLogger(__name__)

MODEL_FILE = "model.pt"
"""The stage's final model checkpoint inside its output folder."""
CONFIG_FILE = "config.yaml"
"""The resolved configuration of the stage inside its output folder."""


class Slice(Sequence[Sample]):
    """A contiguous view ``[start, stop)`` of a dataset (images stay lazily loaded)."""

    def __init__(self, base: Sequence[Sample], start: int, stop: int) -> None:
        self.base, self.start, self.stop = base, start, stop

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, index: int) -> Sample:  # type: ignore[override]
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return self.base[self.start + index % len(self)]


@dataclass(frozen=True)
class StageData:
    """A stage's images: ``train`` and held-out ``val``, and whether each image has one camera."""

    train: Sequence[Sample]
    val: Sequence[Sample]
    single_camera: bool


def open_stage_data(cfg: TrainConfig, source: str, where: str = "params.yaml:train.data") -> StageData:
    """Opens the stage's training split and holds out its last ``val_images`` images.

    Args:
        cfg: the train section.
        source: ``single`` or ``multi``.
        where: names the config in messages.

    Raises:
        DatasetError: a missing or malformed data root, or too few images to hold out validation.
    """
    from smhr.data.datasets.composed import ComposedDataset
    from smhr.data.datasets.freihand import FreiHAND
    from smhr.data.training.cache import CachedSamples

    if source == "single":
        root = Path(cfg.data.single_root)
        if not root.is_dir():
            raise DatasetError(f"{where}.single_root {root}: folder not found; run `smhr synth` (dvc repro synth) "
                               f"or point it at a FreiHAND-layout folder")
        full: Sequence[Sample] = FreiHAND(root, "training", version=cfg.data.single_version, load_verts=False)
    else:
        root = Path(cfg.data.multi_root)
        if not root.is_dir():
            raise DatasetError(f"{where}.multi_root {root}: folder not found; run `smhr compose` "
                               f"or point it at a composed set")
        full = ComposedDataset(root, "train")
    if cfg.data.cache_mb:
        full = CachedSamples(full, cfg.data.cache_mb * 2**20)
    n, held = len(full), cfg.data.val_images
    if n <= held:
        raise DatasetError(f"{root}: {n} training images, but {where}.val_images = {held} are held out; "
                           f"lower val_images or add images")
    return StageData(Slice(full, 0, n - held), Slice(full, n - held, n), single_camera=source == "single")


def previous_stage(names: Sequence[str], name: str) -> str | None:
    """The stage before ``name`` in ``names`` (None for the first)."""
    index = list(names).index(name)
    return names[index - 1] if index > 0 else None


def stage_config(cfg: TrainConfig, name: str, variant: str):
    """The resolved :class:`StageConfig` of ``name`` under ``variant`` and the list of stage names.

    Raises:
        ConfigError: unknown variant or stage.
    """
    stages = resolve_stages(cfg, variant)
    if name not in stages:
        raise ConfigError(f"unknown stage {name!r} for variant {variant!r}; choose one of {list(stages)}")
    return stages[name], list(stages)


def init_model(model_cfg: ModelConfig, hand_model_paths: tuple[str | Path, str | Path],
               init: Path | None, seed: int) -> torch.nn.Module:
    """The network of ``model_cfg``, from scratch (``model.pretrained`` if set) or from ``init/model.pt``.

    Args:
        model_cfg: the architecture.
        hand_model_paths: ``(right, left)`` hand-model files.
        init: the previous stage's output folder, or None to start from scratch.
        seed: seeds the random initialisation.

    Raises:
        ModelFileError: a missing, corrupt or incompatible previous checkpoint (naming it).
    """
    right, left = load_hand_models(*hand_model_paths)
    torch.manual_seed(seed)
    if init is None:
        return build_model(model_cfg, right, left)
    model = build_model(dataclasses.replace(model_cfg, pretrained=None), right, left)
    previous, _ = load_checkpoint(init / MODEL_FILE, *hand_model_paths, architecture=model_cfg.architecture)
    own = model.state_dict()
    mismatch = [k for k, v in previous.state_dict().items() if k not in own or own[k].shape != v.shape]
    if mismatch:
        raise ConfigError(f"{init / MODEL_FILE}: its architecture differs from params.yaml:model ({mismatch[:3]}); "
                          f"train the previous stage again with this model section")
    model.load_state_dict(previous.state_dict())
    return model


def run_stage(cfg: TrainConfig, model_cfg: ModelConfig, hand_model_paths: tuple[str | Path, str | Path],
              name: str, variant: str, out: Path, init: Path | None = None, runtime: Runtime = Runtime(),
              resume: bool = False) -> dict[str, float]:
    """Trains stage ``name`` of ``variant`` into ``out`` (see the module docstring for the files).

    Args:
        cfg: the train section.
        model_cfg: the model section (the variant's ``architecture`` overrides its own).
        hand_model_paths: ``(right, left)`` hand-model files (``base.hand_model_right/left``).
        name: the stage.
        variant: ``main`` or a name of ``cfg.variants``.
        out: the output folder.
        init: the previous stage's output folder (required unless ``name`` is the first stage).
        runtime: device, precision, determinism.
        resume: continue from ``out/state.pt``.

    Returns:
        The final validation metrics.
    """
    stage, names = stage_config(cfg, name, variant)
    model_cfg = resolve_model(cfg, model_cfg, variant)
    data = open_stage_data(cfg, stage.data)
    first = previous_stage(names, name) is None
    model = init_model(model_cfg, hand_model_paths, None if first else init, cfg.seed)
    if runtime.device.startswith("cuda") and distributed()[1] > 1 and model_cfg.norm == "batch":
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    metrics = train_stage(model, stage, cfg.data, data.train, data.val, out, seed=cfg.seed,
                          single_camera=data.single_camera, runtime=runtime, resume=resume, name=name)
    if not metrics or distributed()[0] != 0:
        return metrics
    trained_cfg = dataclasses.replace(model_cfg, input_size=stage.input_size)
    save_checkpoint(out / MODEL_FILE, _plain(model).cpu(), trained_cfg, hand_model_paths,
                    extra={"stage": name, "variant": variant, "step": stage.steps, "seed": cfg.seed})
    resolved = {"stage": name, "variant": variant, "init": None if first else str(init),
                "model": to_dict(trained_cfg), "train": to_dict(stage) | {"seed": cfg.seed},
                "data": to_dict(cfg.data), "hand_models": [str(p) for p in hand_model_paths]}
    tmp = out / f".{CONFIG_FILE}.tmp"
    tmp.write_text(yaml.safe_dump(resolved, sort_keys=True))
    tmp.replace(out / CONFIG_FILE)
    return metrics


def _plain(model: torch.nn.Module) -> torch.nn.Module:
    """SyncBatchNorm layers back to BatchNorm2d, so the saved weights load in a plain network."""
    for child_name, child in model.named_children():
        if isinstance(child, torch.nn.SyncBatchNorm):
            plain = torch.nn.BatchNorm2d(child.num_features, child.eps, child.momentum, child.affine,
                                         child.track_running_stats)
            plain.load_state_dict(child.state_dict())
            setattr(model, child_name, plain)
        else:
            _plain(child)
    return model
