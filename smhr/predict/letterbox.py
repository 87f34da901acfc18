"""Any image -> the network's square input, and the network's pixels and camera back to the image.

Prediction sees exactly what evaluation-time training sees: the letterbox similarity of
:func:`smhr.data.training.augment.letterbox_matrix` (longer side scaled to S, centred), the same bilinear
warp (:func:`smhr.data.transforms.warp.warp_affine`, zero fill) and the same normalisation
(:class:`smhr.data.training.dataset.DatasetConfig`'s mean and std). The letterbox is a pure scale and
shift of pixel coordinates, so the camera frame does not change: 3D results stay as they are,
pixels map back with the inverse affine and intrinsics with the inverse scale and shift.
Pixel centres are at integer coordinates throughout (:mod:`smhr.geometry.camera`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smhr.data.training.augment import letterbox_matrix
from smhr.data.training.dataset import IMAGENET_MEAN, IMAGENET_STD
from smhr.data.transforms.warp import apply_affine, warp_affine
from smhr.geometry.camera import crop_intrinsics, scale_intrinsics


@dataclass(frozen=True)
class Letterbox:
    """The map between one source image and the square network input.

    Attributes:
        src_hw: source ``(height, width)`` in pixels.
        size: S, side of the network input.
        A: (3, 3) float64 similarity from source to input pixels (scale ``A[0, 0]``, no rotation).
    """

    src_hw: tuple[int, int]
    size: int
    A: np.ndarray

    @classmethod
    def fit(cls, src_hw: tuple[int, int], size: int) -> Letterbox:
        """The letterbox of a ``src_hw`` image into an ``size`` square (training's, unaugmented)."""
        return cls((int(src_hw[0]), int(src_hw[1])), int(size), letterbox_matrix(src_hw, size))

    @property
    def scale(self) -> float:
        """Input pixels per source pixel."""
        return float(self.A[0, 0])

    @property
    def offset(self) -> tuple[float, float]:
        """``(ox, oy)``: input position of the source origin, ``u_in = scale * u_src + ox``."""
        return float(self.A[0, 2]), float(self.A[1, 2])

    def to_input(self, points: np.ndarray) -> np.ndarray:
        """Source pixels -> input pixels. ``points``: (..., 2); returns (..., 2) float64."""
        pts = np.asarray(points, np.float64)
        return apply_affine(self.A, pts.reshape(-1, 2)).reshape(pts.shape)

    def to_source(self, points: np.ndarray) -> np.ndarray:
        """Input pixels -> source pixels (the exact inverse). ``points``: (..., 2); returns (..., 2)."""
        pts = np.asarray(points, np.float64)
        return apply_affine(np.linalg.inv(self.A), pts.reshape(-1, 2)).reshape(pts.shape)

    def box_to_source(self, boxes: np.ndarray) -> np.ndarray:
        """``[x0, y0, x1, y1]`` boxes (..., 4) in input pixels -> source pixels."""
        boxes = np.asarray(boxes, np.float64)
        return self.to_source(boxes.reshape(*boxes.shape[:-1], 2, 2)).reshape(boxes.shape)

    def K_to_input(self, K: np.ndarray) -> np.ndarray:
        """Intrinsics of the source image -> those of the letterboxed input (``A @ K``).

        Written as a resize by ``scale`` (edge convention, :func:`scale_intrinsics`) followed by
        padding, i.e. a crop at the negative pad offset (:func:`crop_intrinsics`).
        """
        s = self.scale
        pad_x, pad_y = self._pad()
        return crop_intrinsics(scale_intrinsics(np.asarray(K, np.float64), s), -pad_x, -pad_y)

    def K_to_source(self, K: np.ndarray) -> np.ndarray:
        """Intrinsics of the letterboxed input -> those of the source image (inverse of :meth:`K_to_input`)."""
        pad_x, pad_y = self._pad()
        return scale_intrinsics(crop_intrinsics(np.asarray(K, np.float64), pad_x, pad_y), 1.0 / self.scale)

    def _pad(self) -> tuple[float, float]:
        # A maps u to s * u + o; scale_intrinsics maps u to s * u + 0.5 s - 0.5; the rest is the pad.
        s = self.scale
        ox, oy = self.offset
        return ox - (0.5 * s - 0.5), oy - (0.5 * s - 0.5)

    def warp(self, image: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 source image -> (S, S, 3) uint8 input, bilinear, black padding."""
        if tuple(image.shape[:2]) != self.src_hw:
            raise ValueError(f"letterbox of a {self.src_hw} image applied to one of shape {image.shape[:2]}")
        return warp_affine(image, self.A, (self.size, self.size), interp="bilinear", fill=0)


def normalise(image: np.ndarray, mean: tuple[float, ...] = IMAGENET_MEAN, std: tuple[float, ...] = IMAGENET_STD) -> np.ndarray:
    """(S, S, 3) uint8 -> (3, S, S) float32, ``(x / 255 - mean) / std`` as :class:`~smhr.data.training.dataset.HandDataset`."""
    m = np.asarray(mean, np.float32) * np.float32(255.0)
    d = np.asarray(std, np.float32) * np.float32(255.0)
    return np.ascontiguousarray(((image.astype(np.float32) - m) / d).transpose(2, 0, 1))


def focal_intrinsics(focal: float, src_hw: tuple[int, int]) -> np.ndarray:
    """Pinhole intrinsics of a ``src_hw`` image with focal ``focal`` px and the principal point at its centre.

    Returns:
        (3, 3) float64.
    """
    h, w = src_hw
    return np.array([[focal, 0.0, (w - 1) / 2.0], [0.0, focal, (h - 1) / 2.0], [0.0, 0.0, 1.0]])
