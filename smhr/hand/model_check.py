"""Checks of every array of a MANO-format model file, each failure one error naming the file and key.

A file that loads but holds a NaN regressor, an infinite pose corrective, a face index past the
last vertex or skinning weights that do not sum to one renders a wrong hand far from the cause;
:func:`check_model_arrays` turns each of these into a :class:`~smhr.errors.ModelFileError` at load
time. Tolerances are loose enough for the official files (float64 sums within 1e-8 of one).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from smhr.errors import ModelFileError
from smhr.hand import conventions as C

NUM_JOINTS = 16
NUM_POSEDIRS = 9 * (NUM_JOINTS - 1)
ROW_SUM_ATOL = 1.0e-3
"""How far a row of ``weights`` or ``J_regressor`` may sum from one."""

ROOT_PARENTS = (-1, np.iinfo(np.uint32).max)
"""The root's entry in ``kintree_table[0]``: -1, or 2**32 - 1 as MANO's files store it."""

FIX = "re-download the official MANO file, or regenerate ours with 'smhr hand-model'"


def _fail(path: Path, key: str, problem: str) -> ModelFileError:
    return ModelFileError(f"{path}: '{key}' {problem}; {FIX}")


def _check_shapes(path: Path, a: dict[str, np.ndarray]) -> int:
    n_v = a["v_template"].shape[0] if a["v_template"].ndim == 2 and a["v_template"].shape[0] > 0 else -1
    n_pc = a["hands_components"].shape[0] if a["hands_components"].ndim == 2 else -1
    expect = {
        "v_template": (n_v, 3),
        "f": (None, 3),
        "J_regressor": (NUM_JOINTS, n_v),
        "weights": (n_v, NUM_JOINTS),
        "kintree_table": (2, NUM_JOINTS),
        "shapedirs": (n_v, 3, C.NUM_BETAS),
        "posedirs": (n_v, 3, NUM_POSEDIRS),
        "hands_components": (None, C.NUM_POSE_PARAMS),
        "hands_mean": (C.NUM_POSE_PARAMS,),
        "fingertip_vertex_ids": (5,),
        "hands_components_std": (n_pc,),
    }
    for key, shape in expect.items():
        if key not in a:
            continue
        if a[key].dtype.kind not in "biuf":
            raise _fail(path, key, f"holds {a[key].dtype} values, expected numbers")
        got = a[key].shape
        if n_v <= 0 or len(got) != len(shape) or any(s is not None and g != s for g, s in zip(got, shape)):
            want = tuple(("F" if key == "f" else "k") if s is None else ("V" if s == n_v else s) for s in shape)
            raise _fail(path, key, f"has shape {got}, expected {want} (V={n_v}) for a MANO-format hand model with "
                        "16 joints and 10 shape directions")
    if not 1 <= n_pc <= C.NUM_POSE_PARAMS:
        raise _fail(path, "hands_components", f"has {n_pc} components, expected 1 to {C.NUM_POSE_PARAMS} rows of 45")
    return n_v


def _check_ids(path: Path, key: str, ids: np.ndarray, n_v: int) -> None:
    if ids.dtype.kind == "f" and not np.all(np.isfinite(ids) & (ids == np.round(ids))):
        raise _fail(path, key, "holds non-integer vertex ids")
    if ids.size and (ids.min() < 0 or ids.max() >= n_v):
        raise _fail(path, key, f"holds vertex ids in [{ids.min():g}, {ids.max():g}], outside [0, {n_v}) (V={n_v})")


def _check_kintree(path: Path, kintree: np.ndarray) -> None:
    if kintree.dtype.kind == "f":
        raise _fail(path, "kintree_table", "holds floats, expected integer joint ids")
    parents, ids = kintree.astype(np.int64)
    if not np.array_equal(ids, np.arange(NUM_JOINTS)):
        raise _fail(path, "kintree_table", f"row 1 is {ids.tolist()}, expected the joint ids 0..15 in order")
    if parents[0] not in ROOT_PARENTS:
        raise _fail(path, "kintree_table", f"gives the root joint parent {parents[0]}, expected -1 or 2**32-1")
    bad = [j for j in range(1, NUM_JOINTS) if not 0 <= parents[j] < j]
    if bad:
        raise _fail(path, "kintree_table", f"gives joint(s) {bad} parents {parents[bad].tolist()}; every joint's "
                    "parent must be an earlier joint (a tree rooted at joint 0)")


def check_model_arrays(path: Path, a: dict[str, np.ndarray]) -> None:
    """Checks a model file's arrays (all of :data:`~smhr.hand.conventions.MANO_REQUIRED_KEYS`).

    Checked: numeric types; shapes consistent with V (``hands_components`` 1..45 rows of 45,
    ``hands_components_std`` one per row); finite values; ``f`` and ``fingertip_vertex_ids`` in
    [0, V); ``weights`` and ``J_regressor`` rows summing to one; ``kintree_table`` a tree whose
    parents precede their children; ``hands_components_std`` non-negative.

    Args:
        path: the file, for messages.
        a: key -> array; ``fingertip_vertex_ids`` and ``hands_components_std`` are optional.

    Raises:
        ModelFileError: the first failed check, naming the file, the key and the fix.
    """
    n_v = _check_shapes(path, a)
    for key, value in a.items():
        if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            raise _fail(path, key, f"contains {np.count_nonzero(~np.isfinite(value))} NaN or infinite value(s)")
    _check_ids(path, "f", a["f"], n_v)
    if "fingertip_vertex_ids" in a:
        _check_ids(path, "fingertip_vertex_ids", a["fingertip_vertex_ids"], n_v)
    for key, axis_name in (("weights", "vertex"), ("J_regressor", "joint")):
        sums = a[key].sum(axis=1)
        worst = int(np.abs(sums - 1.0).argmax())
        if abs(sums[worst] - 1.0) > ROW_SUM_ATOL:
            raise _fail(path, key, f"row {worst} ({axis_name} {worst}) sums to {sums[worst]:.6g}, expected 1 "
                        f"(each row is a weighted average)")
    _check_kintree(path, a["kintree_table"])
    if "hands_components_std" in a and a["hands_components_std"].min() < 0:
        raise _fail(path, "hands_components_std", "holds a negative standard deviation")
