"""HO-3D v2 and v3, read exactly as distributed (shreyashampali/ho3d).

Layout under ``root``::

    train.txt, evaluation.txt          one "SEQUENCE/FRAME" per line (e.g. "ABF10/0000")
    train/<SEQ>/rgb/<FRAME>.png        v2 (PNG)   |   .jpg in v3
    train/<SEQ>/meta/<FRAME>.pkl       per-frame annotation (a pickled dict, Python 2 era: latin1)
    evaluation/<SEQ>/rgb/..., meta/...

Meta keys used here: ``camMat`` (3, 3); ``handJoints3D`` ((21, 3) in train, HO3D's
"MANO with tips" order; in evaluation only the (3,) root joint, the wrist); ``handBoundingBox``
(evaluation: ``[x0, y0, x1, y1]`` px); ``handPose`` (48), ``handBeta`` (10), ``handTrans`` (3)
(train). All 3D is in **OpenGL** camera axes (y up, the hand at negative z) and metres; smhr
converts with :data:`~smhr.hand.conventions.OPENGL_TO_OPENCV` (``diag(1, -1, -1)``) and reorders joints with
:data:`~smhr.hand.joints.HO3D_TO_OPENPOSE`.

Every frame is validated (:meth:`~smhr.data.datasets.sample.Sample.validate`, ``own_camera=True``): a
``camMat`` that does not fit the image or joints behind the camera (e.g. left in OpenGL axes) is a
DatasetError naming the meta file.

Quirks:

* Unannotated train frames (``handJoints3D`` is None) give a sample with no hands.
* Evaluation frames give one right hand whose ``joints3d`` holds the root in every row with
  ``joints3d_valid`` True only at the wrist; ``joints2d`` likewise (``visible`` only at the
  wrist); ``bbox`` is ``handBoundingBox``.
* MANO parameters are not put into the contract (``mano`` is None): HO3D's ``handPose`` includes
  ``hands_mean`` (flat-hand-mean convention) and lives in OpenGL axes, and converting its
  translation needs the hand model. :meth:`HO3D.meta` gives the raw values.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from smhr.data.datasets.imageio import field_array, read_pickle, read_rgb
from smhr.data.datasets.sample import ContractError, Hand, Sample, hand_from_joints3d, in_image
from smhr.errors import DatasetError
from smhr.geometry.camera import project
from smhr.hand.conventions import OPENGL_TO_OPENCV
from smhr.hand.joints import HO3D_TO_OPENPOSE, NUM_JOINTS, WRIST

SPLITS = ("train", "evaluation")
IMAGE_EXTENSION = {"v2": "png", "v3": "jpg"}
"""HO-3D v3 stores its rgb images as JPEG, v2 as PNG; everything else is the same."""

META_KEYS = {"K": "camMat", "joints3d": "handJoints3D", "bbox": "handBoundingBox"}
"""Which meta key holds a contract field (named in validation errors)."""


def opengl_to_opencv(points: np.ndarray) -> np.ndarray:
    """(..., 3) OpenGL camera-frame points -> OpenCV camera frame (flips y and z)."""
    return np.asarray(points, np.float64) * OPENGL_TO_OPENCV.diagonal()


def read_meta(path: Path) -> dict[str, Any]:
    """Loads one ``meta/*.pkl``.

    Raises:
        DatasetError: missing, unreadable, or not a dict with ``camMat``.
    """
    meta = read_pickle(path, "extract the HO-3D meta folders or fix the root")
    if not isinstance(meta, dict) or "camMat" not in meta:
        raise DatasetError(f"{path}: not an HO-3D meta dict (no 'camMat'); re-extract this file")
    return meta


class HO3D(Sequence[Sample]):
    """HO-3D v2/v3 as a sequence of :class:`~smhr.data.datasets.sample.Sample` (one right hand each).

    Args:
        root: folder holding ``train.txt``, ``evaluation.txt``, ``train/`` and ``evaluation/``.
        split: ``"train"`` or ``"evaluation"``.
        version: ``"v2"`` (PNG images) or ``"v3"`` (JPEG images).

    Raises:
        DatasetError: unknown split/version, or a missing or malformed split list.
    """

    def __init__(self, root: str | Path, split: str = "train", version: str = "v3") -> None:
        self.root = Path(root)
        if split not in SPLITS:
            raise DatasetError(f"{self.root}: unknown HO-3D split {split!r}; use one of {SPLITS}")
        if version not in IMAGE_EXTENSION:
            raise DatasetError(f"{self.root}: unknown HO-3D version {version!r}; use 'v2' or 'v3'")
        self.split, self.version = split, version
        listing = self.root / f"{split}.txt"
        if not listing.is_file():
            raise DatasetError(
                f"{listing}: split list not found; point root at the HO-3D folder that holds {split}.txt"
            )
        self.frames: list[tuple[str, str]] = []
        for number, line in enumerate(listing.read_text().splitlines(), 1):
            line = line.strip()
            if not line:
                continue
            parts = line.split("/")
            if len(parts) != 2 or not all(parts):
                raise DatasetError(f"{listing}:{number}: expected 'SEQUENCE/FRAME', got {line!r}; fix that line")
            self.frames.append((parts[0], parts[1]))

    def __len__(self) -> int:
        return len(self.frames)

    def image_path(self, index: int) -> Path:
        seq, frame = self.frames[index]
        return self.root / self.split / seq / "rgb" / f"{frame}.{IMAGE_EXTENSION[self.version]}"

    def meta_path(self, index: int) -> Path:
        seq, frame = self.frames[index]
        return self.root / self.split / seq / "meta" / f"{frame}.pkl"

    def meta(self, index: int) -> dict[str, Any]:
        """The raw meta dict of frame ``index`` (OpenGL axes, HO3D joint order)."""
        return read_meta(self.meta_path(index))

    def _hand(self, meta: dict, path: Path, size: tuple[int, int]) -> Hand | None:
        K = field_array(meta, "camMat", (3, 3), str(path))
        joints = meta.get("handJoints3D")
        if joints is None:
            return None
        if self.split == "train":
            xyz = opengl_to_opencv(field_array(meta, "handJoints3D", (NUM_JOINTS, 3), str(path)))[HO3D_TO_OPENPOSE]
            return hand_from_joints3d("right", xyz, K, size)
        root = opengl_to_opencv(field_array(meta, "handJoints3D", (3,), str(path)))
        box = field_array(meta, "handBoundingBox", (4,), str(path)).astype(np.float32)
        uv = project(root[None], K)
        valid = np.zeros(NUM_JOINTS, bool)
        valid[WRIST] = True
        return Hand(
            side="right",
            joints2d=np.repeat(uv, NUM_JOINTS, 0).astype(np.float32),
            visible=valid & in_image(np.repeat(uv, NUM_JOINTS, 0), size),
            bbox=box,
            K=K.astype(np.float32),
            joints3d=np.repeat(root[None], NUM_JOINTS, 0).astype(np.float32),
            joints3d_valid=valid,
        )

    def __getitem__(self, index: int) -> Sample:  # type: ignore[override]
        if not -len(self) <= index < len(self):
            raise IndexError(f"HO3D index {index} out of range for {len(self)} frames")
        index %= len(self)
        path = self.meta_path(index)
        meta = read_meta(path)
        image = read_rgb(self.image_path(index), f"extract the HO-3D {self.version} rgb folders or check version=")
        hand = self._hand(meta, path, image.shape[:2])
        seq, frame = self.frames[index]
        sample = Sample(
            image=image, hands=[] if hand is None else [hand], source=f"ho3d_{self.version}/{self.split}/{seq}/{frame}"
        )
        try:
            sample.validate(own_camera=True)
        except ContractError as err:
            key = META_KEYS.get(err.field, "handJoints3D' and 'camMat")
            raise DatasetError(
                f"{path} ('{key}'): {err.problem}; correct this meta file or remove "
                f"{seq}/{frame} from {self.split}.txt"
            ) from err
        return sample
