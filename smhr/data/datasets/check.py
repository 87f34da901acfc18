"""Opening any dataset by name, and validating a dataset directory.

:func:`open_dataset` is the one place that maps a dataset name to its adapter (an explicit
``if`` chain, no registry). :func:`check_dataset` opens a dataset and reads every sample,
collecting *every* problem (missing file, unreadable image, malformed record, a sample that
breaks the contract or whose annotation is meaningless: see
:func:`smhr.data.datasets.sample.hand_problem`) instead of stopping at the first: one problem per failing
sample (its first), each naming the file and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from tqdm import tqdm

from smhr.data.datasets.sample import Sample
from smhr.errors import DatasetError

DATASETS = ("freihand", "ho3d", "interhand", "rhd", "composed")
DEFAULT_SPLITS = {
    "freihand": "training",
    "ho3d": "train",
    "interhand": "train",
    "rhd": "training",
    "composed": "benchmark",
}
OWN_CAMERA = frozenset({"freihand", "ho3d", "interhand", "rhd"})
"""Datasets whose per-hand ``K`` is the camera that took the image (its principal point lies in
the image); a composed set's hands were pasted, so their ``K`` is a virtual camera."""


class DatasetOptions(NamedTuple):
    """Adapter options; each applies to the datasets named in its comment, None means the default."""

    split: str | None = None  # all
    version: str | None = None  # freihand: gs|hom|sample|auto|all|0..3; ho3d: v2|v3
    subset: str | None = None  # interhand: H+M|H|M
    fps: str | None = None  # interhand: 5|30
    hands: str | None = None  # rhd: dominant|all


def open_dataset(name: str, root: str | Path, options: DatasetOptions = DatasetOptions()) -> Sequence[Sample]:
    """Opens dataset ``name`` at ``root`` with its adapter.

    Args:
        name: one of :data:`DATASETS`.
        root: the dataset folder.
        options: split and adapter options.

    Returns:
        A sequence of samples.

    Raises:
        DatasetError: unknown name, or the adapter's error (missing/malformed annotation).
    """
    split = options.split or DEFAULT_SPLITS.get(name, "")
    if name == "freihand":
        from smhr.data.datasets.freihand import FreiHAND

        version: str | int = options.version or "gs"
        return FreiHAND(root, split, int(version) if str(version).isdigit() else version)
    if name == "ho3d":
        from smhr.data.datasets.ho3d import HO3D

        return HO3D(root, split, options.version or "v3")
    if name == "interhand":
        from smhr.data.datasets.interhand import InterHand

        return InterHand(root, split, options.subset or "H+M", options.fps)
    if name == "rhd":
        from smhr.data.datasets.rhd import RHD

        return RHD(root, split, options.hands or "dominant")
    if name == "composed":
        try:
            from smhr.data.datasets.composed import ComposedDataset  # type: ignore[import-not-found]
        except ImportError as err:
            raise DatasetError(
                f"{root}: the composed-set reader (smhr.data.datasets.composed) is not available ({err})"
            ) from err
        return ComposedDataset(root, split)
    raise DatasetError(f"{root}: unknown dataset {name!r}; use one of {DATASETS}")


class Problem(NamedTuple):
    """One problem found by :func:`check_dataset`.

    Attributes:
        where: the sample index (``"sample 12"``) or ``"dataset"`` for problems found on opening.
        message: what is wrong, naming the file, and the fix.
    """

    where: str
    message: str


class CheckReport(NamedTuple):
    """Result of :func:`check_dataset`.

    Attributes:
        dataset: dataset name.
        root: the checked folder.
        checked: number of samples read.
        hands: number of hands found in them.
        problems: every problem found, in sample order.
    """

    dataset: str
    root: str
    checked: int
    hands: int
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_dataset(
    name: str,
    root: str | Path,
    options: DatasetOptions = DatasetOptions(),
    limit: int | None = None,
    progress: bool = True,
) -> CheckReport:
    """Reads every sample of a dataset and collects all problems.

    Args:
        name: dataset name (see :data:`DATASETS`).
        root: dataset folder.
        options: split and adapter options.
        limit: read only the first ``limit`` samples (None: all).
        progress: show a tqdm progress bar.

    Returns:
        The report; ``report.ok`` is True when nothing is wrong.
    """
    root = Path(root)
    if not root.is_dir():
        return CheckReport(
            name, str(root), 0, 0, [Problem("dataset", f"{root}: folder not found; pass the dataset's root folder")]
        )
    try:
        dataset = open_dataset(name, root, options)
    except DatasetError as err:
        return CheckReport(name, str(root), 0, 0, [Problem("dataset", str(err))])
    count = len(dataset) if limit is None else min(limit, len(dataset))
    problems: list[Problem] = []
    hands = 0
    if count == 0:
        problems.append(
            Problem("dataset", f"{root}: the dataset has no samples; check the split and the annotation files")
        )
    for index in tqdm(range(count), desc=f"check {name}", unit="sample", disable=not progress):
        try:
            sample = dataset[index]
            sample.validate(own_camera=name in OWN_CAMERA)
            hands += len(sample.hands)
        except DatasetError as err:
            problems.append(Problem(f"sample {index}", str(err)))
        except ValueError as err:
            problems.append(
                Problem(f"sample {index}", f"{root}: {err}; the annotation of this sample is wrong, fix or drop it")
            )
    return CheckReport(name, str(root), count, hands, problems)
