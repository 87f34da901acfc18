"""InterHand2.6M (v1.0, and v0.0's annotation folders), read exactly as distributed.

Layout under ``root`` (facebookresearch/InterHand2.6M, mks0601.github.io/InterHand2.6M)::

    images/<split>/Capture<c>/<seq>/cam<id>/image<frame>.jpg     (the image's 'file_name')
    annotations/<split>/InterHand2.6M_<split>_data.json          v1.0 (H+M merged)
    annotations/<split>/InterHand2.6M_<split>_camera.json
    annotations/<split>/InterHand2.6M_<split>_joint_3d.json
    annotations/<split>/InterHand2.6M_<split>_MANO_NeuralAnnot.json   (not read, see below)
    annotations/{all,human_annot,machine_annot}/InterHand2.6M_<split>_*.json   v0.0 (H+M, H, M)

The 5 fps and 30 fps releases share this layout (30 fps has more frames); pass the folder of
either as ``root``, or its parent with ``fps=`` when it holds ``InterHand2.6M_<fps>fps_batch1``.

``*_data.json`` is COCO-style: ``images`` (id, file_name, width, height, capture, seq_name,
camera, frame_idx) and ``annotations`` (id, image_id, bbox, joint_valid (42, 1), hand_type
``right``/``left``/``interacting``, hand_type_valid). ``*_camera.json``:
``{capture: {campos|camrot|focal|princpt: {camera: value}}}`` with the world->camera transform
``X_cam = camrot @ (X_world - campos)`` (mm). ``*_joint_3d.json``:
``{capture: {frame_idx: {world_coord: (42, 3) mm, ...}}}``.

Joints: 42 = right hand 0..20 then left hand 21..41; within a hand each finger (thumb, index,
middle, ring, pinky) is listed tip first (4 joints), and the wrist is last (20).
:data:`INTERHAND_TO_OPENPOSE` reorders one hand. As in the official loader, a hand whose wrist
is invalid has all its joints invalid. Invalid joints keep their coordinates (zeros where they
are not finite) with ``joints3d_valid`` and ``visible`` False. Units: mm -> m.

MANO: the NeuralAnnot parameters are fitted in world coordinates; moving them into a camera
frame needs the hand model (the translation depends on the rest-pose root), so ``mano`` is None.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from smhr.data.imageio import read_json, read_rgb
from smhr.data.sample import Hand, Sample, hand_from_joints3d
from smhr.errors import DatasetError
from smhr.hand.joints import FINGERS, NUM_JOINTS

SPLITS = ("train", "val", "test")
SUBSET_FOLDERS = {"H+M": "all", "H": "human_annot", "M": "machine_annot"}
"""Annotation subsets (paper names) -> v0.0 annotation folders. v1.0 ships H+M only."""

MM = 1e-3
"""InterHand2.6M stores millimetres."""

INTERHAND_JOINT_NAMES: tuple[str, ...] = tuple(f"{finger}{k}" for finger in FINGERS for k in (4, 3, 2, 1)) + ("wrist",)
"""One hand in InterHand2.6M's order: per finger tip (4) to base (1), wrist last."""

INTERHAND_TO_OPENPOSE = np.array(
    [
        INTERHAND_JOINT_NAMES.index(name)
        for name in ("wrist",) + tuple(f"{f}{k}" for f in FINGERS for k in (1, 2, 3, 4))
    ],
    dtype=np.int64,
)
"""Gather indices: ``joints_openpose = joints_interhand_one_hand[INTERHAND_TO_OPENPOSE]``."""

HAND_OFFSET = {"right": 0, "left": NUM_JOINTS}
"""Where each hand's 21 joints start among the 42."""

HANDS_OF_TYPE = {"right": ("right",), "left": ("left",), "interacting": ("right", "left")}


