"""Predictors over a benchmark: the network (through ``load_checkpoint`` + ``.predict``) or the mean hand.

Both return, per image, every hand slot in decreasing score order, in the image's own pixels and
camera frame (:class:`ImagePrediction`). The network sees what ``smhr predict`` gives it: the image
letterboxed to its input (:mod:`smhr.predict.letterbox`) and, for single-camera datasets, the
image's labelled K mapped to the input; its outputs are mapped back with
:func:`smhr.predict.results.to_source`. It decodes with a score threshold of 0 so that single-hand
protocols can take the top-scoring centre of an image where nothing passes the model's threshold;
``detected`` keeps the model's own threshold.

The mean hand (:mod:`smhr.train.mean_hand`) is placed at every labelled hand's box: it is given the
ground-truth boxes and sides, so its detection numbers are an upper bound, not a detector's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import torch
from tqdm import tqdm

from smhr.data.datasets.sample import Sample
from smhr.errors import ModelFileError
from smhr.model.outputs import PredictedHand
from smhr.predict.letterbox import Letterbox, normalise
from smhr.predict.results import to_source

if TYPE_CHECKING:
    from smhr.hand.layer import HandModel
    from smhr.train.mean_hand import MeanHand


@dataclass
class ImagePrediction:
    """Every hand slot of one image, highest score first, in the image's pixels and camera frame.

    Attributes:
        slots: the decoder's top-K hands, below the score threshold included.
        threshold: the model's score threshold (a hand is detected at or above it).
        source: the sample's name (:attr:`smhr.data.datasets.sample.Sample.source`).
    """

    slots: list[PredictedHand]
    threshold: float
    source: str = ""

    @property
    def hands(self) -> list[PredictedHand]:
        """The detected hands (score >= threshold)."""
        return [h for h in self.slots if h.score >= self.threshold]

    @property
    def detected(self) -> bool:
        """At least one hand passes the threshold."""
        return bool(self.hands)

    def compact(self) -> ImagePrediction:
        """Only the slots any prediction file reads: the detected hands, the top slot and the best
        slot of each side (a large evaluation set's 10 slots of meshes per image do not fit in memory)."""
        best = {h.side: h for h in reversed(self.slots)}
        keep = [h for k, h in enumerate(self.slots)
                if k == 0 or h.score >= self.threshold or any(h is b for b in best.values())]
        return ImagePrediction(keep, self.threshold, self.source)


class Predictor(Protocol):
    """Predicts a batch of labelled images (the labels give the camera, or the mean hand's boxes)."""

    def __call__(self, samples: Sequence[Sample], gt_camera: bool) -> list[ImagePrediction]: ...


@contextmanager
def _threshold_zero(net: torch.nn.Module) -> Iterator[float]:
    """Within the block ``net.predict`` keeps every top-K slot; yields the model's own threshold."""
    cfg = net.cfg
    net.cfg = dataclasses.replace(cfg, score_threshold=0.0)
    try:
        yield float(cfg.score_threshold)
    finally:
        net.cfg = cfg


class NetworkPredictor:
    """A loaded network (single- or two-stage: anything with ``cfg`` and ``.predict(images, K)``).

    Args:
        net: from :func:`smhr.model.checkpoint.load_checkpoint`, in eval mode.
        checkpoint: its file (named in errors).
        device: torch device to run on.
    """

    def __init__(self, net: torch.nn.Module, checkpoint: Path, device: str = "cpu") -> None:
        self.net, self.checkpoint, self.device = net.to(device).eval(), Path(checkpoint), device
        self.size = int(net.cfg.input_size)

    @torch.no_grad()
    def __call__(self, samples: Sequence[Sample], gt_camera: bool) -> list[ImagePrediction]:
        """Predicts a batch.

        Args:
            samples: B labelled images (any sizes); with ``gt_camera`` each image's camera is its
                first hand's ``K`` (images without hands get the model's default camera).
            gt_camera: decode translations with the labelled K (single-camera datasets).

        Raises:
            ModelFileError: the network gives NaN or inf (a broken checkpoint).
        """
        boxes = [Letterbox.fit(s.image.shape[:2], self.size) for s in samples]
        x = torch.from_numpy(np.stack([normalise(lb.warp(s.image)) for lb, s in zip(boxes, samples)]))
        K = None
        if gt_camera:
            from smhr.model.camera import default_intrinsics

            default = default_intrinsics(self.size, 1, torch.float64)[0].numpy()
            K = torch.from_numpy(np.stack([lb.K_to_input(s.hands[0].K) if s.hands else default
                                           for lb, s in zip(boxes, samples)])).float().to(self.device)
        with _threshold_zero(self.net) as threshold:
            pred = self.net.predict(x.to(self.device), K).to("cpu")
        out = []
        for sample, lb, slots in zip(samples, boxes, pred.per_image()):
            if not all(np.isfinite(h.vertices).all() and np.isfinite(h.joints2d).all() for h in slots):
                raise ModelFileError(f"{self.checkpoint}: the network gives NaN or inf on {sample.source}; the "
                                     f"checkpoint is broken (diverged training?): use another one")
            out.append(ImagePrediction([to_source(h, lb) for h in slots], threshold))
        return out


class MeanHandPredictor:
    """The mean hand at every labelled hand's box (:func:`smhr.train.mean_hand.predict_samples`).

    Args:
        mean: the mean right hand.
        hand_models: ``(left, right)`` hand models.
    """

    def __init__(self, mean: MeanHand, hand_models: tuple[HandModel, HandModel]) -> None:
        self.mean, self.hand_models = mean, hand_models

    def __call__(self, samples: Sequence[Sample], gt_camera: bool) -> list[ImagePrediction]:
        """Predicts a batch (score 1 per labelled hand; ``gt_camera`` is implied: each image's first K)."""
        from smhr.train.mean_hand import predict_samples

        pred = predict_samples(self.mean, self.hand_models, samples)
        return [ImagePrediction(slots, 0.0) for slots in pred.per_image()]


def predict_dataset(predictor: Predictor, dataset: Sequence[Sample], gt_camera: bool, batch_size: int,
                    progress: bool = False, desc: str = "", all_slots: bool = False) -> list[ImagePrediction]:
    """Runs ``predictor`` over ``dataset`` in batches, in order.

    Args:
        predictor: a :class:`Predictor`.
        dataset: the benchmark's samples (read one by one).
        gt_camera: see :meth:`NetworkPredictor.__call__`.
        batch_size: images per call.
        progress: show a progress bar.
        desc: its label.
        all_slots: keep every top-K slot (the multi-hand protocol ranks them all for AP; its sets
            are small); else only what single-hand files read (:meth:`ImagePrediction.compact`).

    Returns:
        One :class:`ImagePrediction` per image.
    """
    out: list[ImagePrediction] = []
    with tqdm(total=len(dataset), unit="img", desc=desc, disable=not progress) as bar:
        for lo in range(0, len(dataset), batch_size):
            batch = [dataset[i] for i in range(lo, min(lo + batch_size, len(dataset)))]
            for sample, pred in zip(batch, predictor(batch, gt_camera)):
                pred.source = sample.source
                out.append(pred if all_slots else pred.compact())
            bar.update(len(batch))
    return out
