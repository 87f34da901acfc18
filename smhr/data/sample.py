"""The sample contract: what every dataset adapter yields and every consumer reads.

One :class:`Sample` = one RGB image + a list of :class:`Hand`. Units: metres for 3D, pixels for
2D; 3D is in the camera frame with OpenCV axes (x right, y down, z forward); joints are in
OpenPose/FreiHAND order (:mod:`smhr.hand.joints`). Each hand carries its own intrinsics ``K``:
composed multi-hand images paste hands photographed by different cameras, and ``K`` is the
camera that makes that hand's 3D consistent with *this* image (``project(joints3d, K) ==
joints2d``). Fields a dataset does not have are ``None``; weak supervision reads only
``joints2d``, ``visible``, ``bbox``, ``side`` and ``mask``.

See ``docs/data.md`` for the prose version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from smhr.geometry.camera import project
from smhr.hand.joints import NUM_JOINTS

Side = Literal["left", "right"]
SIDES: tuple[str, str] = ("left", "right")


@dataclass
class ManoParams:
    """MANO parameters of one hand, in the model file's convention.

    Attributes:
        pose: (48,) axis-angle; ``pose[:3]`` global orientation, ``pose[3:]`` the 15 finger
            joints in FreiHAND's ``*_mano.json`` convention (how ``hands_mean`` applies is
            written once in :mod:`smhr.hand.conventions`).
        betas: (10,) shape coefficients.
        trans: (3,) translation in metres (camera frame).
    """

    pose: np.ndarray
    betas: np.ndarray
    trans: np.ndarray


@dataclass
class Hand:
    """One annotated hand in one image.

    Attributes:
        side: ``"left"`` or ``"right"``.
        joints2d: (21, 2) float32 pixel coordinates (x, y), OpenPose order.
        visible: (21,) bool; False where the keypoint is unannotated, invalid or outside the image.
        bbox: (4,) float32 ``[x0, y0, x1, y1]`` in pixels.
        K: (3, 3) float32 intrinsics of the camera that makes this hand's 3D match the image.
        joints3d: (21, 3) float32 metres, camera frame, or None.
        verts3d: (V, 3) float32 metres, camera frame, or None.
        mano: MANO parameters or None.
        mask: (H, W) bool mask of this hand in the image, or None.
        joints3d_valid: (21,) bool validity of ``joints3d`` (InterHand2.6M has invalid joints),
            or None meaning all valid where ``joints3d`` is given.
    """

    side: Side
    joints2d: np.ndarray
    visible: np.ndarray
    bbox: np.ndarray
    K: np.ndarray
    joints3d: np.ndarray | None = None
    verts3d: np.ndarray | None = None
    mano: ManoParams | None = None
    mask: np.ndarray | None = None
    joints3d_valid: np.ndarray | None = None

    def validate(self, where: str = "hand") -> None:
        """Checks shapes, dtypes and finiteness. Raises ValueError naming ``where`` and the field."""
        if self.side not in SIDES:
            raise ValueError(f"{where}: side must be 'left' or 'right', got {self.side!r}")
        checks = [
            ("joints2d", self.joints2d, (NUM_JOINTS, 2)),
            ("visible", self.visible, (NUM_JOINTS,)),
            ("bbox", self.bbox, (4,)),
            ("K", self.K, (3, 3)),
            ("joints3d", self.joints3d, (NUM_JOINTS, 3)),
            ("joints3d_valid", self.joints3d_valid, (NUM_JOINTS,)),
        ]
        for name, value, shape in checks:
            if value is None:
                continue
            if np.shape(value) != shape:
                raise ValueError(f"{where}: {name} has shape {np.shape(value)}, expected {shape}")
            if value.dtype != bool and not np.all(np.isfinite(value)):
                raise ValueError(f"{where}: {name} contains NaN or inf")
        if self.verts3d is not None and (self.verts3d.ndim != 2 or self.verts3d.shape[1] != 3):
            raise ValueError(f"{where}: verts3d has shape {self.verts3d.shape}, expected (V, 3)")
        if self.verts3d is not None and not np.all(np.isfinite(self.verts3d)):
            raise ValueError(f"{where}: verts3d contains NaN or inf")
        if self.bbox[2] < self.bbox[0] or self.bbox[3] < self.bbox[1]:
            raise ValueError(f"{where}: bbox {self.bbox.tolist()} has x1 < x0 or y1 < y0")


@dataclass
class Sample:
    """One image and its hands.

    Attributes:
        image: (H, W, 3) uint8 RGB.
        hands: the annotated hands (may be empty for a negative image).
        source: where it came from, e.g. ``"freihand/training/00000012"`` (for error messages).
    """

    image: np.ndarray
    hands: list[Hand] = field(default_factory=list)
    source: str = ""

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    def validate(self) -> None:
        """Checks the image and every hand. Raises ValueError naming ``source``."""
        where = self.source or "sample"
        if self.image.ndim != 3 or self.image.shape[2] != 3 or self.image.dtype != np.uint8:
            raise ValueError(f"{where}: image must be (H, W, 3) uint8, got {self.image.shape} {self.image.dtype}")
        for i, hand in enumerate(self.hands):
            hand.validate(f"{where} hand {i}")
            if hand.mask is not None and hand.mask.shape != self.image.shape[:2]:
                raise ValueError(f"{where} hand {i}: mask shape {hand.mask.shape} != image {self.image.shape[:2]}")


def bbox_from_points(points: np.ndarray, visible: np.ndarray | None = None, pad: float = 0.0) -> np.ndarray:
    """Axis-aligned box around 2D points.

    Args:
        points: (N, 2) pixels.
        visible: (N,) bool; only these points count (all if None or none visible).
        pad: relative padding, e.g. 0.1 grows each side by 10% of the box size.

    Returns:
        (4,) float32 ``[x0, y0, x1, y1]``.
    """
    pts = points if visible is None or not np.any(visible) else points[np.asarray(visible, bool)]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    margin = (hi - lo) * pad
    return np.concatenate([lo - margin, hi + margin]).astype(np.float32)


def in_image(uv: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(N,) bool: which (N, 2) pixel positions lie inside an image of ``size = (H, W)`` (pixel-centre convention)."""
    height, width = size
    return (uv[:, 0] >= -0.5) & (uv[:, 0] <= width - 0.5) & (uv[:, 1] >= -0.5) & (uv[:, 1] <= height - 0.5)


