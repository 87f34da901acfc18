"""The prediction overlay: shaded meshes blended over the image, then skeletons, boxes and labels.

:func:`render_mesh_layer` renders every predicted hand through the image's K with
:func:`smhr.render.render_hands` (sharp mode, a fixed light from the top left and the camera
side, skin albedo tinted by side); :func:`draw_predictions` blends that layer over the image and
draws each hand's skeleton (joint colours of :mod:`smhr.viz.overlay`), box and ``"R 0.88"`` /
``"L 0.93"`` label from plain arrays. Images larger than ``max_side`` are drawn at a reduced
scale (pixel centres preserved, :func:`smhr.geometry.camera.scale_intrinsics`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from smhr.geometry.camera import scale_intrinsics
from smhr.hand.joints import NUM_JOINTS, OPENPOSE_BONES
from smhr.render import RenderSettings, render_hands
from smhr.viz.overlay import SIDE_COLOURS, joint_colour

SKIN = (0.85, 0.64, 0.52)
"""Mesh albedo before the side tint."""
SIDE_TINT = 0.35
"""Fraction of the side colour mixed into the mesh albedo (right orange, left blue)."""
MESH_ALPHA = 0.8
"""Opacity of the rendered meshes over the image."""
MAX_SIDE = 1024
"""Overlays of larger images are drawn with this longer side."""


@dataclass
class OverlayHand:
    """What the overlay draws of one hand, in the overlaid image's pixels.

    Attributes:
        side: ``"left"`` or ``"right"``.
        score: confidence in [0, 1].
        box: (4,) ``[x0, y0, x1, y1]`` px.
        joints2d: (21, 2) px.
        vertices: (V, 3) metres in the camera frame of the image's K, or None (no mesh).
        faces: (F, 3) int, wound outwards (:func:`smhr.viz.mesh.outward_faces`), or None.
    """

    side: str
    score: float
    box: np.ndarray
    joints2d: np.ndarray
    vertices: np.ndarray | None = None
    faces: np.ndarray | None = None


def light_sh(dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The fixed overlay light: SH coefficients (9, 3), ambient plus light from above, the camera and the left."""
    sh = torch.zeros(9, 3, dtype=dtype)
    sh[0] = 1.2 * math.sqrt(math.pi)
    sh[1] = -1.0
    sh[2] = -1.2
    sh[3] = -0.5
    return sh


def render_mesh_layer(hands: Sequence[OverlayHand], K: np.ndarray, image_hw: tuple[int, int],
                      sh: torch.Tensor | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Renders the hands' meshes through ``K`` at ``image_hw``.

    Args:
        hands: hands with ``vertices`` and ``faces`` (others are ignored).
        K: (3, 3) intrinsics of the image, pixels.
        image_hw: (h, w) of the layer.
        sh: (9, 3) SH light; default :func:`light_sh`.

    Returns:
        (rgb (h, w, 3) float32 in [0, 1], alpha (h, w) float32 coverage in [0, 1]).

    Raises:
        ValueError: the hands' meshes differ in vertex or face count.
    """
    h, w = image_hw
    meshes = [hand for hand in hands if hand.vertices is not None and hand.faces is not None]
    if not meshes:
        return np.zeros((h, w, 3), np.float32), np.zeros((h, w), np.float32)
    if len({hand.faces.shape for hand in meshes}) != 1 or len({hand.vertices.shape for hand in meshes}) != 1:
        raise ValueError("render_mesh_layer: all hands must share one topology (the two sides of one hand model)")
    n = len(meshes)
    verts = torch.tensor(np.stack([m.vertices for m in meshes]), dtype=torch.float32)[None]
    faces = torch.tensor(np.stack([m.faces for m in meshes]), dtype=torch.long)[None]
    Kt = torch.tensor(K, dtype=torch.float32).expand(1, n, 3, 3)
    tint = [np.asarray(SKIN) * (1 - SIDE_TINT) + np.asarray(SIDE_COLOURS[m.side]) / 255.0 * SIDE_TINT for m in meshes]
    colors = torch.tensor(np.stack(tint), dtype=torch.float32).view(1, n, 1, 3).expand(1, n, verts.shape[2], 3)
    sh = (light_sh() if sh is None else sh.float()).expand(1, n, 9, 3)
    with torch.no_grad():
        out = render_hands(verts, faces, Kt, torch.ones(1, n, dtype=torch.bool), (h, w), colors=colors, sh=sh,
                           mode="sharp", settings=RenderSettings())
    return out.rgb[0].clamp(0, 1).numpy().astype(np.float32), out.alpha[0].clamp(0, 1).numpy().astype(np.float32)


def draw_predictions(image: np.ndarray, hands: Sequence[OverlayHand], K: np.ndarray | None = None,
                     max_side: int = MAX_SIDE, render_meshes: bool = True) -> np.ndarray:
    """The overlay picture of one image's predictions.

    Args:
        image: (H, W, 3) uint8 RGB.
        hands: the hands, in the image's pixels (and camera frame of ``K``).
        K: (3, 3) intrinsics of ``image``; needed to render meshes.
        max_side: the overlay's longer side is at most this (the image is shrunk otherwise).
        render_meshes: render and blend the meshes (needs ``K``).

    Returns:
        (h, w, 3) uint8 with ``(h, w) = (H, W)`` or shrunk to ``max_side``.
    """
    H, W = image.shape[:2]
    s = min(1.0, max_side / max(H, W))
    h, w = (H, W) if s == 1.0 else (max(1, round(H * s)), max(1, round(W * s)))
    sx, sy = w / W, h / H
    base = image if (h, w) == (H, W) else np.asarray(Image.fromarray(image).resize((w, h), Image.BILINEAR))

    def px(points: np.ndarray) -> np.ndarray:
        # pixel centres: u -> (u + 0.5) * s - 0.5, as scale_intrinsics
        return (np.asarray(points, np.float64) + 0.5) * np.array([sx, sy]) - 0.5

    pixels = base.astype(np.float32)
    if render_meshes and K is not None:
        rgb, alpha = render_mesh_layer(hands, scale_intrinsics(np.asarray(K, np.float64), sx, sy), (h, w))
        a = (MESH_ALPHA * alpha)[..., None]
        pixels = pixels * (1 - a) + rgb * 255.0 * a
    canvas = Image.fromarray(pixels.round().clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    width = max(1, round(max(h, w) / 256))
    for hand in hands:
        colour = SIDE_COLOURS[hand.side]
        x0, y0 = px(hand.box[:2])
        x1, y1 = px(hand.box[2:])
        draw.rectangle([min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)], outline=colour, width=width)
        points = px(hand.joints2d)
        for parent, child in OPENPOSE_BONES:
            draw.line([tuple(points[parent]), tuple(points[child])], fill=joint_colour(child), width=width)
        radius = width + 1
        for j in range(NUM_JOINTS):
            x, y = points[j]
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=joint_colour(j))
        label = f"{'R' if hand.side == 'right' else 'L'} {hand.score:.2f}"
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        tx, ty = max(0.0, min(x0, x1)), max(0.0, min(y0, y1) - (bottom - top) - 4)
        draw.rectangle([tx, ty, tx + right - left + 4, ty + bottom - top + 4], fill=colour)
        draw.text((tx + 2 - left, ty + 2 - top), label, fill=(0, 0, 0), font=font)
    return np.asarray(canvas)
