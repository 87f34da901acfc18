"""Backgrounds for synthetic and composed images: procedural clutter, or a folder of the user's images.

:func:`procedural_background` paints a cluttered scene from a random generator alone: a colour
gradient, smooth coloured noise, then a random number of layers (soft blobs, rectangles, stripe
gratings, fine texture), some of them in skin colours so that a detector cannot learn "skin
colour = hand". It is pure NumPy and fast (several hundred 224x224 images per second).

Both sources share one call, ``source.sample(height, width, rng) -> (H, W, 3) uint8``, so
consumers take either: :class:`ProceduralBackgrounds` or :class:`FolderBackgrounds`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image, UnidentifiedImageError

from smhr.data.synth.appearance import SKIN_TONES
from smhr.errors import DatasetError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


class BackgroundSource(Protocol):
    """Anything that can produce a background image."""

    def sample(self, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
        """Returns an (height, width, 3) uint8 RGB image drawn with ``rng``."""
        ...


def _interp_matrix(n_out: int, n_in: int) -> np.ndarray:
    """(n_out, n_in) linear-interpolation weights that stretch ``n_in`` samples over ``n_out`` pixels."""
    pos = np.linspace(0.0, n_in - 1.0, n_out)
    lo = np.clip(np.floor(pos).astype(np.int64), 0, max(n_in - 2, 0))
    frac = pos - lo
    mat = np.zeros((n_out, n_in), dtype=np.float32)
    rows = np.arange(n_out)
    mat[rows, lo] = 1.0 - frac
    if n_in > 1:
        mat[rows, lo + 1] += frac
    return mat


def smooth_noise(height: int, width: int, cells: int, channels: int, rng: np.random.Generator) -> np.ndarray:
    """Smooth random field: a coarse grid of N(0, 1) values, bilinearly upsampled.

    Args:
        height, width: output size in pixels.
        cells: number of grid cells along the longer side (>= 2).
        channels: number of independent channels.
        rng: random generator.

    Returns:
        (height, width, channels) float32.
    """
    gh = max(2, round(cells * height / max(height, width)) + 1)
    gw = max(2, round(cells * width / max(height, width)) + 1)
    grid = rng.standard_normal((channels, gh, gw)).astype(np.float32)
    up = _interp_matrix(height, gh) @ grid @ _interp_matrix(width, gw).T  # (C, H, W)
    return np.moveaxis(up, 0, -1)


def _random_color(rng: np.random.Generator, skin_prob: float) -> np.ndarray:
    """(3,) RGB in [0, 1]: a skin tone with probability ``skin_prob``, else a random colour."""
    if rng.uniform() < skin_prob:
        tone = SKIN_TONES[rng.integers(len(SKIN_TONES))]
        return np.clip(tone * rng.uniform(0.8, 1.15), 0.0, 1.0).astype(np.float32)
    # Everyday scenes are mostly muted: mix a random hue with its grey by a random saturation.
    hue = rng.uniform(0.0, 1.0, 3)
    grey = hue.mean()
    return (grey + rng.uniform(0.2, 1.0) ** 1.5 * (hue - grey)).astype(np.float32)


def _soft_step(signed_distance: np.ndarray, softness: float) -> np.ndarray:
    """0 outside, 1 inside, with a linear ramp ``softness`` pixels wide (negative distance = inside)."""
    return np.clip(0.5 - signed_distance * (1.0 / max(softness, 1e-3)), 0.0, 1.0)


def procedural_background(
    height: int, width: int, rng: np.random.Generator, skin_distractor_prob: float = 0.2
) -> np.ndarray:
    """Paints one random cluttered background.

    Layers, in order: a linear gradient between two colours; smooth coloured noise; 3 to 9
    random shapes (soft ellipses/blobs, rotated rectangles, stripe gratings clipped to a region),
    each coloured at random or, with probability ``skin_distractor_prob``, in a skin tone; a
    fine texture; global brightness/contrast and a little pixel noise.

    Args:
        height, width: image size in pixels.
        rng: the only source of randomness (same generator state -> same image).
        skin_distractor_prob: probability that a shape is skin-coloured.

    Returns:
        (height, width, 3) uint8 RGB.
    """
    # Paint at half resolution (backgrounds of hand photos are rarely in sharp focus), then upsample.
    h, w = (height + 1) // 2, (width + 1) // 2
    size = float(max(h, w))
    ys = np.arange(h, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]

    angle = rng.uniform(0.0, 2.0 * math.pi)
    ramp = (math.cos(angle) * xs + math.sin(angle) * ys) / size
    ramp = (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1e-6)
    c0, c1 = _random_color(rng, 0.0), _random_color(rng, 0.0)
    img = c0 + (c1 - c0) * ramp[..., None]
    blotches = smooth_noise(h, w, int(rng.integers(2, 9)), 3, rng)  # luminance + a little colour
    img += rng.uniform(0.03, 0.2) * blotches[..., :1] + rng.uniform(0.0, 0.06) * blotches

    for _ in range(int(rng.integers(3, 10))):
        _paint_shape(img, rng, _random_color(rng, skin_distractor_prob))

    img += rng.uniform(0.0, 0.08) * smooth_noise(h, w, int(rng.integers(10, 30)), 1, rng)
    img = (img - 0.5) * rng.uniform(0.7, 1.2) + (0.5 + rng.uniform(-0.15, 0.1))
    small = Image.fromarray((np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8))
    out = np.asarray(small.resize((width, height), Image.Resampling.BILINEAR), dtype=np.int16)
    # Sensor noise, grey (the same in all channels), at full resolution.
    amplitude = int(rng.integers(0, 7))
    noise = rng.integers(-amplitude, amplitude + 1, size=(height, width, 1), dtype=np.int16)
    return np.clip(out + noise, 0, 255).astype(np.uint8)


def _paint_shape(img: np.ndarray, rng: np.random.Generator, color: np.ndarray) -> None:
    """Alpha-blends one random shape into ``img`` (H, W, 3) float32, in place, within its bounding box.

    Shapes: a soft ellipse with a wobbly outline (a blob), a rotated rectangle, stripes clipped to
    a rotated rectangle, or a long thin bar crossing the image.
    """
    height, width = img.shape[:2]
    size = float(max(height, width))
    cx, cy = rng.uniform(-0.1, 1.1) * width, rng.uniform(-0.1, 1.1) * height
    kind = int(rng.integers(4))
    theta = rng.uniform(0.0, math.pi)
    cos_t, sin_t = math.cos(theta), math.sin(theta)
    a, b = rng.uniform(0.05, 0.4) * size, rng.uniform(0.03, 0.3) * size
    softness = rng.uniform(0.7, 4.0)
    opacity = rng.uniform(0.6, 1.0)
    reach = {0: 1.2 * max(a, b), 1: math.hypot(a, b), 2: math.hypot(a, b), 3: 2.0 * size}[kind] + softness
    x0, x1 = max(0, int(cx - reach)), min(width, int(cx + reach) + 1)
    y0, y1 = max(0, int(cy - reach)), min(height, int(cy + reach) + 1)
    if x1 <= x0 or y1 <= y0:
        return
    xs = np.arange(x0, x1, dtype=np.float32)[None, :] - cx
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] - cy
    u = xs * cos_t + ys * sin_t
    v = ys * cos_t - xs * sin_t
    if kind == 0:
        wobble = 1.0 + 0.15 * smooth_noise(y1 - y0, x1 - x0, 4, 1, rng)[..., 0]
        dist = (np.sqrt((u / a) ** 2 + (v / b) ** 2) - wobble) * min(a, b)
    elif kind == 1:
        dist = np.maximum(np.abs(u) - a, np.abs(v) - b)
    elif kind == 2:
        period = rng.uniform(0.02, 0.15) * size
        stripes = np.sin(u * (2.0 * math.pi / period)) * (period / (2.0 * math.pi))
        dist = np.maximum(np.maximum(np.abs(u) - a, np.abs(v) - b), stripes)
    else:
        dist = np.abs(v) - rng.uniform(0.005, 0.03) * size
    alpha = _soft_step(dist, softness) * opacity
    shade = 1.0 + (0.15 / size) * u  # a little shading across the shape
    window = img[y0:y1, x0:x1]
    window += alpha[..., None] * (color * shade[..., None] - window)


class ProceduralBackgrounds:
    """The default background source: :func:`procedural_background`.

    Args:
        skin_distractor_prob: probability that a shape is skin-coloured.
    """

    def __init__(self, skin_distractor_prob: float = 0.2) -> None:
        self.skin_distractor_prob = skin_distractor_prob

    def sample(self, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
        """Returns an (height, width, 3) uint8 procedural background."""
        return procedural_background(height, width, rng, self.skin_distractor_prob)


class FolderBackgrounds:
    """Random crops of the images in a folder (searched recursively, sorted by path).

    Each call picks an image, a random square-ish crop covering between ``min_crop`` and all of
    its shorter side, flips it horizontally with probability 1/2 and resizes it to the size asked.

    Args:
        folder: directory with ``.jpg/.jpeg/.png/.bmp/.webp`` images.
        min_crop: smallest crop side as a fraction of the image's shorter side.

    Raises:
        DatasetError: if the folder does not exist or has no images.
    """

    def __init__(self, folder: str | Path, min_crop: float = 0.3) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise DatasetError(f"{self.folder}: background folder not found; create it or fix the path in params.yaml")
        self.paths = sorted(p for p in self.folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not self.paths:
            raise DatasetError(
                f"{self.folder}: no background images ({', '.join(IMAGE_SUFFIXES)}); add some or use procedural backgrounds"
            )
        self.min_crop = min_crop

    def __len__(self) -> int:
        return len(self.paths)

    def _load(self, path: Path) -> Image.Image:
        try:
            with Image.open(path) as im:
                return im.convert("RGB")
        except (OSError, UnidentifiedImageError) as err:
            raise DatasetError(f"{path}: unreadable background image ({err}); delete or replace it") from err

    def sample(self, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
        """Returns an (height, width, 3) uint8 random crop of a random image of the folder."""
        im = self._load(self.paths[int(rng.integers(len(self.paths)))])
        w, h = im.size
        aspect = width / height
        side = rng.uniform(self.min_crop, 1.0) * min(w, h / 1.0)
        cw, ch = min(w, side * math.sqrt(aspect)), min(h, side / math.sqrt(aspect))
        x0, y0 = rng.uniform(0.0, w - cw), rng.uniform(0.0, h - ch)
        crop = im.resize((width, height), Image.Resampling.BILINEAR, box=(x0, y0, x0 + cw, y0 + ch))
        out = np.asarray(crop, dtype=np.uint8)
        if rng.uniform() < 0.5:
            out = out[:, ::-1]
        return np.ascontiguousarray(out)


def make_background_source(folder: str | Path | None, skin_distractor_prob: float = 0.2) -> BackgroundSource:
    """The configured source: a :class:`FolderBackgrounds` if ``folder`` is set, else procedural."""
    if folder:
        return FolderBackgrounds(folder)
    return ProceduralBackgrounds(skin_distractor_prob)
