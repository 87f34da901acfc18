"""Picture of two shaded, overlapping procedural hands: ``python -m smhr.render.picture [out.png]``."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from PIL import Image

from smhr.hand.layer import HandModel
from smhr.hand.procedural import ProceduralConfig, build_models
from smhr.render.renderer import render_hands
from smhr.render.settings import RenderSettings

BACKGROUND = (0.15, 0.18, 0.22)
"""RGB in [0, 1] behind the hands."""


class TwoHandsScene(NamedTuple):
    """One image (B = 1) with a right hand (index 0, left in the image) and a left hand (index 1).

    Attributes:
        verts: (1, 2, V, 3) vertices in the camera frame, metres.
        faces: (1, 2, F, 3) triangles of each hand.
        K: (1, 2, 3, 3) intrinsics (the same camera for both).
        colors: (1, 2, V, 3) per-vertex albedo in [0, 1].
        sh: (1, 2, 9, 3) spherical-harmonics lighting: light from the top left and the camera side.
    """

    verts: torch.Tensor
    faces: torch.Tensor
    K: torch.Tensor
    colors: torch.Tensor
    sh: torch.Tensor


def two_hands_scene(size: int = 256) -> TwoHandsScene:
    """A right and a left procedural hand overlapping in front of a ``size`` x ``size`` camera."""
    right, left = (HandModel(d) for d in build_models(ProceduralConfig(pose_samples=400)))
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        vr = right(global_orient=torch.tensor([[0.3, 0.4, 0.2]]), hand_pose=0.3 * torch.randn(1, 45, generator=gen)).vertices
        vl = left(global_orient=torch.tensor([[-0.2, -0.5, -0.3]]), hand_pose=0.3 * torch.randn(1, 45, generator=gen)).vertices
    verts = torch.stack([vr[0] - vr[0].mean(0) + torch.tensor([-0.025, 0.0, 0.45]),
                         vl[0] - vl[0].mean(0) + torch.tensor([0.03, 0.01, 0.48])])[None]
    faces = torch.stack([right.faces, left.faces])[None]
    K = torch.tensor([[1.6 * size, 0, size / 2], [0, 1.6 * size, size / 2], [0, 0, 1.0]]).expand(1, 2, 3, 3)
    colors = torch.tensor([[0.85, 0.62, 0.5], [0.62, 0.45, 0.36]]).view(1, 2, 1, 3).expand(1, 2, verts.shape[2], 3)
    sh = torch.zeros(1, 2, 9, 3)
    sh[..., 0, :] = 1.2 * math.sqrt(math.pi)
    sh[..., 1, :] = -1.0  # light from above (-y)
    sh[..., 2, :] = -1.2  # and from the camera side (-z)
    sh[..., 3, :] = -0.5  # and from the left (-x)
    return TwoHandsScene(verts, faces, K, colors, sh)


def two_hands_picture(size: int = 256) -> np.ndarray:
    """Renders :func:`two_hands_scene` sharp, skin albedo, SH light from the top left.

    Returns:
        (size, size, 3) uint8 image.
    """
    s = two_hands_scene(size)
    out = render_hands(s.verts, s.faces, s.K, torch.ones(1, 2, dtype=torch.bool), (size, size), colors=s.colors, sh=s.sh,
                       mode="sharp", settings=RenderSettings(background=BACKGROUND))
    return (out.rgb[0].clamp(0, 1).numpy() * 255).round().astype(np.uint8)


def save_two_hands_picture(path: str | Path, size: int = 256) -> Path:
    """Writes :func:`two_hands_picture` as a PNG at ``path`` (folders are created). Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(two_hands_picture(size)).save(path)
    return path


if __name__ == "__main__":
    save_two_hands_picture(sys.argv[1] if len(sys.argv) > 1 else "reports/render/two_hands.png")
