"""Drawing annotated samples: skeletons, boxes, side labels and masks, into one grid image.

Works on any ``Sequence[Sample]`` (every adapter, the composed set). Pure PIL/NumPy, no
matplotlib, deterministic: the same samples and seed give the same PNG bytes.

Colours: each finger has its own hue (thumb red, index yellow, middle green, ring blue, pinky
magenta, darker towards the palm); each side its own box/mask/label colour (right orange, left
blue). Invisible keypoints and bones touching them are not drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from smhr.data.datasets.imageio import write_png
from smhr.data.datasets.sample import Sample
from smhr.hand.joints import NUM_JOINTS, OPENPOSE_BONES

SIDE_COLOURS: dict[str, tuple[int, int, int]] = {"right": (255, 140, 0), "left": (30, 144, 255)}
"""Box, mask tint and label colour of each side."""

FINGER_COLOURS: tuple[tuple[int, int, int], ...] = (
    (230, 40, 40),
    (240, 220, 0),
    (40, 200, 60),
    (40, 90, 240),
    (220, 40, 220),
)
"""Thumb, index, middle, ring, pinky."""

WRIST_COLOUR = (255, 255, 255)
MASK_ALPHA = 0.45


def joint_colour(joint: int) -> tuple[int, int, int]:
    """Colour of OpenPose joint ``joint`` (its finger's hue, darker towards the palm)."""
    if joint == 0:
        return WRIST_COLOUR
    finger, k = divmod(joint - 1, 4)
    shade = 0.55 + 0.15 * k
    return tuple(int(c * shade) for c in FINGER_COLOURS[finger])  # type: ignore[return-value]


def _fit(image: np.ndarray, size: int) -> tuple[Image.Image, float, float, float]:
    """Letterboxes ``image`` into a ``size`` square; returns the canvas, scale and offsets."""
    height, width = image.shape[:2]
    scale = size / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    canvas = Image.new("RGB", (size, size), (24, 24, 24))
    ox, oy = (size - new_w) // 2, (size - new_h) // 2
    canvas.paste(Image.fromarray(image).resize((new_w, new_h), Image.BILINEAR), (ox, oy))
    return canvas, scale, float(ox), float(oy)


def draw_sample(sample: Sample, size: int = 256) -> np.ndarray:
    """Draws one sample's hands over its image, letterboxed into a square.

    Args:
        sample: the sample (any number of hands).
        size: output side in pixels.

    Returns:
        (size, size, 3) uint8 RGB.
    """
    canvas, scale, ox, oy = _fit(sample.image, size)

    def to_canvas(uv: np.ndarray) -> np.ndarray:
        # pixel centres: source pixel u spans [u - 0.5, u + 0.5) -> canvas x = (u + 0.5) * scale + ox
        return (np.asarray(uv, np.float64) + 0.5) * scale + np.array([ox, oy])

    pixels = np.asarray(canvas).astype(np.float32)
    for hand in sample.hands:
        if hand.mask is None or not hand.mask.any():
            continue
        new_w, new_h = max(1, round(sample.width * scale)), max(1, round(sample.height * scale))
        small = np.asarray(Image.fromarray(hand.mask.astype(np.uint8) * 255).resize((new_w, new_h), Image.NEAREST)) > 0
        region = pixels[int(oy) : int(oy) + new_h, int(ox) : int(ox) + new_w]
        region[small] = (1 - MASK_ALPHA) * region[small] + MASK_ALPHA * np.array(SIDE_COLOURS[hand.side], np.float32)
    canvas = Image.fromarray(pixels.round().astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    width = max(1, size // 128)
    for hand in sample.hands:
        colour = SIDE_COLOURS[hand.side]
        x0, y0 = to_canvas(hand.bbox[:2])
        x1, y1 = to_canvas(hand.bbox[2:])
        draw.rectangle([x0, y0, x1, y1], outline=colour, width=width)
        points = to_canvas(hand.joints2d)
        for parent, child in OPENPOSE_BONES:
            if hand.visible[parent] and hand.visible[child]:
                draw.line([tuple(points[parent]), tuple(points[child])], fill=joint_colour(child), width=width + 1)
        radius = width + 1
        for j in range(NUM_JOINTS):
            if hand.visible[j]:
                x, y = points[j]
                draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=joint_colour(j))
        label = "R" if hand.side == "right" else "L"
        # right label at the box's top-left corner, left label at its top-right: coincident boxes stay readable
        tx, ty = (max(0.0, x0) if hand.side == "right" else min(float(size - 10), x1 - 9)), max(0.0, y0 - 12)
        draw.rectangle([tx, ty, tx + 9, ty + 11], fill=colour)
        draw.text((tx + 2, ty), label, fill=(0, 0, 0), font=font)
    if sample.source:
        draw.text((3, size - 12), sample.source[-40:], fill=(255, 255, 255), font=font)
    return np.asarray(canvas)


def pick_indices(total: int, n: int, seed: int = 0) -> list[int]:
    """``min(n, total)`` distinct indices in ``[0, total)``, chosen by ``seed``, in increasing order."""
    n = min(n, total)
    return sorted(np.random.default_rng(seed).choice(total, size=n, replace=False).tolist())


def draw_grid(
    samples: Sequence[Sample], n: int = 16, seed: int = 0, cell: int = 256, columns: int | None = None
) -> np.ndarray:
    """Draws ``n`` samples (chosen by ``seed``) into a grid.

    Args:
        samples: any sequence of samples (an adapter, the composed set, a list).
        n: how many to draw (all if fewer).
        seed: which ones.
        cell: side of each cell in pixels.
        columns: cells per row (default: ``ceil(sqrt(n))``).

    Returns:
        (rows * cell, columns * cell, 3) uint8 RGB.

    Raises:
        ValueError: ``samples`` is empty.
    """
    if len(samples) == 0:
        raise ValueError("no samples to draw: the dataset is empty")
    indices = pick_indices(len(samples), n, seed)
    columns = columns or int(np.ceil(np.sqrt(len(indices))))
    rows = int(np.ceil(len(indices) / columns))
    grid = np.zeros((rows * cell, columns * cell, 3), np.uint8)
    for k, index in enumerate(indices):
        r, c = divmod(k, columns)
        grid[r * cell : (r + 1) * cell, c * cell : (c + 1) * cell] = draw_sample(samples[index], cell)
    return grid


def save_grid(path: str | Path, samples: Sequence[Sample], n: int = 16, seed: int = 0, cell: int = 256) -> np.ndarray:
    """Draws a grid (see :func:`draw_grid`) and writes it as PNG atomically. Returns the grid."""
    grid = draw_grid(samples, n, seed, cell)
    write_png(path, grid)
    return grid
