"""One image's predictions in its own pixels and camera, and the JSON records written from them.

:func:`to_source` maps a :class:`~smhr.model.outputs.PredictedHand` decoded on the letterboxed
input back to the original image: boxes, centres, ``joints2d`` and ``keypoints2d`` through the
inverse letterbox; 3D (vertices, joints, translation, MANO parameters) unchanged, because the
letterbox only rescales and shifts pixels, so the input's K and the original image's K
(:meth:`Letterbox.K_to_source`) describe one camera frame.

Per-image JSON (``images/<name>.json``; metres, OpenCV camera axes, OpenPose joint order)::

    {"schema": "smhr.predict/1", "image": name, "source": path, "frame": int | null,
     "width": W, "height": H, "input_size": S, "letterbox": 3 x 3 (source -> input px),
     "camera": {"K": 3 x 3 (original pixels), "from": "default" | "focal"},
     "hands": [{"side": "left" | "right", "score": s, "box": [x0, y0, x1, y1], "center": [u, v],
                "joints2d": 21 x 2, "keypoints2d": 21 x 2, "joints3d": 21 x 3,
                "mano": {"global_orient": 3, "hand_pose": 45, "betas": 10, "transl": 3}}, ...]}

``hand_pose`` is the hand model's ``hand_pose`` input (axis-angle; the model adds ``hands_mean``,
``flat_hand_mean=False``); vertices are in the meshes and the run's multi-hand file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from smhr.model.outputs import PredictedHand
from smhr.predict.letterbox import Letterbox

SCHEMA = "smhr.predict/1"
HAND_KEYS: tuple[str, ...] = ("side", "score", "box", "center", "joints2d", "keypoints2d", "joints3d", "mano")
MANO_KEYS: tuple[str, ...] = ("global_orient", "hand_pose", "betas", "transl")


@dataclass
class ImageResult:
    """Everything predicted for one image, in its own pixels.

    Attributes:
        name: output name.
        path: the input file.
        frame: video frame index, or None.
        hw: (H, W) of the image.
        letterbox: the map to the network input.
        K: (3, 3) intrinsics of the original image the 3D is expressed with.
        camera_from: ``"default"`` (the model's default K for the input) or ``"focal"`` (``--focal``).
        hands: in decreasing score order, 2D in original pixels.
    """

    name: str
    path: Path
    frame: int | None
    hw: tuple[int, int]
    letterbox: Letterbox
    K: np.ndarray
    camera_from: str
    hands: list[PredictedHand]


def to_source(hand: PredictedHand, letterbox: Letterbox) -> PredictedHand:
    """A copy of ``hand`` with its pixel quantities in the source image (3D unchanged)."""
    return dataclasses.replace(
        hand,
        box=letterbox.box_to_source(hand.box),
        center=letterbox.to_source(hand.center),
        joints2d=letterbox.to_source(hand.joints2d),
        keypoints2d=letterbox.to_source(hand.keypoints2d),
    )


def _list(a: np.ndarray, digits: int) -> Any:
    return np.round(np.asarray(a, np.float64), digits).tolist()


def hand_record(hand: PredictedHand) -> dict[str, Any]:
    """The JSON record of one hand (see the module docstring); pixels 3 decimals, metres 6."""
    return {
        "side": hand.side,
        "score": round(float(hand.score), 6),
        "box": _list(hand.box, 3),
        "center": _list(hand.center, 3),
        "joints2d": _list(hand.joints2d, 3),
        "keypoints2d": _list(hand.keypoints2d, 3),
        "joints3d": _list(hand.joints3d, 6),
        "mano": {key: _list(getattr(hand, key), 6) for key in MANO_KEYS},
    }


def image_record(result: ImageResult) -> dict[str, Any]:
    """The per-image JSON document (see the module docstring)."""
    return {
        "schema": SCHEMA,
        "image": result.name,
        "source": str(result.path),
        "frame": result.frame,
        "height": result.hw[0],
        "width": result.hw[1],
        "input_size": result.letterbox.size,
        "letterbox": _list(result.letterbox.A, 9),
        "camera": {"K": _list(result.K, 6), "from": result.camera_from},
        "hands": [hand_record(h) for h in result.hands],
    }


def multihand_record(hand: PredictedHand) -> dict[str, Any]:
    """One hand in the multi-hand prediction format of :mod:`smhr.eval.multihand`."""
    return {
        "box": _list(hand.box, 3),
        "side": hand.side,
        "score": round(float(hand.score), 6),
        "joints3d": _list(hand.joints3d, 6),
        "joints2d": _list(hand.joints2d, 3),
        "verts": _list(hand.vertices, 6),
    }
