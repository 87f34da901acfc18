"""FreiHAND: read and write its on-disk format exactly as distributed (lmb-freiburg/freihand).

Layout under ``root`` (``FreiHAND_pub_v2`` plus the public evaluation release)::

    training/rgb/%08d.jpg        N * 4 images: the 4 sample versions of N unique samples
    training/mask/%08d.jpg       N hand masks (shared by the 4 versions)
    training_K.json              N x (3, 3) intrinsics
    training_xyz.json            N x (21, 3) joints, metres, OpenCV camera frame, OpenPose order
    training_mano.json           N x (1, 61) MANO: pose 48, betas 10, uv_root 2, scale 1
    training_verts.json          N x (778, 3) mesh vertices, metres
    training_scale.json          N floats: length of the reference bone (middle1 -> middle2), m
    evaluation/rgb/%08d.jpg      M images (one version)
    evaluation/segmap/%08d.png   M hand segmentation maps (0 background; only in the eval release)
    evaluation_{K,xyz,mano,verts,scale}.json

The training image of unique sample ``i`` in version ``v`` is ``rgb/%08d.jpg % (i + v * N)`` with
versions ``gs`` (green screen), ``hom`` (homogenised), ``sample``, ``auto`` (two colour
hallucinations), in that order. Here ``N`` is the number of annotation records, so a set with any
number of samples and versions (our synthetic one) reads the same way.

MANO convention: ``pose`` is FreiHAND's, i.e. *without* ``hands_mean`` (the official renderer
adds the mean pose, ``use_mean_pose=True``). The last three numbers are not a translation but
``uv_root`` (the projection of the middle finger's base joint, OpenPose joint 9) and ``scale``
(``focal / z_root``, a weak-perspective scale). A translation would need the hand model, so the
reader's ``ManoParams.trans`` is NaN (see :func:`split_mano`; the MANO root can be recovered
from ``joints3d[9]``).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np

from smhr.data.datasets.imageio import read_gray, read_json_records, read_mask, read_rgb, write_jpeg, write_json, write_png
from smhr.data.datasets.sample import ContractError, ManoParams, Sample, hand_from_joints3d, intrinsics_problem
from smhr.errors import DatasetError
from smhr.geometry.camera import project
from smhr.hand.joints import MIDDLE_MCP, MIDDLE_PIP, NUM_JOINTS

log = logging.getLogger(__name__)

SPLITS = ("training", "evaluation")
VERSIONS = ("gs", "hom", "sample", "auto")
"""FreiHAND's sample versions, in the order of their image-index offsets."""

MANO_SIZE = 61
"""Numbers per ``*_mano.json`` record: pose 48, betas 10, uv_root 2, scale 1."""

MANO_ROOT_JOINT = 9
"""OpenPose index of the joint whose projection and depth ``uv_root`` and ``scale`` describe (middle1)."""

REFERENCE_BONE = (MIDDLE_MCP, MIDDLE_PIP)
"""OpenPose joints of FreiHAND's reference bone: ``*_scale.json = |xyz[9] - xyz[10]|`` (metres)."""

FILES = ("K", "xyz", "mano", "verts", "scale")

RECORD_FILES = {"K": ("K",), "joints3d": ("xyz",), "verts3d": ("verts",)}
"""Which annotation file holds a contract field (the others are derived from ``K`` and ``xyz``)."""

Version = Literal["gs", "hom", "sample", "auto", "all"] | int


class FreiHANDMano(NamedTuple):
    """The 61 numbers of one ``*_mano.json`` record, split.

    Attributes:
        pose: (48,) axis-angle, global orientation first, without ``hands_mean``.
        betas: (10,) shape.
        uv_root: (2,) pixels, projection of OpenPose joint 9.
        scale: () ``focal / z`` of that joint (weak-perspective pixels per metre).
    """

    pose: np.ndarray
    betas: np.ndarray
    uv_root: np.ndarray
    scale: float


