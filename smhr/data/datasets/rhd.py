"""RHD, the Rendered Hand Pose Dataset (lmb-freiburg/hand3d), read exactly as distributed.

Layout under ``root`` (``RHD_published_v2``)::

    <split>/anno_<split>.pickle     {sample_id: {'xyz': (42, 3) m, 'uv_vis': (42, 3), 'K': (3, 3)}}
    <split>/color/%05d.png          320 x 320 RGB
    <split>/mask/%05d.png           per-pixel labels: 0 background, 1 person,
                                    2..17 left hand parts, 18..33 right hand parts
    <split>/depth/%05d.png          (not read)

``split`` is ``training`` or ``evaluation``. Keypoints: 42 = left hand 0..20, right hand
21..41; within a hand the wrist first, then each finger (thumb, index, middle, ring, pinky) from
tip to base (:data:`RHD_TO_OPENPOSE` reorders). ``xyz`` is in metres in the OpenCV camera frame;
``uv_vis[:, :2]`` are pixels and ``uv_vis[:, 2] == 1`` marks visible (not occluded) keypoints.

Hand selection: the official protocol (hand3d's data readers) keeps one hand per image, the
*dominant* one: the side with more mask pixels (left if ``#left > #right``, else right).
``hands="all"`` keeps every hand with a visible keypoint or a mask pixel instead.
``visible`` is RHD's visibility flag and being inside the image.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from smhr.data.datasets.imageio import field_array, read_gray, read_pickle, read_rgb
from smhr.data.datasets.sample import ContractError, Hand, Sample, hand_from_joints3d
from smhr.errors import DatasetError
from smhr.hand.joints import FINGERS, NUM_JOINTS

SPLITS = ("training", "evaluation")
HAND_SELECTIONS = ("dominant", "all")

RHD_JOINT_NAMES: tuple[str, ...] = ("wrist",) + tuple(f"{finger}{k}" for finger in FINGERS for k in (4, 3, 2, 1))
"""One hand in RHD's order: wrist, then per finger tip (4) to base (1)."""

RHD_TO_OPENPOSE = np.array(
    [RHD_JOINT_NAMES.index(name) for name in ("wrist",) + tuple(f"{f}{k}" for f in FINGERS for k in (1, 2, 3, 4))],
    dtype=np.int64,
)
"""Gather indices: ``joints_openpose = joints_rhd_one_hand[RHD_TO_OPENPOSE]``."""

RHD_MIDDLE_MCP = RHD_JOINT_NAMES.index("middle1")
"""RHD index 12: the middle finger's MCP (with the wrist it forms the palm centre of the protocol)."""

RHD_MIDDLE_PIP = RHD_JOINT_NAMES.index("middle2")
"""RHD index 11: the middle finger's PIP (the bone MCP -> PIP is the protocol's scale)."""

HAND_OFFSET = {"left": 0, "right": NUM_JOINTS}
"""Where each hand's 21 keypoints start among the 42."""

MASK_LABELS = {"left": (2, 17), "right": (18, 255)}
"""Inclusive label ranges of each hand's parts in ``mask/*.png``. RHD uses 18..33 for the right
hand; the official reader counts every label above 17 as right, and so do we."""

ANNOTATION_FIELDS = {"xyz": (42, 3), "uv_vis": (42, 3), "K": (3, 3)}
"""Fields of one sample of ``anno_<split>.pickle`` and their shapes."""


def read_annotations(path: Path, split: str) -> dict[int, dict[str, np.ndarray]]:
    """Reads and checks ``anno_<split>.pickle``: sample id -> ``{xyz, uv_vis, K}`` float64 arrays.

    Raises:
        DatasetError: naming the file and the sample, for a missing or unreadable file, a
            non-integer sample id, or a field missing, of another shape or not finite.
    """
    anno = read_pickle(path, f"point at RHD_published_v2 (it holds {split}/anno_{split}.pickle)")
    if not isinstance(anno, dict) or not anno:
        raise DatasetError(f"{path}: expected a non-empty dict of sample id -> annotation; use the official file")
    records = {}
    for sid, entry in anno.items():
        if isinstance(sid, bool) or not isinstance(sid, (int, np.integer)):
            raise DatasetError(f"{path}: sample id {sid!r} is not an integer; use the official file")
        where = f"{path}: sample {sid}"
        records[int(sid)] = {key: field_array(entry, key, shape, where) for key, shape in ANNOTATION_FIELDS.items()}
    return dict(sorted(records.items()))


