"""Every benchmark ``smhr benchmark`` knows: a plain dict of small dataclasses, no plugin system.

A :class:`Benchmark` says where its data is in :class:`~smhr.benchmark.config.BenchmarkSection`, how
to open it (:class:`Source`: the dataset adapter, the protocol, the ground truth
:func:`smhr.eval.protocols.evaluate_files` reads), which prediction file it takes, and how the
network sees it: single-hand protocols take exactly one hand per image (the top-scoring centre,
even below the score threshold), and single-camera datasets are decoded with the image's own K.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from smhr.benchmark.config import BenchmarkSection
from smhr.data.datasets.sample import Sample

PredictionFormat = Literal["mesh", "ho3d", "multihand", "interhand", "rhd"]


@dataclass(frozen=True)
class Source:
    """An opened benchmark.

    Attributes:
        dataset: its images and labels (read lazily by the adapter).
        protocol: the :data:`smhr.eval.protocols.PROTOCOLS` entry that scores it.
        gt: the ground truth ``smhr evaluate --gt`` takes, or None when it is written from
            ``dataset`` (the composed set: :func:`smhr.benchmark.predfiles.multihand_gt`).
        image_ids: (N,) the key of each image in the prediction file and the per-image CSV.
    """

    dataset: Sequence[Sample]
    protocol: str
    gt: Path | None
    image_ids: list[str]


@dataclass(frozen=True)
class Benchmark:
    """One benchmark.

    Attributes:
        name: its name (``--benchmarks``, output file names, the params key).
        description: one line for ``--help`` and the logs.
        prediction: which prediction file it takes (:mod:`smhr.benchmark.predfiles`).
        one_hand: the protocol scores one hand per image.
        gt_camera: decode with the image's labelled K (one camera per image); else the model's default.
        paths: the section's paths it needs, ``{params key: path or None}``; a None skips it.
        open: opens it (after the paths were checked).
    """

    name: str
    description: str
    prediction: PredictionFormat
    one_hand: bool
    gt_camera: bool
    paths: Callable[[BenchmarkSection], dict[str, str | None]]
    open: Callable[[BenchmarkSection], Source]


def _indices(dataset: Sequence[Sample]) -> list[str]:
    return [str(i) for i in range(len(dataset))]


def _freihand(root: str) -> Source:
    from smhr.data.datasets.freihand import FreiHAND

    ds = FreiHAND(root, "evaluation", load_verts=False, load_mask=False)
    return Source(ds, "freihand", Path(root), _indices(ds))


def _composed(section: BenchmarkSection) -> Source:
    from smhr.data.datasets.composed import ComposedDataset

    ds = ComposedDataset(section.composed.root, "benchmark")
    return Source(ds, "multihand", None, _indices(ds))


def _ho3d(section: BenchmarkSection) -> Source:
    from smhr.data.datasets.ho3d import HO3D

    cfg = section.ho3d
    ds = HO3D(cfg.root, "evaluation", cfg.version)
    return Source(ds, f"ho3d-{cfg.version}", Path(cfg.gt), _indices(ds))


def _interhand(section: BenchmarkSection) -> Source:
    from smhr.data.datasets.interhand import InterHand

    ds = InterHand(section.interhand.root, section.interhand.split)
    return Source(ds, "interhand", ds.annotation_dir, [str(a["id"]) for a in ds.annotations])


def _rhd(section: BenchmarkSection) -> Source:
    from smhr.data.datasets.rhd import RHD

    ds = RHD(section.rhd.root, "evaluation")
    return Source(ds, "rhd", Path(section.rhd.root) / "evaluation", [str(int(i)) for i in ds.ids])


BENCHMARKS: dict[str, Benchmark] = {
    b.name: b for b in (
        Benchmark("synth", "FreiHAND protocol on the synthetic set's evaluation split", "mesh", True, True,
                  lambda s: {"synth.root": s.synth.root}, lambda s: _freihand(s.synth.root)),
        Benchmark("composed", "multihand protocol on the composed set's benchmark split", "multihand", False, False,
                  lambda s: {"composed.root": s.composed.root}, _composed),
        Benchmark("freihand", "FreiHAND's evaluation split (official protocol)", "mesh", True, True,
                  lambda s: {"freihand.root": s.freihand.root}, lambda s: _freihand(s.freihand.root)),
        Benchmark("ho3d", "HO-3D's evaluation split (official protocol; needs the ground truth files)", "ho3d",
                  True, True, lambda s: {"ho3d.root": s.ho3d.root, "ho3d.gt": s.ho3d.gt}, _ho3d),
        Benchmark("interhand", "InterHand2.6M (official protocol)", "interhand", False, True,
                  lambda s: {"interhand.root": s.interhand.root}, _interhand),
        Benchmark("rhd", "RHD's evaluation split (official protocol, the dominant hand)", "rhd", True, True,
                  lambda s: {"rhd.root": s.rhd.root}, _rhd),
    )
}
"""Every benchmark by name, in the order they run."""