class FreiHANDRecord(NamedTuple):
    """One annotation record as stored (no image).

    Attributes:
        K: (3, 3) float32 intrinsics.
        xyz: (21, 3) float32 joints, metres, OpenCV camera frame, OpenPose order.
        mano: (61,) float32 or None when the set has no ``*_mano.json``.
        verts: (V, 3) float32 or None when not loaded.
        scale: reference-bone length in metres, or None when the set has no ``*_scale.json``.
    """

    K: np.ndarray
    xyz: np.ndarray
    mano: np.ndarray | None
    verts: np.ndarray | None
    scale: float | None


def split_mano(theta: np.ndarray) -> FreiHANDMano:
    """Splits a FreiHAND MANO record ((61,) or (1, 61)) into its parts."""
    theta = np.asarray(theta, np.float32).reshape(MANO_SIZE)
    return FreiHANDMano(theta[:48].copy(), theta[48:58].copy(), theta[58:60].copy(), float(theta[60]))


def join_mano(pose: np.ndarray, betas: np.ndarray, xyz: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Builds a FreiHAND MANO record from pose, shape and the joints it produced.

    Args:
        pose: (48,) axis-angle without ``hands_mean`` (FreiHAND's convention).
        betas: (10,).
        xyz: (21, 3) joints in metres, OpenPose order (``uv_root`` and ``scale`` come from joint 9).
        K: (3, 3) intrinsics.

    Returns:
        (61,) float64.
    """
    root = np.asarray(xyz, np.float64)[MANO_ROOT_JOINT]
    K = np.asarray(K, np.float64)
    uv_root = project(root[None], K)[0]
    focal = 0.5 * (K[0, 0] + K[1, 1])
    return np.concatenate([np.ravel(pose), np.ravel(betas), uv_root, [focal / root[2]]]).astype(np.float64)


def reference_scale(xyz: np.ndarray) -> float:
    """FreiHAND's ``*_scale.json`` value: the length of bone ``REFERENCE_BONE`` in metres."""
    a, b = REFERENCE_BONE
    return float(np.linalg.norm(np.asarray(xyz, np.float64)[a] - np.asarray(xyz, np.float64)[b]))


def annotation_path(root: str | Path, split: str, name: str) -> Path:
    """``root/<split>_<name>.json``."""
    return Path(root) / f"{split}_{name}.json"


class FreiHAND(Sequence[Sample]):
    """FreiHAND (or any set in its layout) as a sequence of :class:`~smhr.data.datasets.sample.Sample`.

    Each sample has one right hand with ``K``, ``joints3d`` (metres), ``joints2d`` (the
    projection of ``joints3d`` with ``K``), ``visible`` (keypoint inside the image), ``bbox``
    (around the visible keypoints), and where present ``verts3d``, ``mano`` and ``mask``.
    Annotations are read once at construction; images are read per item, and every item is
    validated (:meth:`Sample.validate` with ``own_camera=True``: a plausible ``K`` for this image,
    joints in front of the camera).

    Args:
        root: the folder holding ``training/``, ``evaluation/`` and the ``*.json`` files.
        split: ``"training"`` or ``"evaluation"``.
        version: a sample version name (``"gs"``, ``"hom"``, ``"sample"``, ``"auto"``), its index
            0..3, or ``"all"`` for every version present one after another (training only;
            the evaluation split has ``"gs"`` only).
        load_verts: read ``*_verts.json`` (778 x 3 per record: large for the real set).
        load_mask: attach masks (``training/mask``; ``evaluation/segmap`` if present).

    Raises:
        DatasetError: a required file is missing or malformed, or the version's images are absent;
            on item access, a record whose annotation is meaningless (naming the file and record).
    """

    def __init__(
        self,
        root: str | Path,
        split: str = "training",
        version: Version = "gs",
        load_verts: bool = True,
        load_mask: bool = True,
    ) -> None:
        self.root = Path(root)
        if split not in SPLITS:
            raise DatasetError(f"{self.root}: unknown FreiHAND split {split!r}; use one of {SPLITS}")
        self.split = split
        fix = "point root at the folder that holds training/, evaluation/ and the *_K.json files"
        self.K = read_json_records(annotation_path(root, split, "K"), (3, 3), fix)
        self.xyz = read_json_records(annotation_path(root, split, "xyz"), (NUM_JOINTS, 3), fix)
        self.mano = self._optional("mano", (1, MANO_SIZE))
        self.verts = self._optional("verts", (-1, 3)) if load_verts else None
        self.scale = self._optional("scale", ())
        n = len(self.K)
        for name, array in (("xyz", self.xyz), ("mano", self.mano), ("verts", self.verts), ("scale", self.scale)):
            if array is not None and len(array) != n:
                raise DatasetError(
                    f"{annotation_path(root, split, name)}: {len(array)} records but {split}_K.json has {n}; "
                    "the annotation files must come from the same release"
                )
        if n == 0:
            raise DatasetError(f"{annotation_path(root, split, 'K')}: no records; the dataset is empty")
        self.num_records = n
        self.versions = self._resolve_versions(version)
        self.mask_dir = self._mask_dir() if load_mask else None

    def _optional(self, name: str, shape: tuple[int, ...]) -> np.ndarray | None:
        path = annotation_path(self.root, self.split, name)
        if not path.is_file():
            return None
        return read_json_records(path, shape)

    def _resolve_versions(self, version: Version) -> tuple[int, ...]:
        present = self.versions_present()
        if version == "all":
            if present == 0:
                raise DatasetError(
                    f"{self.image_path(0)}: no images for {self.num_records} records; extract {self.split}/rgb/"
                )
            return tuple(range(present))
        index = VERSIONS.index(version) if isinstance(version, str) and version in VERSIONS else version
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise DatasetError(
                f"{self.root}: unknown FreiHAND version {version!r}; use one of {VERSIONS}, 0..3 or 'all'"
            )
        last = self.image_path(self.num_records - 1 + index * self.num_records)
        if not last.is_file():
            raise DatasetError(
                f"{last}: missing, so version {version!r} is not present ({present} version(s) of "
                f"{self.num_records} samples found in {last.parent}); use version=0..{max(present - 1, 0)}"
            )
        return (index,)

    def versions_present(self) -> int:
        """How many sample versions the rgb folder holds (complete blocks of ``num_records`` images)."""
        folder = self.root / self.split / "rgb"
        if not folder.is_dir():
            return 0
        count = sum(1 for entry in os.scandir(folder) if entry.name.endswith(".jpg"))
        return count // self.num_records

    def _mask_dir(self) -> Path | None:
        if self.split == "training":
            folder = self.root / "training" / "mask"
            if not folder.is_dir():
                raise DatasetError(f"{folder}: mask folder not found; extract it or pass load_mask=False")
            return folder
        folder = self.root / "evaluation" / "segmap"
        return folder if folder.is_dir() else None

    def __len__(self) -> int:
        return self.num_records * len(self.versions)

    def image_path(self, image_index: int) -> Path:
        """Path of rgb image number ``image_index`` (record + version offset)."""
        return self.root / self.split / "rgb" / f"{image_index:08d}.jpg"

    def mask_path(self, record_index: int) -> Path | None:
        """Path of the mask of record ``record_index`` (None when masks are not loaded or absent)."""
        if self.mask_dir is None:
            return None
        suffix = "jpg" if self.split == "training" else "png"
        return self.mask_dir / f"{record_index:08d}.{suffix}"

    def locate(self, index: int) -> tuple[int, int]:
        """Maps a sequence index to ``(record_index, image_index)``."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"FreiHAND index {index} out of range for {len(self)} samples")
        index %= len(self)
        record, block = index % self.num_records, index // self.num_records
        return record, record + self.versions[block] * self.num_records

    def record(self, record_index: int) -> FreiHANDRecord:
        """The annotation of unique sample ``record_index`` (no image read)."""
        return FreiHANDRecord(
            K=self.K[record_index],
            xyz=self.xyz[record_index],
            mano=None if self.mano is None else self.mano[record_index].reshape(MANO_SIZE),
            verts=None if self.verts is None else self.verts[record_index],
            scale=None if self.scale is None else float(self.scale[record_index]),
        )

    def __getitem__(self, index: int) -> Sample:  # type: ignore[override]
        record_index, image_index = self.locate(index)
        rec = self.record(record_index)
        image = read_rgb(self.image_path(image_index), "extract the FreiHAND images or fix the dataset root")
        mano = None
        if rec.mano is not None:
            parts = split_mano(rec.mano)
            mano = ManoParams(pose=parts.pose, betas=parts.betas, trans=np.full(3, np.nan, np.float32))
        mask = None
        mask_path = self.mask_path(record_index)
        if mask_path is not None:
            fix = "extract the FreiHAND masks or pass load_mask=False"
            # training masks are 0/255 JPEGs (threshold); evaluation segmaps are label PNGs (0 = background)
            mask = read_mask(mask_path, fix) if self.split == "training" else read_gray(mask_path, fix) > 0
            if mask.shape != image.shape[:2]:
                raise DatasetError(
                    f"{mask_path}: mask is {mask.shape}, image is {image.shape[:2]}; re-extract the masks"
                )
        hand = hand_from_joints3d("right", rec.xyz, rec.K, image.shape[:2], verts3d=rec.verts, mano=mano, mask=mask)
        sample = Sample(image=image, hands=[hand], source=f"freihand/{self.split}/{image_index:08d}")
        try:
            sample.validate(own_camera=True)
        except ContractError as err:
            names = RECORD_FILES.get(err.field, ("K", "xyz"))
            files = " and ".join(str(annotation_path(self.root, self.split, name)) for name in names)
            raise DatasetError(
                f"{files}, record {record_index} (image {image_index:08d}.jpg): {err.problem}; "
                "correct this record or remove the sample"
            ) from err
        return sample


def _round(array: np.ndarray, decimals: int = 7) -> list:
    """JSON-ready nested lists, rounded so the text is short and deterministic."""
    return np.round(np.asarray(array, np.float64), decimals).tolist()


class FreiHANDWriter:
    """Writes one split of a dataset in FreiHAND's exact layout, one sample at a time.

    Images and masks are written as they come (each file atomically); the ``*.json`` files are
    written at :meth:`close`, so a split without its JSON (an interrupted run) does not read as
    a dataset. Use as a context manager; on an exception the JSON is not written.

    Args:
        root: dataset root (created).
        split: ``"training"`` or ``"evaluation"``.
        overwrite: remove an existing split first; otherwise an existing split is an error.

    Example:
        >>> with FreiHANDWriter("data/synth", "training") as w:  # doctest: +SKIP
        ...     w.add(image, K, xyz, mask=mask, mano=params, verts=verts)
    """

    def __init__(self, root: str | Path, split: str = "training", overwrite: bool = False) -> None:
        if split not in SPLITS:
            raise DatasetError(f"{root}: unknown FreiHAND split {split!r}; use one of {SPLITS}")
        self.root, self.split = Path(root), split
        existing = [annotation_path(root, split, name) for name in FILES if annotation_path(root, split, name).exists()]
        if existing or (self.root / split).exists():
            if not overwrite:
                raise DatasetError(f"{self.root / split}: split already exists; delete it or pass overwrite=True")
            for path in existing:
                path.unlink()
            shutil.rmtree(self.root / split, ignore_errors=True)
        self._records: dict[str, list] = {name: [] for name in FILES}
        self._has: dict[str, bool | None] = {"mano": None, "verts": None, "mask": None}
        self._closed = False

    def __len__(self) -> int:
        return len(self._records["K"])

    def _consistent(self, name: str, present: bool) -> None:
        if self._has[name] is None:
            self._has[name] = present
        elif self._has[name] != present:
            raise ValueError(
                f"{self.root / self.split}: {name} given for some samples but not others; give it for all or none"
            )

    def add(
        self,
        image: np.ndarray,
        K: np.ndarray,
        xyz: np.ndarray,
        mask: np.ndarray | None = None,
        mano: ManoParams | None = None,
        verts: np.ndarray | None = None,
    ) -> int:
        """Appends one sample.

        Args:
            image: (H, W, 3) uint8 RGB.
            K: (3, 3) intrinsics.
            xyz: (21, 3) joints in metres, OpenCV camera frame, OpenPose order.
            mask: (H, W) bool hand mask (required for the training split).
            mano: pose (48, without ``hands_mean``) and betas; ``trans`` is not stored (FreiHAND
                keeps ``uv_root`` and ``scale`` of joint 9 instead, computed here from ``xyz``).
            verts: (V, 3) vertices in metres.

        Returns:
            The record index of the sample.

        Raises:
            ValueError: for a malformed or meaningless sample (NaN, a ``K`` that does not fit the
                image, joints behind the camera); nothing of it is written.
        """
        if self._closed:
            raise ValueError(f"{self.root / self.split}: writer is closed")
        xyz = np.asarray(xyz, np.float64)
        K = np.asarray(K, np.float64)
        if (
            xyz.shape != (NUM_JOINTS, 3)
            or K.shape != (3, 3)
            or not (np.all(np.isfinite(xyz)) and np.all(np.isfinite(K)))
        ):
            raise ValueError(
                f"{self.root / self.split}: xyz must be finite (21, 3) and K finite (3, 3), got {xyz.shape}, {K.shape}"
            )
        problem = intrinsics_problem(K, np.shape(image)[:2], own_camera=True)
        if problem is None and not np.all(xyz[:, 2] > 0):
            problem = "xyz has joints behind the camera (z <= 0)"
        if problem is not None:
            raise ValueError(f"{self.root / self.split}: sample {len(self)}: {problem}")
        if self.split == "training" and mask is None:
            raise ValueError(f"{self.root / self.split}: FreiHAND's training split has a mask per sample; pass mask")
        self._consistent("mask", mask is not None)
        self._consistent("mano", mano is not None)
        self._consistent("verts", verts is not None)
        index = len(self)
        write_jpeg(self.root / self.split / "rgb" / f"{index:08d}.jpg", image)
        if mask is not None:
            if np.shape(mask) != np.shape(image)[:2]:
                raise ValueError(f"{self.root / self.split}: mask {np.shape(mask)} != image {np.shape(image)[:2]}")
            mask = np.asarray(mask).astype(bool)
            if self.split == "training":
                write_jpeg(self.root / "training" / "mask" / f"{index:08d}.jpg", mask)
            else:
                write_png(self.root / "evaluation" / "segmap" / f"{index:08d}.png", mask)
        self._records["K"].append(_round(K))
        self._records["xyz"].append(_round(xyz))
        self._records["scale"].append(round(reference_scale(xyz), 7))
        if mano is not None:
            self._records["mano"].append([_round(join_mano(mano.pose, mano.betas, xyz, K))])
        if verts is not None:
            self._records["verts"].append(_round(verts))
        return index

    def close(self) -> None:
        """Writes the ``*.json`` files (atomically). Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if len(self) == 0:
            raise DatasetError(f"{self.root / self.split}: no samples were added; nothing to write")
        for name in FILES:
            if self._records[name]:
                write_json(annotation_path(self.root, self.split, name), self._records[name])
        log.info("wrote %d %s samples to %s", len(self), self.split, self.root)

    def __enter__(self) -> FreiHANDWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self._closed = True
