"""Training targets at the network's output stride: pure functions of a sample's annotations.

Encoding (CenterNet, Zhou et al. 2019, adapted to hands):

* **Centre heatmaps** ``(2, h, w)``: one channel per side in :data:`~smhr.data.datasets.sample.SIDES` order
  (0 = left, 1 = right), so handedness is the channel where a centre peaks. A Gaussian per hand,
  composed with ``max``; its size is CenterNet's ``gaussian_radius`` of the box at the stride
  (``radius="box"``) or a fixed sigma (``radius="fixed"``). The centre is the box centre or the
  mean of the visible keypoints (``center=...``).
* **Slots**: per hand the flat index ``y * w + x`` of its centre cell in the heatmap (where the
  heads' features are gathered) and the sub-cell offset to the exact centre.
* **Keypoint heatmaps** ``(21, h, w)``: a Gaussian at each visible keypoint's nearest cell (peak
  exactly 1, as the centres': the focal loss counts ``target == 1`` as its positives, so a Gaussian
  at the sub-cell position would have none and only push the map down), ``max`` over hands.
* **Masks** ``(H, h, w)``: each hand's mask averaged over ``stride x stride`` cells.

Output cells follow the pixel-centre convention: pixel ``u`` is at cell coordinate
``(u + 0.5) / stride - 0.5``; a centre's cell is the nearest one and its offset lies in
``[-0.5, 0.5)``. Decode with ``u = (cell + offset + 0.5) * stride - 0.5``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np

from smhr.data.datasets.sample import SIDES
from smhr.hand.joints import NUM_JOINTS


@dataclass(frozen=True)
class TargetConfig:
    """How targets are encoded.

    Attributes:
        stride: output stride in pixels (the image size must be a multiple of it).
        center: ``"box"`` (bbox centre) or ``"keypoints"`` (mean of visible keypoints).
        radius: ``"box"`` (CenterNet's ``gaussian_radius`` of the box) or ``"fixed"``.
        center_sigma: Gaussian sigma in output cells when ``radius == "fixed"``.
        min_overlap: CenterNet's IoU threshold for ``gaussian_radius``.
        keypoint_sigma: Gaussian sigma of keypoint heatmaps in output cells.
    """

    stride: int = 4
    center: Literal["box", "keypoints"] = "box"
    radius: Literal["box", "fixed"] = "box"
    center_sigma: float = 2.0
    min_overlap: float = 0.7
    keypoint_sigma: float = 1.0


class Targets(NamedTuple):
    """Targets of one image with H hands at an output grid of (h, w) cells.

    Attributes:
        centers: (2, h, w) float32 centre heatmaps, channel 0 left, 1 right.
        index: (H,) int64 flat index ``y * w + x`` of each hand's centre cell.
        offset: (H, 2) float32 sub-cell offset (x, y) of the centre, in ``[-0.5, 0.5)``.
        center_valid: (H,) bool, False where the centre falls outside the grid (no slot target).
        keypoints: (21, h, w) float32 keypoint heatmaps.
        masks: (H, h, w) float32 fraction of each cell covered by each hand (zeros if no mask).
    """

    centers: np.ndarray
    index: np.ndarray
    offset: np.ndarray
    center_valid: np.ndarray
    keypoints: np.ndarray
    masks: np.ndarray


def gaussian_radius(height: float, width: float, min_overlap: float = 0.7) -> float:
    """CenterNet's radius: the largest corner shift keeping IoU >= ``min_overlap`` with the box.

    Args:
        height: box height (in output cells).
        width: box width.
        min_overlap: IoU threshold.

    Returns:
        The minimum of the three cases' radii (CenterNet's ``gaussian_radius``), >= 0.
    """
    b1, c1 = height + width, width * height * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + np.sqrt(b1**2 - 4 * c1)) / 2
    b2, c2 = 2 * (height + width), (1 - min_overlap) * width * height
    r2 = (b2 + np.sqrt(b2**2 - 16 * c2)) / 2
    a3 = 4 * min_overlap
    b3, c3 = -2 * min_overlap * (height + width), (min_overlap - 1) * width * height
    r3 = (b3 + np.sqrt(b3**2 - 4 * a3 * c3)) / 2
    return float(max(0.0, min(r1, r2, r3)))


def draw_gaussian(heatmap: np.ndarray, center: np.ndarray, sigma: float, truncate: float = 3.0) -> None:
    """Draws ``exp(-d^2 / 2 sigma^2)`` around a (sub-cell) centre into ``heatmap``, in place, with max.

    Args:
        heatmap: (h, w) float32, modified in place.
        center: (2,) (x, y) in cell coordinates.
        sigma: standard deviation in cells (> 0).
        truncate: the Gaussian is drawn within ``truncate * sigma`` cells.
    """
    h, w = heatmap.shape
    r = int(np.ceil(truncate * sigma))
    cx, cy = float(center[0]), float(center[1])
    x0, x1 = max(0, int(np.floor(cx)) - r), min(w, int(np.floor(cx)) + r + 2)
    y0, y1 = max(0, int(np.floor(cy)) - r), min(h, int(np.floor(cy)) + r + 2)
    if x0 >= x1 or y0 >= y1:
        return
    xs = np.arange(x0, x1, dtype=np.float32) - cx
    ys = np.arange(y0, y1, dtype=np.float32) - cy
    g = np.exp(-(ys[:, None] ** 2 + xs[None, :] ** 2) / np.float32(2 * sigma * sigma))
    np.maximum(heatmap[y0:y1, x0:x1], g, out=heatmap[y0:y1, x0:x1])


def hand_centers(joints2d: np.ndarray, visible: np.ndarray, bbox: np.ndarray, mode: str) -> np.ndarray:
    """Centre of each hand in pixels.

    Args:
        joints2d: (H, 21, 2) px.
        visible: (H, 21) bool.
        bbox: (H, 4) ``[x0, y0, x1, y1]`` px.
        mode: ``"box"`` or ``"keypoints"`` (hands with no visible keypoint fall back to the box).

    Returns:
        (H, 2) float64 (x, y) px.
    """
    box_c = np.stack([(bbox[:, 0] + bbox[:, 2]) / 2, (bbox[:, 1] + bbox[:, 3]) / 2], -1).astype(np.float64)
    if mode == "box":
        return box_c
    if mode != "keypoints":
        raise ValueError(f"center mode must be 'box' or 'keypoints', got {mode!r}")
    n = visible.sum(-1, keepdims=True)
    kp_c = (joints2d * visible[..., None]).sum(1) / np.maximum(n, 1)
    return np.where(n > 0, kp_c, box_c)


def to_cells(points_px: np.ndarray, stride: int) -> np.ndarray:
    """Pixel coordinates -> output-cell coordinates (pixel-centre convention)."""
    return (np.asarray(points_px, dtype=np.float64) + 0.5) / stride - 0.5


def downsample_masks(masks: np.ndarray, stride: int) -> np.ndarray:
    """(H, S_h, S_w) bool/float -> (H, S_h/stride, S_w/stride) float32 cell coverage."""
    n, hh, ww = masks.shape
    blocks = masks.reshape(n, hh // stride, stride, ww // stride, stride).astype(np.float32)
    return blocks.mean(axis=(2, 4))


def encode_targets(
    joints2d: np.ndarray,
    visible: np.ndarray,
    bbox: np.ndarray,
    sides: list[str] | tuple[str, ...],
    image_hw: tuple[int, int],
    cfg: TargetConfig,
    masks: np.ndarray | None = None,
) -> Targets:
    """Encodes the targets of one image.

    Args:
        joints2d: (H, 21, 2) px.
        visible: (H, 21) bool.
        bbox: (H, 4) px.
        sides: H strings, ``"left"`` or ``"right"``.
        image_hw: (S_h, S_w) image size, multiples of ``cfg.stride``.
        cfg: the encoding.
        masks: (H, S_h, S_w) bool per-hand masks, or None.

    Returns:
        :class:`Targets` on an ``(S_h / stride, S_w / stride)`` grid.
    """
    s = cfg.stride
    if image_hw[0] % s or image_hw[1] % s:
        raise ValueError(f"image size {image_hw} is not a multiple of the stride {s}")
    h, w = image_hw[0] // s, image_hw[1] // s
    n = len(sides)
    centers = np.zeros((2, h, w), np.float32)
    keypoints = np.zeros((NUM_JOINTS, h, w), np.float32)
    c_cells = to_cells(hand_centers(joints2d, visible, bbox, cfg.center), s) if n else np.zeros((0, 2))
    cells = np.floor(c_cells + 0.5)
    valid = (cells[:, 0] >= 0) & (cells[:, 0] < w) & (cells[:, 1] >= 0) & (cells[:, 1] < h)
    cells = np.clip(cells, 0, [w - 1, h - 1]).astype(np.int64)
    for k in range(n):
        if cfg.radius == "fixed":
            sigma = cfg.center_sigma
        else:
            bw, bh = (bbox[k, 2] - bbox[k, 0]) / s, (bbox[k, 3] - bbox[k, 1]) / s
            radius = max(0, int(gaussian_radius(bh, bw, cfg.min_overlap)))
            sigma = (2 * radius + 1) / 6.0  # CenterNet's sigma = diameter / 6
        if valid[k]:
            draw_gaussian(centers[SIDES.index(sides[k])], cells[k], sigma)
        kp_cells = np.floor(to_cells(joints2d[k], s) + 0.5)
        for j in np.nonzero(visible[k])[0]:
            draw_gaussian(keypoints[j], kp_cells[j], cfg.keypoint_sigma)
    return Targets(
        centers=centers,
        index=(cells[:, 1] * w + cells[:, 0]).astype(np.int64),
        offset=(c_cells - cells).astype(np.float32),
        center_valid=valid,
        keypoints=keypoints,
        masks=downsample_masks(masks, s) if masks is not None else np.zeros((n, h, w), np.float32),
    )