def hand_from_joints3d(
    side: str,
    joints3d: np.ndarray,
    K: np.ndarray,
    size: tuple[int, int],
    joints2d: np.ndarray | None = None,
    visible: np.ndarray | None = None,
    **fields,
) -> Hand:
    """Builds a contract :class:`Hand` from camera-frame joints (every adapter builds its hands with it).

    Args:
        side: ``"left"`` or ``"right"``.
        joints3d: (21, 3) metres, OpenCV camera frame, OpenPose order.
        K: (3, 3) intrinsics.
        size: image ``(H, W)``.
        joints2d: (21, 2) annotated pixels; default ``project(joints3d, K)``.
        visible: (21,) extra visibility (annotated/valid); ANDed with "in the image and in front".
        **fields: further :class:`Hand` fields (``verts3d``, ``mano``, ``mask``, ``joints3d_valid``).

    Returns:
        The hand; ``bbox`` surrounds its visible keypoints (all keypoints if none is visible).
    """
    joints3d = np.asarray(joints3d, np.float32)
    K = np.asarray(K, np.float32)
    if joints2d is None:
        joints2d = project(joints3d.astype(np.float64), K.astype(np.float64))
    joints2d = np.asarray(joints2d, np.float32)
    vis = in_image(joints2d, size) & (joints3d[:, 2] > 0)
    if visible is not None:
        vis &= np.asarray(visible, bool)
    verts = fields.pop("verts3d", None)
    return Hand(
        side=side,  # type: ignore[arg-type]
        joints2d=joints2d,
        visible=vis,
        bbox=bbox_from_points(joints2d, vis),
        K=K.copy(),
        joints3d=joints3d.copy(),
        verts3d=None if verts is None else np.asarray(verts, np.float32).copy(),
        **fields,
    )
