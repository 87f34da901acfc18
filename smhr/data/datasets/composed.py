"""The composed multi-hand set on disk, and :class:`ComposedDataset` reading it back as Samples.

Layout written by ``smhr compose`` (:mod:`smhr.data.compose.build`)::

    <root>/annotations.json             the one annotation file, both splits
    <root>/<split>/images/%08d.jpg      composed RGB images (split: benchmark | train)
    <root>/<split>/masks/%08d.png       uint8 label maps: k + 1 where hand k is visible, 0 background

``annotations.json`` schema (keys sorted; units: pixels for 2D, metres for 3D, camera frame with
OpenCV axes; joints in OpenPose order)::

    {"format": "smhr-composed", "version": 1, "image_size": S, "config": {...resolved config...},
     "splits": {"benchmark": [IMAGE, ...], "train": [IMAGE, ...]}}
    IMAGE = {"id": int, "image": "<split>/images/%08d.jpg", "mask": "<split>/masks/%08d.png",
             "hands": [HAND, ...]}                      # paste order; later hands cover earlier
    HAND  = {"side": "left" | "right",
             "joints2d": 21 x [u, v], "visible": 21 x bool, "bbox": [x0, y0, x1, y1],
             "K": 3 x 3,                                # project(joints3d, K) == joints2d
             "joints3d": 21 x [x, y, z] | null, "verts3d": V x [x, y, z] | null (optional),
             "mano": {"pose": 48, "betas": 10, "trans": 3 | null} | null,  # for the model of `side`;
                                                        # trans null where the source has none (FreiHAND)
             "source": "<source sample id>"}
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from smhr.data.datasets.imageio import read_gray, read_json, read_rgb
from smhr.data.datasets.sample import ContractError, Hand, ManoParams, Sample
from smhr.errors import DatasetError

FORMAT = "smhr-composed"
VERSION = 1
ANNOTATIONS = "annotations.json"
SPLITS = ("benchmark", "train")


def _list(a: np.ndarray | None) -> Any:
    return None if a is None else np.asarray(a).tolist()


def hand_to_record(hand: Hand, source: str, with_verts: bool) -> dict[str, Any]:
    """The JSON record of one hand (see the module docstring for the schema)."""
    mano = None
    if hand.mano is not None:
        trans = hand.mano.trans if np.all(np.isfinite(hand.mano.trans)) else None
        mano = {"pose": _list(hand.mano.pose), "betas": _list(hand.mano.betas), "trans": _list(trans)}
    return {
        "side": hand.side,
        "joints2d": _list(hand.joints2d),
        "visible": _list(hand.visible),
        "bbox": _list(hand.bbox),
        "K": _list(hand.K),
        "joints3d": _list(hand.joints3d),
        "verts3d": _list(hand.verts3d) if with_verts else None,
        "mano": mano,
        "source": source,
    }


def _f32(value: Any) -> np.ndarray | None:
    return None if value is None else np.asarray(value, dtype=np.float32)


def _trans(value: Any) -> np.ndarray:
    return np.full(3, np.nan, np.float32) if value is None else np.asarray(value, dtype=np.float32)


def hand_from_record(rec: dict[str, Any], mask: np.ndarray | None) -> Hand:
    """A Hand from its JSON record and its mask."""
    mano = rec.get("mano")
    return Hand(
        side=rec["side"],
        joints2d=_f32(rec["joints2d"]),
        visible=np.asarray(rec["visible"], dtype=bool),
        bbox=_f32(rec["bbox"]),
        K=_f32(rec["K"]),
        joints3d=_f32(rec.get("joints3d")),
        verts3d=_f32(rec.get("verts3d")),
        mano=None if mano is None else ManoParams(_f32(mano["pose"]), _f32(mano["betas"]), _trans(mano["trans"])),
        mask=mask,
    )


def read_annotations(root: str | Path) -> dict[str, Any]:
    """Reads and checks ``<root>/annotations.json``. Raises DatasetError naming the file."""
    path = Path(root) / ANNOTATIONS
    data = read_json(path, "run `smhr compose` (or `dvc repro compose`) to write it")
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        raise DatasetError(f"{path}: not a '{FORMAT}' v{VERSION} annotation file; run `smhr compose` again")
    return data


class ComposedDataset(Sequence[Sample]):
    """The composed set's ``split`` as a sequence of Samples (images and masks read lazily, each
    validated: a hand record with a broken ``K`` or 2D that is not the projection of its 3D is a
    DatasetError naming ``annotations.json`` and the image).

    Args:
        root: the folder ``smhr compose`` wrote.
        split: ``"benchmark"`` or ``"train"``.

    Raises:
        DatasetError: if the annotation file is missing or malformed, or the split is unknown.
    """

    def __init__(self, root: str | Path, split: str) -> None:
        self.root = Path(root)
        data = read_annotations(self.root)
        if split not in data["splits"]:
            raise DatasetError(f"{self.root / ANNOTATIONS}: no split {split!r}; choose one of {sorted(data['splits'])}")
        self.split = split
        self.image_size = int(data["image_size"])
        self.records: list[dict[str, Any]] = data["splits"][split]

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> Sample:  # type: ignore[override]
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        rec = self.records[index]
        fix = "run `smhr compose` again"
        image = read_rgb(self.root / rec["image"], fix)
        labels = read_gray(self.root / rec["mask"], fix)
        hands = [hand_from_record(h, labels == k + 1) for k, h in enumerate(rec["hands"])]
        sample = Sample(image=image, hands=hands, source=f"composed/{self.split}/{rec['id']:08d}")
        try:
            sample.validate()
        except ContractError as err:
            raise DatasetError(
                f"{self.root / ANNOTATIONS}: {self.split} image {rec['id']} ({err.where}): {err.problem}; "
                "run `smhr compose` again"
            ) from err
        return sample
