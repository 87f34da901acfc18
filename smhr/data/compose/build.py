"""The multi-hand composer: builds the composed benchmark and training split from single hands.

This is how the paper builds its weakly-supervised multi-hand set from FreiHAND: every composed
image pastes 1..N masked single hands (scaled, some mirrored into left hands) onto a background
(:mod:`smhr.data.compose.paste`). The output (layout and annotation schema in :mod:`smhr.data.datasets.composed`)
is written to a temporary folder and renamed into place only when complete, so an interrupted
run never leaves a folder that looks valid. Every composed hand is validated before it is
written (:func:`check_composed`), so NaN intrinsics never reach the annotation file. Image ``i``
of split ``s`` is drawn from its own generator ``default_rng([seed, s, i])``: the output is the
same bytes for the same seed.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from smhr.config import to_dict
from smhr.data.synth.backgrounds import BackgroundSource
from smhr.data.datasets.imageio import write_jpeg, write_json, write_png
from smhr.data.datasets.composed import ANNOTATIONS, FORMAT, SPLITS, VERSION, hand_to_record
from smhr.data.compose.paste import ComposedImage, PasteConfig, compose_image
from smhr.data.datasets.sample import ContractError, Sample
from smhr.errors import ConfigError, DatasetError
from smhr.outputs import replace_dir


@dataclass(frozen=True)
class ComposeConfig(PasteConfig):
    """The ``compose`` section of ``params.yaml``: the placement fields of :class:`PasteConfig`
    (``image_size``, ``hands_per_image``, ``scale_range``, ``left_prob``, ``max_overlap_iou``,
    ``max_tries``) plus:

    Attributes:
        source_root: single-hand source in FreiHAND's layout (ours or the real FreiHAND).
        source_version: FreiHAND image version of the training split (``gs``, ``hom``, ``sample``, ``auto``).
        benchmark_source_split: source split the benchmark's hands come from.
        train_source_split: source split the training split's hands come from.
        output_root: folder to write (replaced atomically).
        num_benchmark: number of benchmark images.
        num_train: number of training images.
        background: ``"procedural"`` or a folder of background images.
        jpeg_quality: JPEG quality of the composed images.
        write_verts: also write each hand's vertices into the annotation file (large).
        seed: the random seed.
    """

    source_root: str = "data/synth/freihand"
    source_version: str = "gs"
    benchmark_source_split: str = "evaluation"
    train_source_split: str = "training"
    output_root: str = "data/composed"
    num_benchmark: int = 100
    num_train: int = 1000
    background: str = "procedural"
    jpeg_quality: int = 95
    write_verts: bool = False
    seed: int = 0

    def validate(self, where: str = "compose") -> None:
        """Raises ConfigError naming ``where`` and the key for out-of-range values."""
        lo, hi = self.scale_range
        problems = [
            ("image_size", self.image_size < 8, "must be >= 8"),
            ("num_benchmark", self.num_benchmark < 0, "must be >= 0"),
            ("num_train", self.num_train < 0, "must be >= 0"),
            ("hands_per_image", not self.hands_per_image or min(self.hands_per_image) < 0
             or sum(self.hands_per_image) <= 0 or len(self.hands_per_image) > 254, "must be 1..254 non-negative probabilities, not all 0"),
            ("scale_range", not 0 < lo <= hi <= 1, "must satisfy 0 < min <= max <= 1"),
            ("left_prob", not 0 <= self.left_prob <= 1, "must be in [0, 1]"),
            ("max_overlap_iou", not 0 <= self.max_overlap_iou <= 1, "must be in [0, 1]"),
            ("max_tries", self.max_tries < 1, "must be >= 1"),
            ("jpeg_quality", not 1 <= self.jpeg_quality <= 100, "must be in 1..100"),
        ]
        for key, bad, rule in problems:
            if bad:
                raise ConfigError(f"{where}.{key} = {getattr(self, key)!r} {rule}")


def check_composed(composed: ComposedImage, where: str) -> None:
    """Checks a composed image's hands before they are written (finite ``K``, 3D matching 2D).

    Args:
        composed: the composed image.
        where: names the image in the message, e.g. ``"benchmark image 12"``.

    Raises:
        DatasetError: naming the image, the source sample of the offending hand, and what is wrong.
    """
    for k, (hand, source) in enumerate(zip(composed.sample.hands, composed.sources)):
        try:
            hand.validate(f"composed {where} hand {k} (pasted from {source})", composed.sample.image.shape[:2])
        except ContractError as err:
            raise DatasetError(f"{err}; fix or remove that source sample") from err


def write_composed(
    sources: Mapping[str, Sequence[Sample]],
    cfg: ComposeConfig,
    backgrounds: BackgroundSource,
    out_root: str | Path | None = None,
    progress: bool = True,
) -> Path:
    """Composes and writes the benchmark and the training split.

    Args:
        sources: source samples per output split (``"benchmark"``, ``"train"``); each needs masks.
        cfg: the composition parameters (``cfg.num_benchmark`` / ``cfg.num_train`` images).
        backgrounds: the background source.
        out_root: output folder (default ``cfg.output_root``); replaced only once complete.
        progress: show a progress bar.

    Returns:
        The output folder.

    Raises:
        ConfigError: for out-of-range parameters.
        DatasetError: for an empty source, a source hand without a mask or with a broken
            annotation (naming the source file or sample), or a composed hand that would be written
            with non-finite or inconsistent intrinsics (:func:`check_composed`); nothing is written.
    """
    cfg.validate()
    out = Path(cfg.output_root if out_root is None else out_root)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    counts = {"benchmark": cfg.num_benchmark, "train": cfg.num_train}
    splits: dict[str, list[dict]] = {}
    try:
        for split_id, split in enumerate(SPLITS):
            (tmp / split / "images").mkdir(parents=True)
            (tmp / split / "masks").mkdir(parents=True)
            records = []
            for i in tqdm(range(counts[split]), desc=f"compose {split}", disable=not progress):
                rng = np.random.default_rng([cfg.seed, split_id, i])
                composed = compose_image(sources[split], rng, cfg, backgrounds)
                check_composed(composed, f"{split} image {i}")
                image_rel, mask_rel = f"{split}/images/{i:08d}.jpg", f"{split}/masks/{i:08d}.png"
                write_jpeg(tmp / image_rel, composed.sample.image, quality=cfg.jpeg_quality)
                write_png(tmp / mask_rel, composed.labels)
                hands = [
                    hand_to_record(h, name, cfg.write_verts) for h, name in zip(composed.sample.hands, composed.sources)
                ]
                records.append({"id": i, "image": image_rel, "mask": mask_rel, "hands": hands})
            splits[split] = records
        doc = {"format": FORMAT, "version": VERSION, "image_size": cfg.image_size, "config": to_dict(cfg), "splits": splits}
        write_json(tmp / ANNOTATIONS, doc)
        replace_dir(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out
