"""Reading prediction and ground-truth files in the benchmarks' official layouts, with checks.

Every problem with a prediction file is one :class:`~smhr.errors.PredictionError` naming the
file, the entry and the fix; every problem with a ground-truth file is a
:class:`~smhr.errors.DatasetError`.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from smhr.errors import DatasetError, PredictionError

HO3D_EVAL_SIZES = {"ho3d-v2": 11524, "ho3d-v3": 20137}
"""Evaluation-split sizes hard-coded in HO3D's ``utils/vis_utils.py:db_size``."""
FREIHAND_EVAL_SIZE = 3960
"""FreiHAND's evaluation-split size (``utils/fh_utils.py:db_size('evaluation')``)."""


class MeshSet(NamedTuple):
    """Joints and meshes of a FreiHAND/HO3D-style file (``[xyz_list, verts_list]``).

    Attributes:
        joints: (N, 21, 3) metres, in the file's joint order and axes.
        verts: (N, V, 3) metres; V is the hand model's vertex count (778 for MANO).
    """

    joints: np.ndarray
    verts: np.ndarray


def load_json(path: str | Path, error: type[Exception]) -> Any:
    """Reads JSON (or the single ``.json`` inside a ``.zip``, as CodaLab submissions are).

    Raises ``error`` (PredictionError or DatasetError) naming the file on failure.
    """
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: file not found; pass the right path")
    try:
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if n.endswith(".json")]
                if len(names) != 1:
                    raise error(f"{path}: expected exactly one .json inside the zip, found {names}")
                return json.loads(archive.read(names[0]))
        return json.loads(path.read_text())
    except zipfile.BadZipFile as err:
        raise error(f"{path}: not a valid zip file; re-create it (smhr.eval.submission)") from err
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise error(f"{path}: not valid JSON ({err}); re-export the file") from err


def _entry_shape(value: Any) -> tuple[int, ...] | None:
    """Shape of one entry as a float array, or None when it is not numeric."""
    try:
        return np.asarray(value, dtype=np.float64).shape
    except (ValueError, TypeError):
        return None


def as_points(
    values: Any,
    tail: tuple[int | None, ...],
    where: str,
    error: type[Exception] = PredictionError,
    labels: list[str] | None = None,
) -> np.ndarray:
    """Converts nested lists to a float64 array of shape (N, *tail), checking shape and finiteness.

    Args:
        values: nested lists (one entry per sample).
        tail: expected trailing shape; None matches any size (same for every sample).
        where: file and field for messages, e.g. ``"pred.json: xyz"``.
        error: the exception type to raise.
        labels: (N,) names of the entries for messages (default ``index i``).

    Returns:
        (N, *tail) float64 array (null values read as NaN and are refused).
    """
    want = "x".join("?" if t is None else str(t) for t in tail)

    def name(i: int) -> str:
        return labels[i] if labels is not None else f"index {i}"

    try:
        arr = np.asarray(values, dtype=np.float64)
    except (ValueError, TypeError) as err:
        shapes = [_entry_shape(v) for v in values] if isinstance(values, list) else []
        seen = sorted({s for s in shapes if s is not None}, key=str)
        fits = [s is not None and len(s) == len(tail) and all(t in (None, n) for t, n in zip(tail, s)) for s in shapes]
        culprit = ""
        if False in fits:
            first = fits.index(False)
            what = "no numeric values" if shapes[first] is None else f"shape {shapes[first]}"
            culprit = f" ({name(first)} has {what})"
        raise error(
            f"{where}: entries have different or non-numeric shapes {seen[:4]}{culprit}; "
            f"every entry must be a {want} array"
        ) from err
    if arr.ndim != len(tail) + 1 or any(t is not None and t != s for t, s in zip(tail, arr.shape[1:])):
        expected = "(N, " + ", ".join("*" if t is None else str(t) for t in tail) + ")"
        raise error(f"{where}: wrong shape {arr.shape}, expected {expected}; check the order of axes and points")
    bad = ~np.isfinite(arr).reshape(arr.shape[0], -1).all(1)
    if bad.any():
        raise error(f"{where}: NaN or inf in {int(bad.sum())} entries (first: {name(int(np.argmax(bad)))}); "
                    "predict finite values for every sample")
    return arr


def read_mesh_pred(path: str | Path, num_samples: int) -> MeshSet:
    """Reads a FreiHAND/HO3D ``pred.json`` = ``[xyz_list, verts_list]`` and checks its count and shapes.

    Args:
        path: the prediction file.
        num_samples: number of ground-truth samples it must cover.
    """
    data = load_json(path, PredictionError)
    if not isinstance(data, list) or len(data) != 2:
        raise PredictionError(f"{path}: expected a JSON list [xyz_list, verts_list] of length 2")
    for name, part in zip(("xyz_list", "verts_list"), data):
        if not isinstance(part, list) or len(part) != num_samples:
            got = len(part) if isinstance(part, list) else type(part).__name__
            raise PredictionError(
                f"{path}: {name} has {got} entries, the ground truth has {num_samples}; "
                "predict every evaluation sample, in the dataset's order"
            )
    joints = as_points(data[0], (21, 3), f"{path}: xyz_list")
    verts = as_points(data[1], (None, 3), f"{path}: verts_list")
    return MeshSet(joints, verts)


def read_mesh_gt(gt_dir: str | Path, set_name: str = "evaluation") -> MeshSet:
    """Reads ``<set>_xyz.json`` and ``<set>_verts.json`` (FreiHAND and HO3D evaluation ground truth).

    The vertex count V is the ground truth's hand model's (778 for MANO, 756 for smhr's
    procedural hand): any V is accepted as long as every sample has the same one.

    Args:
        gt_dir: directory holding the files (the official ``ref`` folder).
        set_name: file prefix, ``evaluation`` as the official scripts.
    """
    gt_dir = Path(gt_dir)
    xyz = load_json(gt_dir / f"{set_name}_xyz.json", DatasetError)
    verts = load_json(gt_dir / f"{set_name}_verts.json", DatasetError)
    joints = as_points(xyz, (21, 3), f"{gt_dir / f'{set_name}_xyz.json'}", DatasetError)
    mesh = as_points(verts, (None, 3), f"{gt_dir / f'{set_name}_verts.json'}", DatasetError)
    if len(joints) != len(mesh):
        raise DatasetError(f"{gt_dir}: {len(joints)} joint entries but {len(mesh)} mesh entries; the files must match")
    return MeshSet(joints, mesh)


def check_ho3d_axes(pred: MeshSet, gt: MeshSet, path: str | Path) -> None:
    """HO3D uses OpenGL axes (the hand lies at negative z). Rejects OpenCV-axes predictions.

    Raises:
        PredictionError: if every predicted hand lies in front of the camera (z > 0) while the
            ground truth lies behind it (z < 0).
    """
    pred_z = pred.joints[..., 2].mean(1)
    gt_z = gt.joints[..., 2].mean(1)
    if np.all(pred_z > 0) and np.all(gt_z < 0):
        raise PredictionError(
            f"{path}: all predicted joints have z > 0 (OpenCV axes) but HO3D expects OpenGL axes "
            "(hand at negative z); multiply y and z by -1 (smhr.eval.submission.write_ho3d does it)"
        )
