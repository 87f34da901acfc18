"""Training augmentation: one random similarity (scale, rotation, translation, flip) + colour jitter.

Every geometric augmentation is a single 2D similarity ``A`` from source pixels to the square
network input, applied by :func:`smhr.data.transforms.similarity.transform_sample` to the image, the masks
and every annotation: the in-plane rotation becomes a camera rotation about its optical axis
(3D and MANO global orientation rotated, ``K`` updated), the flip mirrors 3D and MANO and swaps
sides (:mod:`smhr.data.transforms.mirror`), so ``project(joints3d, K) == joints2d`` holds afterwards.
Without augmentation the same map is a letterbox: the longer side scaled to the input size,
centred.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageEnhance

from smhr.data.datasets.sample import Sample
from smhr.data.transforms.similarity import transform_sample
from smhr.data.transforms.warp import similarity_matrix


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of the random augmentation (all uniform).

    Attributes:
        scale: (min, max) zoom factor on top of the letterbox.
        rotation_deg: maximum absolute in-plane rotation in degrees.
        translate: maximum shift as a fraction of the input size, per axis.
        flip_prob: probability of a horizontal flip (which swaps left and right hands).
        brightness: maximum relative brightness change (factor in [1 - b, 1 + b]).
        contrast: maximum relative contrast change.
        saturation: maximum relative saturation change.
    """

    scale: tuple[float, float] = (0.8, 1.25)
    rotation_deg: float = 30.0
    translate: float = 0.1
    flip_prob: float = 0.5
    brightness: float = 0.3
    contrast: float = 0.3
    saturation: float = 0.3


def letterbox_matrix(src_hw: tuple[int, int], out_size: int) -> np.ndarray:
    """Similarity fitting a ``src_hw`` image into an ``out_size`` square, centred (no augmentation).

    Returns:
        (3, 3) float64 map from source to destination pixels.
    """
    return augment_matrix(src_hw, out_size)


def augment_matrix(
    src_hw: tuple[int, int],
    out_size: int,
    zoom: float = 1.0,
    angle: float = 0.0,
    shift: tuple[float, float] = (0.0, 0.0),
    flip: bool = False,
) -> np.ndarray:
    """Letterbox, then zoom, rotate and flip about the output centre, then shift.

    Args:
        src_hw: source ``(height, width)``.
        out_size: side of the square output.
        zoom: extra scale factor.
        angle: rotation in radians (counter-clockwise on screen).
        shift: (dx, dy) in output pixels.
        flip: mirror horizontally.

    Returns:
        (3, 3) float64 map from source to destination pixels.
    """
    h, w = src_hw
    base = out_size / max(h, w)
    centre_out = (out_size - 1) / 2.0
    to_origin = np.array([[1.0, 0.0, -(w - 1) / 2.0], [0.0, 1.0, -(h - 1) / 2.0], [0.0, 0.0, 1.0]])
    around = similarity_matrix(base * zoom, angle, centre_out + shift[0], centre_out + shift[1], flip)
    return around @ to_origin


def random_matrix(rng: np.random.Generator, cfg: AugmentConfig, src_hw: tuple[int, int], out_size: int) -> np.ndarray:
    """Draws one augmentation map (see :func:`augment_matrix`); the draw order is fixed."""
    zoom = rng.uniform(*cfg.scale)
    angle = np.deg2rad(rng.uniform(-cfg.rotation_deg, cfg.rotation_deg))
    shift = rng.uniform(-cfg.translate, cfg.translate, size=2) * out_size
    flip = bool(rng.random() < cfg.flip_prob)
    return augment_matrix(src_hw, out_size, zoom, angle, (float(shift[0]), float(shift[1])), flip)


def color_jitter(image: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """Random brightness, contrast and saturation, in that order (PIL's ``ImageEnhance``).

    Each factor ``f`` blends the image with a reference, ``f * image + (1 - f) * reference``: black
    (brightness), the mean grey level (contrast), the grey image (saturation).

    Args:
        image: (H, W, 3) uint8 RGB.
        rng: random generator (three uniform draws).
        cfg: jitter ranges.

    Returns:
        (H, W, 3) uint8.
    """
    factors = [rng.uniform(1 - r, 1 + r) for r in (cfg.brightness, cfg.contrast, cfg.saturation)]
    out = Image.fromarray(np.ascontiguousarray(image))
    for enhancer, factor in zip((ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color), factors):
        out = enhancer(out).enhance(float(factor))
    return np.asarray(out)


def augment_sample(sample: Sample, rng: np.random.Generator, cfg: AugmentConfig, out_size: int) -> Sample:
    """A randomly augmented ``out_size`` square copy of ``sample`` (geometry and colour).

    Args:
        sample: the source sample.
        rng: random generator (the result is a function of its state).
        cfg: augmentation ranges.
        out_size: side of the square output.

    Returns:
        A new Sample whose annotations all follow the image.
    """
    A = random_matrix(rng, cfg, sample.image.shape[:2], out_size)
    out = transform_sample(sample, A, (out_size, out_size))
    out.image = color_jitter(out.image, rng, cfg)
    return out
