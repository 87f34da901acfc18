"""Renderer settings and output structure (plain data, no torch code)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, NamedTuple

import torch

Mode = Literal["soft", "sharp"]
Backend = Literal["smhr", "pytorch3d", "auto"]


@dataclass(frozen=True)
class RenderSettings:
    """Knobs of :func:`smhr.render.render_hands`. All distances in pixels unless stated.

    Attributes:
        sigma: soft-coverage sharpness in px^2: a face covers a pixel at signed squared
            distance ``d2`` (positive inside) with probability ``sigmoid(d2 / sigma)``
            (SoftRas). Smaller is sharper; 1 px^2 blurs the edge over about 2 px.
        gamma: soft depth-aggregation temperature on normalised inverse depth (SoftRas).
            Small values let the nearest surface win the colour.
        background_eps: normalised depth the background competes with in the colour
            aggregation (SoftRas' epsilon).
        background: RGB in [0, 1] of empty pixels.
        znear: faces with any corner nearer than this (metres) are culled.
        zfar: far plane (metres) of the depth normalisation of the soft colour aggregation.
        faces_per_pixel: soft mode keeps this many faces per pixel: the faces containing the
            pixel centre, nearest first (the z-buffer face), then the faces of largest coverage
            (SoftRas' sums run over these only; with faces much smaller than ``sigma``, raise it
            for a silhouette closer to the all-faces sum). Sharp mode keeps one.
        blur_threshold: soft mode ignores faces whose coverage probability at the pixel is
            below this; sets the blur radius ``sqrt(sigma * ln((1 - t) / t))``.
        supersample: sharp mode renders ``supersample`` x ``supersample`` samples per
            pixel and averages them (antialiasing). Must be odd, so that the middle sample is
            the pixel centre, which gives ``hand_index`` and ``depth``. 1 disables it.
        tile_size: side of the square screen tiles that faces are binned into.
        max_pairs_per_chunk: memory bound of the rasteriser: at most this many
            (pixel, candidate face) pairs are evaluated at once.
        backend: "smhr" (this package's rasteriser, the default everywhere, so results do
            not depend on what else is installed), "pytorch3d" (pytorch3d's rasteriser and
            blending behind the same interface; a clear error when it is not importable) or
            "auto" (pytorch3d when importable, else "smhr").
    """

    sigma: float = 1.0
    gamma: float = 1.0e-4
    background_eps: float = 1.0e-3
    background: tuple[float, float, float] = (0.0, 0.0, 0.0)
    znear: float = 0.01
    zfar: float = 10.0
    faces_per_pixel: int = 8
    blur_threshold: float = 1.0e-4
    supersample: int = 3
    tile_size: int = 4
    max_pairs_per_chunk: int = 1 << 20
    backend: Backend = "smhr"

    def __post_init__(self) -> None:
        checks = {
            "sigma > 0": self.sigma > 0,
            "gamma > 0": self.gamma > 0,
            "0 < znear < zfar": 0 < self.znear < self.zfar,
            "faces_per_pixel >= 1": self.faces_per_pixel >= 1,
            "0 < blur_threshold < 0.5": 0 < self.blur_threshold < 0.5,
            "supersample odd and >= 1": self.supersample >= 1 and self.supersample % 2 == 1,
            "tile_size >= 1": self.tile_size >= 1,
            "max_pairs_per_chunk >= tile_size**2": self.max_pairs_per_chunk >= self.tile_size**2,
            "len(background) == 3": len(self.background) == 3,
            "backend in ('smhr', 'pytorch3d', 'auto')": self.backend in ("smhr", "pytorch3d", "auto"),
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"RenderSettings: violated {', '.join(bad)} (got {self})")

    @property
    def blur_radius(self) -> float:
        """Distance (px) outside a face beyond which its soft coverage is below ``blur_threshold``."""
        t = self.blur_threshold
        return math.sqrt(self.sigma * math.log((1.0 - t) / t))


class RenderOutput(NamedTuple):
    """What :func:`smhr.render.render_hands` returns.

    Attributes:
        alpha: (B, h, w) coverage in [0, 1]: soft mode, SoftRas' ``1 - prod(1 - D)``
            (differentiable w.r.t. vertices); sharp mode, the fraction of covered samples.
        hand_index: (B, h, w) long, the hand slot ``0..H-1`` whose surface is nearest at the
            pixel centre, -1 for background.
        depth: (B, h, w) z (metres, camera frame) of the nearest surface at the pixel centre,
            0 where ``hand_index == -1``. Differentiable w.r.t. vertices.
        rgb: (B, h, w, 3) shaded colour composited over ``settings.background``.
    """

    alpha: torch.Tensor
    hand_index: torch.Tensor
    depth: torch.Tensor
    rgb: torch.Tensor
