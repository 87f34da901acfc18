"""``params.yaml:train``: data sources, named stages (each a list of loss weights) and variants.

The stages run in order, each starting from the previous one's checkpoint:
``localize`` (centres, handedness, local keypoints) -> ``reproject`` (+ 2D reprojection, apparent
size, bones, pose and shape priors, consistency) -> ``render`` (+ silhouette, photometric) -> ``multi`` (the
composed multi-hand set at the larger input size). A variant is a named override applied to every
stage (``full`` adds 3D supervision; the ablations switch one term off, or collapse the schedule;
``two_stage`` trains the two-stage baseline's architecture on the same schedule).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

from smhr.data.training.augment import AugmentConfig
from smhr.errors import ConfigError
from smhr.model.config import ModelConfig

WEAK_TERMS = ("center", "center_offset", "box_size", "keypoint_heatmap", "keypoint_offset", "reprojection",
              "apparent_size", "bone_direction", "pose_prior", "pose_regulariser", "shape", "consistency",
              "silhouette", "photometric")
"""Loss terms that read 2D labels, masks or the image only."""

FULL_TERMS = ("joints3d", "vertices", "mano_pose", "mano_betas")
"""Loss terms that read 3D ground truth (only a ``full`` variant may weight them)."""


@dataclass(frozen=True)
class LossWeights:
    """Weight of each loss term (0 switches a term off: it is then not even computed).

    The terms are the functions of :mod:`smhr.train.losses`; see docs/training.md. ``box_size``
    is the two-stage baseline's detector box term (the single-stage network has no box head).
    """

    center: float = 1.0
    center_offset: float = 1.0
    box_size: float = 0.0
    keypoint_heatmap: float = 1.0
    keypoint_offset: float = 1.0
    reprojection: float = 0.0
    apparent_size: float = 0.0
    bone_direction: float = 0.0
    pose_prior: float = 0.0
    pose_regulariser: float = 0.0
    shape: float = 0.0
    consistency: float = 0.0
    silhouette: float = 0.0
    photometric: float = 0.0
    joints3d: float = 0.0
    vertices: float = 0.0
    mano_pose: float = 0.0
    mano_betas: float = 0.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not value >= 0.0 or value == float("inf"):
                raise ConfigError(f"train weights.{f.name}: must be a finite number >= 0, got {value}")

    def active(self) -> dict[str, float]:
        """The terms with a positive weight."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if getattr(self, f.name) > 0}

    def reads_3d(self) -> bool:
        """True when a term that reads 3D ground truth is on."""
        return any(getattr(self, name) > 0 for name in FULL_TERMS)


