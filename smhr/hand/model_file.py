"""MANO-format model files: the official ``MANO_*.pkl`` (without chumpy), our own pickles, ``.npz``.

Pickles are read by :mod:`smhr.hand.mano_pickle` (an allow-list unpickler that evaluates the
official files' chumpy and scipy objects without those packages): loading a model file cannot run
code. Every array is then checked (:mod:`smhr.hand.model_check`) so that a corrupt or hand-edited
file is one :class:`~smhr.errors.ModelFileError` naming the file, the key and the fix instead of a
hand that renders wrong.
"""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from smhr import safe_pickle
from smhr.errors import ModelFileError
from smhr.hand import conventions as C
from smhr.hand import mano_pickle
from smhr.hand.model_check import check_model_arrays
from smhr.outputs import atomic_write

_ROOT_PARENT_U32 = np.iinfo(np.uint32).max


@dataclasses.dataclass(frozen=True)
class ModelData:
    """The arrays of one MANO-format hand model (metres, float64).

    Attributes:
        v_template: (V, 3) rest-pose vertices.
        f: (F, 3) int64 triangle vertex indices, winding as in the file.
        J_regressor: (16, V) dense joint regressor (rest joints = ``J_regressor @ v_template``).
        weights: (V, 16) skinning weights.
        kintree_table: (2, 16) int64; row 0 is each joint's parent (-1 for the root).
        shapedirs: (V, 3, 10) shape directions.
        posedirs: (V, 3, 135) pose-corrective directions.
        hands_components: (45, 45) pose PCA basis, one component per row.
        hands_mean: (45,) mean finger pose (axis-angle).
        fingertip_vertex_ids: (5,) int64 tip vertices: thumb, index, middle, ring, pinky.
        side: ``"left"`` or ``"right"``.
        hands_components_std: (45,) standard deviation of the pose distribution along each
            component, when the file stores one (our procedural files do; MANO's do not).
    """

    v_template: np.ndarray
    f: np.ndarray
    J_regressor: np.ndarray
    weights: np.ndarray
    kintree_table: np.ndarray
    shapedirs: np.ndarray
    posedirs: np.ndarray
    hands_components: np.ndarray
    hands_mean: np.ndarray
    fingertip_vertex_ids: np.ndarray
    side: str
    hands_components_std: np.ndarray | None = None

    @property
    def num_verts(self) -> int:
        """V, the number of vertices."""
        return int(self.v_template.shape[0])

    @property
    def parents(self) -> np.ndarray:
        """(16,) int64 parent of each joint, -1 for the root."""
        return self.kintree_table[0].copy()

    def rest_joints(self) -> np.ndarray:
        """(16, 3) rest-pose joints, MANO native order."""
        return self.J_regressor @ self.v_template


def _read_raw(path: Path) -> dict[str, Any]:
    expected = "a MANO-format hand model (MANO_RIGHT.pkl / MANO_LEFT.pkl, or a .pkl/.npz written by smhr)"
    if not path.is_file():
        raise ModelFileError(f"{path}: hand-model file not found; expected {expected}. Run 'smhr hand-model' "
                             "or point params.yaml base.hand_model_* at your MANO files")
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        raw = mano_pickle.load(path.read_bytes())
    except safe_pickle.RefusedClassError as err:
        raise ModelFileError(f"{path}: refused to load {err.qualname}: a hand-model file may hold only NumPy "
                             "arrays, plain data, chumpy Ch/Select and scipy sparse matrices, so this is not one "
                             "(it may be crafted to run code); re-download MANO_RIGHT.pkl/MANO_LEFT.pkl or run "
                             "'smhr hand-model'") from err
    except Exception as err:  # noqa: BLE001 - any failure here means "not a readable model file"
        raise ModelFileError(f"{path}: cannot read it ({type(err).__name__}: {err}); the file is truncated, "
                             f"corrupt or not {expected}") from err
    if not isinstance(raw, dict):
        raise ModelFileError(f"{path}: holds a {type(raw).__name__}, expected a dict: {expected}")
    return raw


def _side_of(path: Path, raw: dict[str, Any], side: str | None) -> str:
    stored = raw.get("side")
    if stored is not None:
        stored = str(np.asarray(stored).item() if isinstance(stored, np.ndarray) else stored)
        if stored not in C.SIDES:
            raise ModelFileError(f"{path}: stored side {stored!r} is not 'left' or 'right'")
        if side is not None and side != stored:
            raise ModelFileError(f"{path}: the file is a {stored} hand but side={side!r} was asked for")
        return stored
    if side is not None:
        if side not in C.SIDES:
            raise ModelFileError(f"{path}: side must be 'left' or 'right', got {side!r}")
        return side
    stem = path.stem.upper()
    if "LEFT" in stem and "RIGHT" not in stem:
        return "left"
    if "RIGHT" in stem and "LEFT" not in stem:
        return "right"
    raise ModelFileError(f"{path}: cannot tell the hand side: the file does not store it and the name does "
                         "not contain LEFT or RIGHT; pass side='left' or side='right'")


