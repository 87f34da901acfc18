"""The ``benchmark`` section of ``params.yaml``: where each benchmark's data is, as frozen dataclasses.

A benchmark whose ``root`` is null is skipped (one log line); a root that is set must exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class RootConfig:
    """A benchmark given by its dataset folder alone.

    Attributes:
        root: the dataset folder, or None to skip the benchmark.
    """

    root: str | None = None


@dataclass(frozen=True)
class HO3DConfig:
    """HO-3D: the evaluation split's images and the user's ground-truth files (not public).

    Attributes:
        root: folder holding ``evaluation.txt`` and ``evaluation/``, or None to skip.
        version: ``v2`` or ``v3`` (the protocol ``ho3d-v2`` / ``ho3d-v3``).
        gt: folder holding ``evaluation_xyz.json`` and ``evaluation_verts.json`` (HO3D's axes and
            joint order); None skips the benchmark even with ``root`` set.
    """

    root: str | None = None
    version: Literal["v2", "v3"] = "v2"
    gt: str | None = None


@dataclass(frozen=True)
class InterHandConfig:
    """InterHand2.6M.

    Attributes:
        root: folder holding ``images/`` and ``annotations/``, or None to skip.
        split: the split evaluated (its annotation folder is the protocol's ground truth).
    """

    root: str | None = None
    split: Literal["train", "val", "test"] = "test"


@dataclass(frozen=True)
class BenchmarkSection:
    """``params.yaml:benchmark``.

    Attributes:
        batch_size: images per forward pass.
        synth: our synthetic FreiHAND-layout set (FreiHAND protocol on its evaluation split).
        composed: the composed multi-hand set (multihand protocol on its benchmark split).
        freihand: the real FreiHAND (its evaluation release: ``evaluation/rgb`` + ``evaluation_*.json``).
        ho3d: HO-3D (see :class:`HO3DConfig`).
        interhand: InterHand2.6M (see :class:`InterHandConfig`).
        rhd: RHD (``RHD_published_v2``, its evaluation split).
    """

    batch_size: int = 8
    synth: RootConfig = field(default_factory=lambda: RootConfig("data/synth/freihand"))
    composed: RootConfig = field(default_factory=lambda: RootConfig("data/composed"))
    freihand: RootConfig = field(default_factory=RootConfig)
    ho3d: HO3DConfig = field(default_factory=HO3DConfig)
    interhand: InterHandConfig = field(default_factory=InterHandConfig)
    rhd: RootConfig = field(default_factory=RootConfig)
