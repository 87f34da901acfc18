"""Independent reference rasteriser for the renderer tests: a plain NumPy z-buffer.

Per face, the pixel centres inside its bounding box are tested with barycentric coordinates
(edges included), depth is interpolated perspective-correctly (1/z is affine in screen space)
and the nearest face wins. Written from scratch, sharing no code with ``smhr.render``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class ReferenceImage(NamedTuple):
    """hand_index (h, w) int, -1 background; depth (h, w) metres, inf background; face (h, w) int."""

    hand_index: np.ndarray
    depth: np.ndarray
    face: np.ndarray


def zbuffer(verts: np.ndarray, faces: np.ndarray, K: np.ndarray, hand_mask: np.ndarray, size: tuple[int, int]) -> ReferenceImage:
    """Renders one image of several hands by brute force.

    Args:
        verts: (H, V, 3) camera-frame vertices.
        faces: (F, 3) faces shared by the hands.
        K: (H, 3, 3) intrinsics per hand.
        hand_mask: (H,) bool.
        size: (h, w).
    """
    h, w = size
    depth = np.full((h, w), np.inf)
    hand_index = np.full((h, w), -1)
    face_index = np.full((h, w), -1)
    for hand in range(verts.shape[0]):
        if not hand_mask[hand]:
            continue
        cam = verts[hand] @ K[hand].T
        uv = cam[:, :2] / cam[:, 2:3]
        z = verts[hand, :, 2]
        for f, (i, j, k) in enumerate(faces):
            (x0, y0), (x1, y1), (x2, y2) = uv[i], uv[j], uv[k]
            det = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
            if abs(det) < 1e-12:
                continue
            cols = np.arange(max(0, int(np.ceil(min(x0, x1, x2)))), min(w - 1, int(np.floor(max(x0, x1, x2)))) + 1)
            rows = np.arange(max(0, int(np.ceil(min(y0, y1, y2)))), min(h - 1, int(np.floor(max(y0, y1, y2)))) + 1)
            if len(cols) == 0 or len(rows) == 0:
                continue
            px, py = np.meshgrid(cols, rows)
            b1 = ((px - x0) * (y2 - y0) - (x2 - x0) * (py - y0)) / det
            b2 = ((x1 - x0) * (py - y0) - (px - x0) * (y1 - y0)) / det
            b0 = 1.0 - b1 - b2
            inside = (b0 >= 0) & (b1 >= 0) & (b2 >= 0)
            zz = 1.0 / (b0 / z[i] + b1 / z[j] + b2 / z[k])
            win = inside & (zz < depth[py, px])
            depth[py[win], px[win]] = zz[win]
            hand_index[py[win], px[win]] = hand
            face_index[py[win], px[win]] = f
    return ReferenceImage(hand_index, depth, face_index)
