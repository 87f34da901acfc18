"""The sample contract: what every dataset adapter yields and every consumer reads.

One :class:`Sample` = one RGB image + a list of :class:`Hand`. Units: metres for 3D, pixels for
2D; 3D is in the camera frame with OpenCV axes (x right, y down, z forward); joints are in
OpenPose/FreiHAND order (:mod:`smhr.hand.joints`). Each hand carries its own intrinsics ``K``:
composed multi-hand images paste hands photographed by different cameras, and ``K`` is the
camera that makes that hand's 3D consistent with *this* image (``project(joints3d, K) ==
joints2d``). Fields a dataset does not have are ``None``; weak supervision reads only
``joints2d``, ``visible``, ``bbox``, ``side`` and ``mask``.

Validation (:meth:`Sample.validate`, :func:`hand_problem`) checks meaning as well as shapes: a
plausible ``K``, joints in front of the camera, and ``joints2d`` within
:data:`REPROJECTION_TOLERANCE_PX` of ``project(joints3d, K)``. Our adapters run it on the
samples it yields and turns a :class:`ContractError` into a DatasetError naming its file.

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


class ContractError(ValueError):
    """A hand or sample breaks the contract. Adapters turn it into a DatasetError naming their file.

    Attributes:
        where: the sample and hand, e.g. ``"freihand/training/00000012 hand 0"``.
        field: the offending :class:`Hand` field (``"K"``, ``"joints3d"``, ...), or ``"image"``.
        problem: what is wrong, without ``where``.
    """

    def __init__(self, where: str, field_name: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where, self.field, self.problem = where, field_name, problem


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

    def validate(self, where: str = "hand", size: tuple[int, int] | None = None, own_camera: bool = False) -> None:
        """Checks shapes, dtypes, finiteness and meaning (see :func:`hand_problem`).

        Args:
            where: names the hand in the message, e.g. ``"freihand/training/00000012 hand 0"``.
            size: the image ``(H, W)``, needed for the principal-point check of ``own_camera``.
            own_camera: ``K`` is the camera that took the image (see :func:`intrinsics_problem`).

        Raises:
            ContractError: naming ``where``, the field and what is wrong.
        """
        found = hand_problem(self, size, own_camera)
        if found is not None:
            raise ContractError(where, *found)


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

    def validate(self, own_camera: bool = False) -> None:
        """Checks the image and every hand (shapes, finiteness and meaning, :func:`hand_problem`).

        Args:
            own_camera: every hand's ``K`` is the camera that took this image (a real dataset or
                the synthetic set), so its principal point must lie inside the image; False for
                images whose hands were pasted or warped (composed sets, augmented samples).

        Raises:
            ContractError: naming ``source``, the hand, the field and what is wrong.
        """
        where = self.source or "sample"
        if self.image.ndim != 3 or self.image.shape[2] != 3 or self.image.dtype != np.uint8:
            raise ContractError(
                where, "image", f"image must be (H, W, 3) uint8, got {self.image.shape} {self.image.dtype}"
            )
        for i, hand in enumerate(self.hands):
            hand.validate(f"{where} hand {i}", self.image.shape[:2], own_camera)
            if hand.mask is not None and hand.mask.shape != self.image.shape[:2]:
                raise ContractError(
                    f"{where} hand {i}", "mask", f"mask shape {hand.mask.shape} != image {self.image.shape[:2]}"
                )


REPROJECTION_TOLERANCE_PX = 2.0
"""Largest allowed distance in pixels (per coordinate) between ``project(joints3d, K)`` and
``joints2d`` for valid joints. Our synthetic and composed sets agree to about 3e-5 px (float32
and JSON rounding, docs/data.md); a K made for another image size, or keypoints that are not the
projection of the 3D joints, miss by many pixels."""

PRINCIPAL_POINT_MARGIN = 0.1
"""How far outside the image, as a fraction of its width or height, the principal point of a
camera that took the image may lie. Real datasets (FreiHAND, HO-3D, RHD, InterHand2.6M) and our
synthetic set have it near the image centre; a K for a larger image puts it beyond the border."""

_FORM_ATOL = 1e-6


def intrinsics_problem(K: np.ndarray, size: tuple[int, int] | None = None, own_camera: bool = False) -> str | None:
    """What is wrong with an intrinsics matrix, or None.

    Args:
        K: (3, 3) ``[[fx, s, cx], [0, fy, cy], [0, 0, 1]]`` (skew ``s`` allowed: warped images).
        size: the image ``(H, W)``; with ``own_camera`` the principal point must lie inside it,
            up to :data:`PRINCIPAL_POINT_MARGIN` of its size beyond each border.
        own_camera: ``K`` is the camera that took the image. A pasted or warped hand's ``K`` is a
            virtual camera whose principal point may lie far outside; there only
            :func:`hand_problem`'s reprojection check ties ``K`` to the image.

    Returns:
        One line saying what is wrong and the expected form, or None when ``K`` is plausible.
    """
    K = np.asarray(K, np.float64)
    if K.shape != (3, 3):
        return f"K has shape {K.shape}, expected (3, 3)"
    if not np.all(np.isfinite(K)):
        return "K contains NaN or inf"
    if not (K[0, 0] > 0 and K[1, 1] > 0):
        return f"K has focal lengths fx = {K[0, 0]:g}, fy = {K[1, 1]:g}; both must be > 0 pixels"
    if not np.allclose([K[1, 0], K[2, 0], K[2, 1], K[2, 2]], [0, 0, 0, 1], rtol=0, atol=_FORM_ATOL):
        return f"K = {np.round(K, 3).tolist()} is not of the form [[fx, s, cx], [0, fy, cy], [0, 0, 1]] (transposed?)"
    if own_camera and size is not None:
        height, width = size
        cx, cy = K[0, 2], K[1, 2]
        mx, my = PRINCIPAL_POINT_MARGIN * width, PRINCIPAL_POINT_MARGIN * height
        if not (-0.5 - mx <= cx <= width - 0.5 + mx and -0.5 - my <= cy <= height - 0.5 + my):
            return (
                f"K's principal point ({cx:g}, {cy:g}) lies outside the {width}x{height} image; "
                "K was made for another image size or crop"
            )
    return None


def _shape_problem(hand: Hand) -> tuple[str, str] | None:
    """(field, problem) for the first field with a wrong shape or a NaN/inf, or None."""
    checks = [
        ("joints2d", hand.joints2d, (NUM_JOINTS, 2)),
        ("visible", hand.visible, (NUM_JOINTS,)),
        ("bbox", hand.bbox, (4,)),
        ("K", hand.K, (3, 3)),
        ("joints3d", hand.joints3d, (NUM_JOINTS, 3)),
        ("joints3d_valid", hand.joints3d_valid, (NUM_JOINTS,)),
    ]
    for name, value, shape in checks:
        if value is None:
            if name in ("joints2d", "visible", "bbox", "K"):
                return name, f"{name} is missing (every hand has it)"
            continue
        if np.shape(value) != shape:
            return name, f"{name} has shape {np.shape(value)}, expected {shape}"
        if np.asarray(value).dtype != bool and not np.all(np.isfinite(value)):
            return name, f"{name} contains NaN or inf"
    if hand.verts3d is not None and (hand.verts3d.ndim != 2 or hand.verts3d.shape[1] != 3):
        return "verts3d", f"verts3d has shape {hand.verts3d.shape}, expected (V, 3)"
    if hand.verts3d is not None and not np.all(np.isfinite(hand.verts3d)):
        return "verts3d", "verts3d contains NaN or inf"
    return None


def hand_problem(hand: Hand, size: tuple[int, int] | None = None, own_camera: bool = False) -> tuple[str, str] | None:
    """The first thing that makes a hand's annotation malformed or meaningless, or None.

    Checks, in order: ``side``; shapes and finiteness of every array; ``bbox`` ordered;
    ``K`` (:func:`intrinsics_problem`); valid ``joints3d`` in front of the camera (z > 0); and
    ``project(joints3d, K)`` within :data:`REPROJECTION_TOLERANCE_PX` of ``joints2d`` for valid
    joints (``joints3d_valid``, all when None).

    Args:
        hand: the hand.
        size: the image ``(H, W)`` (for the principal-point check).
        own_camera: ``K`` is the camera that took the image (see :func:`intrinsics_problem`).

    Returns:
        ``(field, problem)``: the offending field and one line saying what is wrong, or None.
    """
    if hand.side not in SIDES:
        return "side", f"side must be 'left' or 'right', got {hand.side!r}"
    found = _shape_problem(hand)
    if found is not None:
        return found
    if hand.bbox[2] < hand.bbox[0] or hand.bbox[3] < hand.bbox[1]:
        return "bbox", f"bbox {hand.bbox.tolist()} has x1 < x0 or y1 < y0"
    problem = intrinsics_problem(hand.K, size, own_camera)
    if problem is not None:
        return "K", problem
    if hand.joints3d is None:
        return None
    valid = np.ones(NUM_JOINTS, bool) if hand.joints3d_valid is None else np.asarray(hand.joints3d_valid, bool)
    joints = np.asarray(hand.joints3d, np.float64)
    behind = np.flatnonzero(valid & (joints[:, 2] <= 0))
    if behind.size:
        return "joints3d", (
            f"joints3d {behind.tolist()} are behind the camera (z = {joints[behind[0], 2]:g} m <= 0); "
            "joints must be metres in OpenCV camera axes (z forward)"
        )
    uv = project(joints, np.asarray(hand.K, np.float64))
    error = np.where(valid[:, None], np.abs(uv - np.asarray(hand.joints2d, np.float64)), 0.0).max(axis=1)
    worst = int(np.argmax(error))
    if error[worst] > REPROJECTION_TOLERANCE_PX:
        return "joints2d", (
            f"joints2d are not the projection of joints3d with K (joint {worst} is {error[worst]:.1f} px off, "
            f"tolerance {REPROJECTION_TOLERANCE_PX:g} px); K or the keypoints belong to another image"
        )
    return None


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