def hand_mask(labels: np.ndarray, side: str) -> np.ndarray:
    """(H, W) bool mask of one hand from RHD's (H, W) label image."""
    lo, hi = MASK_LABELS[side]
    return (labels >= lo) & (labels <= hi)


def dominant_side(labels: np.ndarray) -> str:
    """The official rule (hand3d ``BinaryDbReader``): ``"left"`` if the left hand has more mask
    pixels than the right, else ``"right"`` (ties go right). Used by the loader and the RHD
    evaluation protocol alike."""
    return "left" if hand_mask(labels, "left").sum() > hand_mask(labels, "right").sum() else "right"


class RHD(Sequence[Sample]):
    """RHD as a sequence of :class:`~smhr.data.datasets.sample.Sample`.

    Args:
        root: folder holding ``training/`` and ``evaluation/``.
        split: ``"training"`` or ``"evaluation"``.
        hands: ``"dominant"`` (official protocol: one hand per image) or ``"all"``.

    Raises:
        DatasetError: unknown split, missing or malformed annotation pickle.
    """

    def __init__(self, root: str | Path, split: str = "training", hands: str = "dominant") -> None:
        self.root = Path(root)
        if split not in SPLITS:
            raise DatasetError(f"{self.root}: unknown RHD split {split!r}; use one of {SPLITS}")
        if hands not in HAND_SELECTIONS:
            raise DatasetError(f"{self.root}: unknown hand selection {hands!r}; use one of {HAND_SELECTIONS}")
        self.split, self.hands = split, hands
        self.annotation_path = self.root / split / f"anno_{split}.pickle"
        self.records = read_annotations(self.annotation_path, split)
        self.ids = list(self.records)

    def __len__(self) -> int:
        return len(self.ids)

    def image_path(self, index: int) -> Path:
        return self.root / self.split / "color" / f"{int(self.ids[index]):05d}.png"

    def mask_path(self, index: int) -> Path:
        return self.root / self.split / "mask" / f"{int(self.ids[index]):05d}.png"

    def __getitem__(self, index: int) -> Sample:  # type: ignore[override]
        if not -len(self) <= index < len(self):
            raise IndexError(f"RHD index {index} out of range for {len(self)} samples")
        index %= len(self)
        rec = self.records[self.ids[index]]
        image = read_rgb(self.image_path(index), "extract RHD's color folder")
        labels = read_gray(self.mask_path(index), "extract RHD's mask folder")
        if labels.shape != image.shape[:2]:
            raise DatasetError(
                f"{self.mask_path(index)}: mask is {labels.shape}, image is {image.shape[:2]}; re-extract it"
            )
        sides = (dominant_side(labels),) if self.hands == "dominant" else ("left", "right")
        hands: list[Hand] = []
        for side in sides:
            sl = slice(HAND_OFFSET[side], HAND_OFFSET[side] + NUM_JOINTS)
            mask = hand_mask(labels, side)
            flags = rec["uv_vis"][sl, 2][RHD_TO_OPENPOSE] == 1
            if self.hands == "all" and not (flags.any() or mask.any()):
                continue
            hands.append(
                hand_from_joints3d(
                    side,
                    rec["xyz"][sl][RHD_TO_OPENPOSE],
                    rec["K"],
                    image.shape[:2],
                    joints2d=rec["uv_vis"][sl, :2][RHD_TO_OPENPOSE],
                    visible=flags,
                    mask=mask,
                )
            )
        sample = Sample(image=image, hands=hands, source=f"rhd/{self.split}/{int(self.ids[index]):05d}")
        try:
            sample.validate(own_camera=True)
        except ContractError as err:
            raise DatasetError(f"{self.annotation_path}: sample {int(self.ids[index])}: {err.problem}; "
                               "correct this record or remove the sample") from err
        return sample