class InterHand(Sequence[Sample]):
    """InterHand2.6M as a sequence of :class:`~smhr.data.sample.Sample`, one per annotation.

    Args:
        root: folder holding ``images/`` and ``annotations/`` (or their parent, with ``fps``).
        split: ``"train"``, ``"val"`` or ``"test"``.
        subset: ``"H+M"`` (all), ``"H"`` (human) or ``"M"`` (machine annotation).
        fps: ``"5"`` or ``"30"``: use ``root/InterHand2.6M_<fps>fps_batch1`` when it exists.

    Raises:
        DatasetError: unknown split or subset, missing or malformed annotation files.
    """

    def __init__(self, root: str | Path, split: str = "train", subset: str = "H+M", fps: str | None = None) -> None:
        root = Path(root)
        if fps is not None:
            if fps not in ("5", "30"):
                raise DatasetError(f"{root}: unknown fps {fps!r}; use '5' or '30'")
            if (root / f"InterHand2.6M_{fps}fps_batch1").is_dir():
                root = root / f"InterHand2.6M_{fps}fps_batch1"
        self.root = root
        if split not in SPLITS:
            raise DatasetError(f"{root}: unknown InterHand2.6M split {split!r}; use one of {SPLITS}")
        if subset not in SUBSET_FOLDERS:
            raise DatasetError(f"{root}: unknown subset {subset!r}; use one of {list(SUBSET_FOLDERS)}")
        self.split, self.subset = split, subset
        self.annotation_dir = self._annotation_dir()
        data_path = self.file("data")
        data = read_json(data_path)
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("images"), list)
            or not isinstance(data.get("annotations"), list)
        ):
            raise DatasetError(
                f"{data_path}: expected a COCO dict with 'images' and 'annotations' lists; re-download it"
            )
        self.images = {}
        for image in data["images"]:
            if not isinstance(image, dict) or not {"id", "file_name", "capture", "camera", "frame_idx"} <= set(image):
                raise DatasetError(
                    f"{data_path}: image record {image!r:.120} lacks id/file_name/capture/camera/frame_idx"
                )
            self.images[image["id"]] = image
        self.annotations = data["annotations"]
        for n, ann in enumerate(self.annotations):
            if (
                not isinstance(ann, dict)
                or ann.get("image_id") not in self.images
                or ann.get("hand_type") not in HANDS_OF_TYPE
            ):
                raise DatasetError(
                    f"{data_path}: annotation {n} has no known image_id or a hand_type not in {list(HANDS_OF_TYPE)}; "
                    "re-download the annotations"
                )
        self.cameras = read_json(self.file("camera"))
        self.joints = read_json(self.file("joint_3d"))

    def _annotation_dir(self) -> Path:
        v0 = self.root / "annotations" / SUBSET_FOLDERS[self.subset]
        if (v0 / f"InterHand2.6M_{self.split}_data.json").is_file():
            return v0
        v1 = self.root / "annotations" / self.split
        if self.subset != "H+M":
            raise DatasetError(
                f"{v0}: no {self.subset} annotation folder; InterHand2.6M v1.0 ships H+M merged in {v1}, "
                "so use subset='H+M' (or add the v0.0 human_annot/machine_annot folders)"
            )
        return v1

    def file(self, kind: str) -> Path:
        """Path of ``InterHand2.6M_<split>_<kind>.json`` (kind: data, camera, joint_3d, MANO_NeuralAnnot)."""
        return self.annotation_dir / f"InterHand2.6M_{self.split}_{kind}.json"

    def __len__(self) -> int:
        return len(self.annotations)

    def image_path(self, index: int) -> Path:
        image = self.images[self.annotations[index]["image_id"]]
        return self.root / "images" / self.split / image["file_name"]

    def camera(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(K (3, 3), R (3, 3), campos (3,) in m)`` of annotation ``index``'s image."""
        image = self.images[self.annotations[index]["image_id"]]
        capture, cam = str(image["capture"]), str(image["camera"])
        path = self.file("camera")
        try:
            entry = self.cameras[capture]
            focal, princpt = np.asarray(entry["focal"][cam], float), np.asarray(entry["princpt"][cam], float)
            rot, pos = np.asarray(entry["camrot"][cam], float), np.asarray(entry["campos"][cam], float)
        except (KeyError, TypeError, ValueError):
            raise DatasetError(
                f"{path}: no complete camera {cam} for capture {capture}; re-download the annotations"
            ) from None
        if focal.shape != (2,) or princpt.shape != (2,) or rot.shape != (3, 3) or pos.shape != (3,):
            raise DatasetError(f"{path}: camera {cam} of capture {capture} has malformed focal/princpt/camrot/campos")
        K = np.array([[focal[0], 0.0, princpt[0]], [0.0, focal[1], princpt[1]], [0.0, 0.0, 1.0]])
        return K, rot, pos * MM

    def world_joints(self, index: int) -> np.ndarray:
        """(42, 3) world coordinates in metres (InterHand order: right then left)."""
        image = self.images[self.annotations[index]["image_id"]]
        capture, frame = str(image["capture"]), str(image["frame_idx"])
        path = self.file("joint_3d")
        try:
            world = np.asarray(self.joints[capture][frame]["world_coord"], float)
        except (KeyError, TypeError, ValueError):
            raise DatasetError(
                f"{path}: no world_coord for capture {capture} frame {frame}; re-download the annotations"
            ) from None
        if world.shape != (2 * NUM_JOINTS, 3):
            raise DatasetError(
                f"{path}: capture {capture} frame {frame} world_coord has shape {world.shape}, expected (42, 3)"
            )
        return world * MM

    def joint_valid(self, index: int) -> np.ndarray:
        """(42,) bool, with the official rule: an invalid wrist invalidates its whole hand."""
        ann = self.annotations[index]
        try:
            valid = np.asarray(ann["joint_valid"], float).reshape(2 * NUM_JOINTS) > 0
        except (KeyError, ValueError, TypeError):
            raise DatasetError(f"{self.file('data')}: annotation {ann.get('id')} has no (42, 1) joint_valid") from None
        for offset in HAND_OFFSET.values():
            valid[offset : offset + NUM_JOINTS] &= valid[offset + NUM_JOINTS - 1]
        return valid

    def __getitem__(self, index: int) -> Sample:  # type: ignore[override]
        if not -len(self) <= index < len(self):
            raise IndexError(f"InterHand index {index} out of range for {len(self)} annotations")
        index %= len(self)
        ann = self.annotations[index]
        K, rot, pos = self.camera(index)
        cam = (self.world_joints(index) - pos) @ rot.T
        valid = self.joint_valid(index)
        image = read_rgb(self.image_path(index), "extract the InterHand2.6M images for this split")
        hands: list[Hand] = []
        for side in HANDS_OF_TYPE[ann["hand_type"]]:
            sl = slice(HAND_OFFSET[side], HAND_OFFSET[side] + NUM_JOINTS)
            joints, ok = cam[sl][INTERHAND_TO_OPENPOSE], valid[sl][INTERHAND_TO_OPENPOSE]
            ok &= np.isfinite(joints).all(1)
            if not ok.any():
                continue
            joints = np.where(ok[:, None], joints, 0.0)
            # invalid joints are projected from 0 (z = 0); keep them finite, they are masked anyway
            joints2d = np.zeros((NUM_JOINTS, 2))
            uvw = joints[ok] @ K.T
            joints2d[ok] = uvw[:, :2] / uvw[:, 2:]
            hands.append(
                hand_from_joints3d(side, joints, K, image.shape[:2], joints2d=joints2d, visible=ok, joints3d_valid=ok)
            )
        image_record = self.images[ann["image_id"]]
        return Sample(image=image, hands=hands, source=f"interhand/{self.split}/{image_record['file_name']}")
