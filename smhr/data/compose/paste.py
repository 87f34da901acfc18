"""Pasting single hands onto a background: one composed multi-hand image.

Each hand is cut out of its source image by its mask, scaled (and mirrored into the other side
when asked) by a 2D similarity ``A = [[s, 0, tx], [0, s, ty], [0, 0, 1]]`` (``s -> -s`` in the
first column for a mirror), so its intrinsics become ``K' = A @ K`` (via
:func:`smhr.data.transforms.similarity.transform_hand`) and its 3D still projects onto its 2D. Hands are
pasted in order; a later hand covers earlier ones: the label map holds ``k + 1`` where hand ``k``
is visible (0 = background), each hand's mask is ``label == k + 1``, and a keypoint lying on a
later hand's pixels is no longer visible. Placement keeps the box IoU between any two hands at
or below ``max_overlap_iou``; a hand that finds no place in ``max_tries`` draws is left out
(the first hand always fits). Source hands with an empty mask are redrawn; a source hand that
breaks the sample contract (:meth:`~smhr.data.datasets.sample.Hand.validate`) is an error naming its sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from smhr.data.synth.backgrounds import BackgroundSource
from smhr.data.datasets.sample import ContractError, Hand, Sample
from smhr.data.transforms.similarity import transform_hand
from smhr.data.transforms.warp import apply_affine, similarity_matrix, warp_affine
from smhr.errors import DatasetError


@dataclass(frozen=True)
class PasteConfig:
    """How hands are placed in one composed image.

    Attributes:
        image_size: side of the square composed image in pixels.
        hands_per_image: probabilities of 1, 2, ..., N hands (normalised).
        scale_range: (min, max) longer side of a pasted hand's mask box, as a fraction of the image.
        left_prob: probability that a pasted hand is a left hand (the source hand is mirrored
            when its side differs).
        max_overlap_iou: largest allowed box IoU between two pasted hands.
        max_tries: placement draws per hand before it is left out.
    """

    image_size: int = 256
    hands_per_image: tuple[float, ...] = (0.25, 0.4, 0.25, 0.1)
    scale_range: tuple[float, float] = (0.25, 0.55)
    left_prob: float = 0.5
    max_overlap_iou: float = 0.3
    max_tries: int = 30


class ComposedImage(NamedTuple):
    """One composed image.

    Attributes:
        sample: the image and its hands (``mask`` = visible pixels of each hand, ``bbox`` = box of
            the whole pasted hand before occlusion).
        labels: (S, S) uint8 label map, ``k + 1`` where hand ``k`` is visible, 0 elsewhere.
        sources: the ``source`` string of each pasted hand's sample.
    """

    sample: Sample
    labels: np.ndarray
    sources: list[str]


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two ``[x0, y0, x1, y1]`` boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0.0) * max(h, 0.0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def mask_box(mask: np.ndarray) -> np.ndarray | None:
    """Edge-aligned box ``[x0, y0, x1, y1]`` of a bool mask's pixels (pixel-centre convention), or None."""
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    if rows.size == 0:
        return None
    return np.array([cols[0] - 0.5, rows[0] - 0.5, cols[-1] + 0.5, rows[-1] + 0.5])


def source_hand(sample: Sample) -> tuple[Hand, np.ndarray] | None:
    """The first hand of a source sample and its mask box; None if its mask is empty.

    Raises:
        DatasetError: if the sample has no hand, the hand breaks the contract (e.g. a ``K`` with
            NaN or zero focal lengths, joints behind the camera), or it has no mask.
    """
    if not sample.hands:
        raise DatasetError(f"{sample.source}: source sample has no hand; composition needs single-hand samples")
    hand = sample.hands[0]
    try:
        hand.validate(f"{sample.source} hand 0", sample.image.shape[:2])
    except ContractError as err:
        raise DatasetError(
            f"{err}; composition cannot paste this source hand: fix or remove it in the source dataset "
            "(`smhr data check` lists every such sample)"
        ) from err
    if hand.mask is None:
        raise DatasetError(
            f"{sample.source}: source hand has no mask; composition cuts hands out by their masks "
            "(FreiHAND layout: <split>/mask/%08d.jpg); add the masks or choose a source that has them"
        )
    box = mask_box(hand.mask)
    return None if box is None else (hand, box)