def load_model_data(path: str | Path, side: str | None = None, fix_left_shapedirs: bool = True) -> ModelData:
    """Reads a MANO-format model file (official pkl, our pkl, or npz).

    Args:
        path: the file.
        side: ``"left"``/``"right"`` when neither the file nor its name tells.
        fix_left_shapedirs: apply :func:`smhr.hand.conventions.fix_left_shapedirs` to left models
            that do not declare ``left_shapedirs_fixed`` (i.e. the official MANO_LEFT.pkl).

    Returns:
        The model's arrays.

    Raises:
        ModelFileError: missing, unreadable, truncated, naming a class outside the allow-list, an
            SMPL body model, a missing key, an unsupported chumpy object, or an array that fails
            :func:`smhr.hand.model_check.check_model_arrays`; the message names the key and the fix.
    """
    path = Path(path)
    raw = _read_raw(path)
    a = {k: _convert(path, k, raw[k]) for k in ("v_template", "kintree_table") if k in raw}
    n_v = a["v_template"].shape[0] if a.get("v_template", np.zeros(0)).ndim >= 1 else None
    n_j = a["kintree_table"].shape[-1] if a.get("kintree_table", np.zeros(0)).ndim >= 1 else None
    if n_v == C.SMPL_NUM_VERTS or n_j == 24:
        raise ModelFileError(f"{path}: this is an SMPL body model (6890 vertices, 24 joints), expected a MANO "
                             "hand model (MANO_RIGHT.pkl / MANO_LEFT.pkl: 778 vertices, 16 joints)")
    missing = [k for k in C.MANO_REQUIRED_KEYS if k not in raw]
    if missing:
        raise ModelFileError(f"{path}: missing key(s) {missing}; a MANO-format hand model needs "
                             f"{list(C.MANO_REQUIRED_KEYS)}")
    for key in C.MANO_REQUIRED_KEYS + ("fingertip_vertex_ids", "hands_components_std"):
        if key in raw and key not in a:
            a[key] = _convert(path, key, raw[key])
    if "fingertip_vertex_ids" in a:
        a["fingertip_vertex_ids"] = a["fingertip_vertex_ids"].reshape(-1)
    elif n_v == C.MANO_NUM_VERTS:
        a["fingertip_vertex_ids"] = C.MANO_FINGERTIP_VERTEX_IDS
    else:
        raise ModelFileError(f"{path}: no 'fingertip_vertex_ids' and {n_v} vertices (not MANO's 778): add the "
                             "five tip vertex ids (thumb, index, middle, ring, pinky) to the file")
    check_model_arrays(path, a)
    data = _build(a, _side_of(path, raw, side))
    if data.side == "left" and fix_left_shapedirs and not bool(np.asarray(raw.get("left_shapedirs_fixed", False))):
        data = dataclasses.replace(data, shapedirs=C.fix_left_shapedirs(data.shapedirs))
    return data


def _convert(path: Path, key: str, value: Any) -> np.ndarray:
    try:
        return mano_pickle.to_array(value)
    except ValueError as err:
        raise ModelFileError(f"{path}: '{key}' is {err}; re-download the official MANO file") from err
    except RecursionError as err:
        raise ModelFileError(f"{path}: '{key}' is a chumpy object nested too deeply or holding itself; "
                             "re-download the official MANO file") from err


def _build(a: dict[str, np.ndarray], side: str) -> ModelData:
    kintree = a["kintree_table"].astype(np.int64)
    kintree[0, 0] = -1
    std = a.get("hands_components_std")
    return ModelData(
        v_template=a["v_template"].astype(np.float64),
        f=a["f"].astype(np.int64),
        J_regressor=a["J_regressor"].astype(np.float64),
        weights=a["weights"].astype(np.float64),
        kintree_table=kintree,
        shapedirs=a["shapedirs"].astype(np.float64),
        posedirs=a["posedirs"].astype(np.float64),
        hands_components=a["hands_components"].astype(np.float64),
        hands_mean=a["hands_mean"].astype(np.float64),
        fingertip_vertex_ids=a["fingertip_vertex_ids"].astype(np.int64),
        side=side,
        hands_components_std=None if std is None else std.astype(np.float64),
    )


def model_data_to_dict(data: ModelData) -> dict[str, Any]:
    """MANO's file layout as plain numpy (``f`` uint32, ``kintree_table`` uint32 with root 2**32-1).

    Adds ``fingertip_vertex_ids``, ``side`` and ``left_shapedirs_fixed=True`` (and
    ``hands_components_std`` when present).
    """
    kintree = data.kintree_table.copy()
    kintree[0, 0] = _ROOT_PARENT_U32
    out: dict[str, Any] = {
        "v_template": data.v_template,
        "f": data.f.astype(np.uint32),
        "J_regressor": data.J_regressor,
        "weights": data.weights,
        "kintree_table": kintree.astype(np.uint32),
        "shapedirs": data.shapedirs,
        "posedirs": data.posedirs,
        "hands_components": data.hands_components,
        "hands_mean": data.hands_mean,
        "fingertip_vertex_ids": data.fingertip_vertex_ids.astype(np.int64),
        "side": data.side,
        "left_shapedirs_fixed": True,
    }
    if data.hands_components_std is not None:
        out["hands_components_std"] = data.hands_components_std
    return out


def save_model_data(data: ModelData, path: str | Path) -> Path:
    """Writes ``data`` atomically as a pickle (MANO's layout, protocol 2) or ``.npz``.

    Args:
        data: the model.
        path: destination; ``.npz`` writes an uncompressed npz, anything else a pickle.

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    content = model_data_to_dict(data)

    def write(fh) -> None:
        if path.suffix == ".npz":
            np.savez(fh, **{k: np.asarray(v) for k, v in content.items()})
        else:
            pickle.dump(dict(sorted(content.items())), fh, protocol=2)

    atomic_write(path, write)
    return path
