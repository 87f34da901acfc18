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
are not finite) with ``joints3d_valid`` and ``visible`` False; a NaN/null coordinate on a joint
marked valid, a ``world_coord`` that is not (42, 3), or a ``hand_type`` that is not one of
``right``/``left``/``interacting`` (null included) is a DatasetError naming the file and entry.
Units: mm -> m. The world -> camera transform and these checks are shared with the evaluation
protocol (:mod:`smhr.eval.interhand`).

MANO: the NeuralAnnot parameters are fitted in world coordinates; moving them into a camera
frame needs the hand model (the translation depends on the rest-pose root), so ``mano`` is None.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from smhr.data.datasets.imageio import read_json, read_rgb
from smhr.data.datasets.sample import ContractError, Hand, Sample, hand_from_joints3d
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
"""``hand_type`` values -> the hands an annotation shows (anything else, null included, is an error)."""

NUM_IH_JOINTS = 2 * NUM_JOINTS
"""Joints per annotation: right hand then left hand."""

ROOT = {side: HAND_OFFSET[side] + INTERHAND_JOINT_NAMES.index("wrist") for side in HAND_OFFSET}
"""Index of each hand's wrist (its root) among the 42: right 20, left 41."""


def world_to_camera(world: np.ndarray, camrot: np.ndarray, campos: np.ndarray) -> np.ndarray:
    """InterHand2.6M's world -> camera transform, ``X_cam = camrot @ (X_world - campos)``.

    Computed as the official loader writes it (``np.dot(camrot, world.T - campos).T``), in the
    inputs' dtype (the evaluation passes float32 millimetres, as the official code).

    Args:
        world: (P, 3) world coordinates.
        camrot: (3, 3) rotation.
        campos: (3,) camera position, in the unit of ``world``.

    Returns:
        (P, 3) camera-frame coordinates.
    """
    return np.dot(camrot, world.transpose(1, 0) - campos.reshape(3, 1)).transpose(1, 0)


def hand_type_of(ann: object, path: Path, n: int) -> str:
    """The annotation's ``hand_type`` (``right``, ``left`` or ``interacting``).

    Raises:
        DatasetError: naming the file and annotation, for a missing, null or unknown value.
    """
    value = ann.get("hand_type") if isinstance(ann, dict) else None
    if not isinstance(value, str) or value not in HANDS_OF_TYPE:
        ident = ann.get("id", n) if isinstance(ann, dict) else n
        raise DatasetError(
            f"{path}: annotation {ident} has hand_type {value!r}, not one of {list(HANDS_OF_TYPE)}; "
            "re-download the annotations (or drop that annotation)"
        )
    return str(value)


def joint_valid_of(ann: dict, path: Path) -> np.ndarray:
    """(42,) bool ``joint_valid`` with the official rule: an invalid wrist invalidates its whole hand.

    Raises:
        DatasetError: ``joint_valid`` missing, not numeric, not 42 values, or not finite.
    """
    try:
        valid = np.asarray(ann["joint_valid"], np.float64).reshape(NUM_IH_JOINTS)
    except (KeyError, ValueError, TypeError):
        valid = np.full(NUM_IH_JOINTS, np.nan)
    if not np.isfinite(valid).all():
        raise DatasetError(
            f"{path}: annotation {ann.get('id')} has no (42, 1) numeric joint_valid; re-download the annotations"
        )
    valid = valid > 0
    for side, offset in HAND_OFFSET.items():
        valid[offset : offset + NUM_JOINTS] &= valid[ROOT[side]]
    return valid


def world_coord_of(joints: object, capture: str, frame: str, path: Path) -> np.ndarray:
    """(42, 3) float64 ``world_coord`` (mm) of one frame of ``*_joint_3d.json``; null reads as NaN.

    Raises:
        DatasetError: naming the file, capture and frame, when missing or not (42, 3) numbers.
    """
    try:
        world = np.asarray(joints[capture][frame]["world_coord"], np.float64)  # type: ignore[index]
    except (KeyError, TypeError, ValueError, IndexError):
        raise DatasetError(
            f"{path}: no numeric world_coord for capture {capture} frame {frame}; re-download the annotations"
        ) from None
    if world.shape != (NUM_IH_JOINTS, 3):
        raise DatasetError(
            f"{path}: capture {capture} frame {frame} world_coord has shape {world.shape}, expected (42, 3) "
            "(right hand then left hand); re-download the annotations"
        )
    return world


def check_valid_finite(world: np.ndarray, valid: np.ndarray, path: Path, capture: str, frame: str) -> None:
    """Refuses NaN/null coordinates on joints marked valid (invalid joints may hold anything).

    Raises:
        DatasetError: naming the file, capture, frame and the first such joint.
    """
    bad = valid & ~np.isfinite(world).all(1)
    if bad.any():
        raise DatasetError(
            f"{path}: capture {capture} frame {frame} world_coord joint {int(np.argmax(bad))} is NaN or null but "
            "marked valid in joint_valid; re-download the annotations or mark the joint invalid"
        )


class InterHand(Sequence[Sample]):
    """InterHand2.6M as a sequence of :class:`~smhr.data.datasets.sample.Sample`, one per annotation.

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
            hand_type_of(ann, data_path, n)
            if ann.get("image_id") not in self.images:
                raise DatasetError(
                    f"{data_path}: annotation {ann.get('id', n)} has no known image_id; re-download the annotations"
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
        return world_coord_of(self.joints, str(image["capture"]), str(image["frame_idx"]), self.file("joint_3d")) * MM

    def joint_valid(self, index: int) -> np.ndarray:
        """(42,) bool, with the official rule: an invalid wrist invalidates its whole hand."""
        return joint_valid_of(self.annotations[index], self.file("data"))

    def __getitem__(self, index: int) -> Sample:  # type: ignore[override]
        if not -len(self) <= index < len(self):
            raise IndexError(f"InterHand index {index} out of range for {len(self)} annotations")
        index %= len(self)
        ann = self.annotations[index]
        K, rot, pos = self.camera(index)
        world, valid = self.world_joints(index), self.joint_valid(index)
        image_record = self.images[ann["image_id"]]
        check_valid_finite(
            world, valid, self.file("joint_3d"), str(image_record["capture"]), str(image_record["frame_idx"])
        )
        cam = world_to_camera(world, rot, pos)
        image = read_rgb(self.image_path(index), "extract the InterHand2.6M images for this split")
        hands: list[Hand] = []
        for side in HANDS_OF_TYPE[ann["hand_type"]]:
            sl = slice(HAND_OFFSET[side], HAND_OFFSET[side] + NUM_JOINTS)
            joints, ok = cam[sl][INTERHAND_TO_OPENPOSE], valid[sl][INTERHAND_TO_OPENPOSE]
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
        sample = Sample(image=image, hands=hands, source=f"interhand/{self.split}/{image_record['file_name']}")
        try:
            sample.validate(own_camera=True)
        except ContractError as err:
            files = f"{self.file('camera')} / {self.file('joint_3d')}"
            raise DatasetError(f"{files}: annotation {ann.get('id', index)} ({image_record['file_name']}): "
                               f"{err.problem}; correct its camera or joints, or remove the annotation") from err
        return sample