def _draw_source(sources: Sequence[Sample], rng: np.random.Generator, redraws: int = 100) -> tuple[Sample, Hand, np.ndarray]:
    """Draws a source sample whose hand has a non-empty mask (redrawing up to ``redraws`` times)."""
    for _ in range(redraws):
        src = sources[int(rng.integers(len(sources)))]
        picked = source_hand(src)
        if picked is not None:
            return src, picked[0], picked[1]
    raise DatasetError(f"{src.source}: {redraws} source hands in a row have empty masks; check the source's mask images")


def _place(rng: np.random.Generator, size: np.ndarray, boxes: list[np.ndarray], cfg: PasteConfig) -> np.ndarray | None:
    """Draws a box centre so the (w, h) box fits in the image with IoU <= max; None if no draw fits."""
    S = cfg.image_size
    half = size / 2.0
    for _ in range(cfg.max_tries):
        centre = rng.uniform(half - 0.5, S - 0.5 - half)
        box = np.concatenate([centre - half, centre + half])
        if all(box_iou(box, other) <= cfg.max_overlap_iou for other in boxes):
            return centre
    return None


def compose_image(
    sources: Sequence[Sample], rng: np.random.Generator, cfg: PasteConfig, backgrounds: BackgroundSource
) -> ComposedImage:
    """Composes one multi-hand image.

    Args:
        sources: single-hand samples with masks (e.g. a FreiHAND-layout split).
        rng: the only source of randomness; the draw order is fixed, so the result is a function of
            its state.
        cfg: placement parameters.
        backgrounds: where the background comes from.

    Returns:
        The :class:`ComposedImage`.

    Raises:
        DatasetError: if ``sources`` is empty, or a drawn source has no hand or no mask.
    """
    if len(sources) == 0:
        raise DatasetError("composition source is empty; point params.yaml compose.source_root at a dataset with samples")
    S = cfg.image_size
    image = backgrounds.sample(S, S, rng).copy()
    labels = np.zeros((S, S), np.uint8)
    probs = np.asarray(cfg.hands_per_image, dtype=np.float64)
    n_hands = 1 + int(rng.choice(len(probs), p=probs / probs.sum()))
    hands: list[Hand] = []
    names: list[str] = []
    boxes: list[np.ndarray] = []
    for _ in range(n_hands):
        src, hand, box = _draw_source(sources, rng)
        want_left = bool(rng.random() < cfg.left_prob)
        target = rng.uniform(*cfg.scale_range) * S
        flip = (hand.side == "left") != want_left
        scale = target / float(max(box[2] - box[0], box[3] - box[1]))
        size = np.array([box[2] - box[0], box[3] - box[1]]) * scale
        centre = _place(rng, size, boxes, cfg)
        if centre is None:
            continue
        A = similarity_matrix(scale, flip=flip)
        offset = centre - apply_affine(A, ((box[:2] + box[2:]) / 2)[None])[0]
        A[:2, 2] = offset
        pasted = transform_hand(hand, A, src.width, (S, S), warp_mask=False)
        lo = np.clip(np.floor(centre - size / 2.0).astype(int), 0, S)
        hi = np.clip(np.ceil(centre + size / 2.0).astype(int) + 1, 0, S)
        window = (int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1]))
        patch = warp_affine(src.image, A, (S, S), "bilinear", window)
        cut = warp_affine(hand.mask, A, (S, S), "nearest", window)
        image[window[1] : window[3], window[0] : window[2]][cut] = patch[cut]
        labels[window[1] : window[3], window[0] : window[2]][cut] = len(hands) + 1
        full = np.zeros((S, S), bool)
        full[window[1] : window[3], window[0] : window[2]] = cut
        pasted.bbox = (mask_box(full) if cut.any() else pasted.bbox).astype(np.float32)
        hands.append(pasted)
        names.append(src.source)
        boxes.append(pasted.bbox.astype(np.float64))
    for k, hand in enumerate(hands):
        hand.mask = labels == k + 1
        px = np.clip(np.rint(hand.joints2d).astype(int), 0, S - 1)
        covered = labels[px[:, 1], px[:, 0]] > k + 1
        hand.visible = hand.visible & ~covered
    return ComposedImage(Sample(image=image, hands=hands, source=""), labels, names)