@dataclass(frozen=True)
class StageConfig:
    """One training stage.

    Attributes:
        data: ``single`` (the single-hand FreiHAND-layout set) or ``multi`` (the composed set).
        input_size: S of the network input for this stage (a multiple of 32).
        batch_size: images per optimiser step over all processes.
        steps: optimiser steps of the stage.
        lr: peak learning rate (AdamW).
        weight_decay: AdamW's decoupled weight decay.
        warmup_steps: linear warm-up steps.
        schedule: ``cosine``, ``step`` or ``constant`` after warm-up.
        min_lr_factor: the cosine's floor, as a fraction of ``lr``.
        grad_clip: maximum global gradient norm (0: no clipping).
        ema_decay: decay of the weights' moving average, or null for none (the EMA weights are
            the ones validated and saved as the stage's model when enabled).
        weights: loss weights.
        val_every: validate every this many steps (and at the end).
        checkpoint_every: write the resumable checkpoint every this many steps (and at the end).
        log_every: log training losses every this many steps.
    """

    data: Literal["single", "multi"] = "single"
    input_size: int = 128
    batch_size: int = 16
    steps: int = 200
    lr: float = 2.0e-3
    weight_decay: float = 1.0e-4
    warmup_steps: int = 20
    schedule: Literal["cosine", "step", "constant"] = "cosine"
    min_lr_factor: float = 0.05
    grad_clip: float = 5.0
    ema_decay: float | None = None
    weights: LossWeights = field(default_factory=LossWeights)
    val_every: int = 100
    checkpoint_every: int = 50
    log_every: int = 10

    def __post_init__(self) -> None:
        for name in ("batch_size", "steps", "val_every", "checkpoint_every", "log_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"train stage {name}: must be >= 1, got {getattr(self, name)}")
        if self.input_size < 32 or self.input_size % 32:
            raise ConfigError(f"train stage input_size: a positive multiple of 32, got {self.input_size}")
        if not self.lr > 0 or not 0 <= self.weight_decay < 1 or self.warmup_steps < 0:
            raise ConfigError("train stage lr > 0, 0 <= weight_decay < 1 and warmup_steps >= 0 are required")
        if self.ema_decay is not None and not 0.0 < self.ema_decay < 1.0:
            raise ConfigError(f"train stage ema_decay: must be in (0, 1) or null, got {self.ema_decay}")


@dataclass(frozen=True)
class DataSources:
    """Where training images come from.

    Attributes:
        single_root: a FreiHAND-layout folder (ours or the real FreiHAND).
        single_version: FreiHAND image version of the training split (gs, hom, sample, auto).
        multi_root: a composed multi-hand set (``smhr compose``), its ``train`` split.
        val_images: images held out from the end of each training split for validation.
        max_hands: hand slots per image.
        num_workers: DataLoader worker processes (0: load in the main process).
        cache_mb: decoded images kept in memory across epochs, in MiB per loading process
            (:mod:`smhr.data.training.cache`; 0: read every image from disk each time).
        augment: augmentation ranges.
    """

    single_root: str = "data/synth/freihand"
    single_version: str = "gs"
    multi_root: str = "data/composed"
    val_images: int = 50
    max_hands: int = 4
    num_workers: int = 0
    cache_mb: int = 1024
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        if self.val_images < 1 or self.max_hands < 1 or self.num_workers < 0 or self.cache_mb < 0:
            raise ConfigError("train data: val_images >= 1, max_hands >= 1, num_workers >= 0 and cache_mb >= 0 "
                              "are required")


@dataclass(frozen=True)
class Variant:
    """A named override of every stage.

    Attributes:
        weights: loss weights set in every stage (e.g. ``{consistency: 0.0}``).
        stagewise: False collapses the schedule: one stage with the last stage's data and every
            weight any stage uses, for the summed number of steps (all losses from step 0).
        architecture: trains this network instead of ``params.yaml:model.architecture``
            (``two_stage``: the two-stage baseline, :mod:`smhr.model.two_stage`); None keeps it.
    """

    weights: dict[str, float] = field(default_factory=dict)
    stagewise: bool = True
    architecture: Literal["single_stage", "two_stage"] | None = None


@dataclass(frozen=True)
class TrainConfig:
    """The ``train`` section.

    Attributes:
        seed: base seed (initialisation, data order, augmentation).
        data: data sources.
        stages: stage name -> config, in the order they run.
        variants: variant name -> override (``main`` is the unmodified schedule; it may be listed, empty,
            so that every variant has a params key for DVC to track).
    """

    seed: int = 0
    data: DataSources = field(default_factory=DataSources)
    stages: dict[str, StageConfig] = field(default_factory=dict)
    variants: dict[str, Variant] = field(default_factory=dict)


def parse_train_config(raw: dict, where: str = "params.yaml:train") -> TrainConfig:
    """Builds :class:`TrainConfig` from the YAML mapping, strictly (unknown keys are errors)."""
    from smhr.config import from_dict

    raw = dict(raw or {})
    stages = raw.pop("stages", None) or {}
    variants = raw.pop("variants", None) or {}
    base = from_dict(TrainConfig, raw, where)
    if not isinstance(stages, dict) or not stages:
        raise ConfigError(f"{where}.stages: give at least one named stage")
    parsed_stages = {name: from_dict(StageConfig, body, f"{where}.stages.{name}") for name, body in stages.items()}
    parsed_variants = {}
    for name, body in variants.items():
        if name == "main" and body:
            raise ConfigError(f"{where}.variants.main: the reference schedule takes no override (it is "
                              f"train.stages as written); leave it empty ({{}}) and change train.stages")
        variant = from_dict(Variant, body or {}, f"{where}.variants.{name}")
        unknown = sorted(set(variant.weights) - {f.name for f in dataclasses.fields(LossWeights)})
        if unknown:
            raise ConfigError(f"{where}.variants.{name}.weights: unknown term(s) {unknown}")
        parsed_variants[name] = variant
    return dataclasses.replace(base, stages=parsed_stages, variants=parsed_variants)


def resolve_stages(cfg: TrainConfig, variant: str) -> dict[str, StageConfig]:
    """The stages a variant runs, in order, with its overrides applied.

    Args:
        cfg: the train section.
        variant: ``main`` or a name of ``cfg.variants``.

    Raises:
        ConfigError: an unknown variant.
    """
    if variant == "main":
        return dict(cfg.stages)
    if variant not in cfg.variants:
        raise ConfigError(f"unknown training variant {variant!r}; choose main or one of {sorted(cfg.variants)}")
    v = cfg.variants[variant]
    stages = {name: dataclasses.replace(s, weights=dataclasses.replace(s.weights, **v.weights))
              for name, s in cfg.stages.items()}
    if v.stagewise:
        return stages
    last = list(stages.values())[-1]
    union = {f.name: max(getattr(s.weights, f.name) for s in stages.values()) for f in dataclasses.fields(LossWeights)}
    union.update(v.weights)
    steps = sum(s.steps for s in stages.values())
    return {"all": dataclasses.replace(last, steps=steps, weights=LossWeights(**union))}


def resolve_model(cfg: TrainConfig, model_cfg: ModelConfig, variant: str) -> ModelConfig:
    """The network a variant trains: ``params.yaml:model`` with the variant's ``architecture``.

    Args:
        cfg: the train section.
        model_cfg: the model section.
        variant: ``main`` or a name of ``cfg.variants`` (an unknown name is left to
            :func:`resolve_stages` to refuse).
    """
    override = cfg.variants[variant].architecture if variant in cfg.variants else None
    return model_cfg if override is None else dataclasses.replace(model_cfg, architecture=override)


def shared_prefix(cfg: TrainConfig, variant: str, reference: str = "main") -> list[str]:
    """The leading stages a variant runs exactly as ``reference`` does (same resolved config).

    An ablation whose change first acts in a later stage (``no_silhouette``: the ``render`` stage)
    trains those leading stages identically to the reference; the study reuses the reference's
    models for them and branches off where the variant first differs (dvc.yaml).

    Args:
        cfg: the train section.
        variant: a variant name.
        reference: the variant it is compared with.

    Returns:
        Stage names, in order, up to (not including) the first that differs; empty when the very
        first stage differs, the stage lists differ (``stagewise: false``) or the variants train
        different architectures (``two_stage``).
    """
    arch = {name: cfg.variants[name].architecture if name in cfg.variants else None for name in (variant, reference)}
    if arch[variant] != arch[reference]:
        return []
    mine, theirs = resolve_stages(cfg, variant), resolve_stages(cfg, reference)
    same: list[str] = []
    for (name, stage), (other_name, other) in zip(mine.items(), theirs.items()):
        if name != other_name or stage != other:
            break
        same.append(name)
    return same
