"""MANO-format model files: the official ``MANO_*.pkl`` (without chumpy), our own pickles, ``.npz``.

The official files are Python-2 pickles (read with ``encoding="latin1"``) whose ``shapedirs`` is a
chumpy ``Ch`` object and whose ``J_regressor`` is a scipy sparse matrix. chumpy does not import
with NumPy 2, so :class:`_MANOUnpickler` maps every ``chumpy.*`` class to a stand-in that only
records the pickled state (``Ch.__getstate__`` is the instance ``__dict__``; the array is under
``x``), and scipy's sparse classes to a stand-in rebuilt from ``data``/``indices``/``indptr``.
Only numpy, scipy-sparse, chumpy and builtin containers may appear in a file: anything else is
refused, so loading a model file cannot run arbitrary code.
"""

from __future__ import annotations

import dataclasses
import io
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse

from smhr.errors import ModelFileError
from smhr.hand import conventions as C

NUM_JOINTS = 16
NUM_POSEDIRS = 9 * (NUM_JOINTS - 1)
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


class _ChumpyStandIn:
    """Receives a pickled chumpy object's state (its ``__dict__``) without chumpy."""

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2:  # (dict state, slots state)
            state = state[0] or {}
        self.__dict__.update(state if isinstance(state, dict) else {"_state": state})

    def to_numpy(self) -> np.ndarray:
        for key in ("x", "_x"):
            if key in self.__dict__:
                return np.asarray(_to_array(self.__dict__[key]), dtype=np.float64)
        raise ValueError(f"a chumpy {type(self).__name__} object without an 'x' array")


class _SparseStandIn:
    """Receives a pickled scipy sparse matrix's state and rebuilds it with today's scipy."""

    fmt = "csc"

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def to_numpy(self) -> np.ndarray:
        d = self.__dict__
        shape = tuple(d.get("_shape", d.get("shape")))
        args = (d["data"], d["indices"], d["indptr"])
        cls = scipy.sparse.csr_matrix if self.fmt == "csr" else scipy.sparse.csc_matrix
        return np.asarray(cls(args, shape=shape).toarray(), dtype=np.float64)


class _CsrStandIn(_SparseStandIn):
    fmt = "csr"


_ALLOWED_BUILTINS = {"set", "frozenset", "dict", "list", "tuple", "object", "slice", "complex", "bytes", "bytearray"}


class _MANOUnpickler(pickle.Unpickler):
    """An unpickler for MANO-format files that needs neither chumpy nor NumPy 1."""

    def find_class(self, module: str, name: str) -> Any:
        if module.split(".")[0] == "chumpy":
            return _ChumpyStandIn
        if module.startswith("scipy.sparse"):
            if name.startswith("csr"):
                return _CsrStandIn
            if name.startswith("csc"):
                return _SparseStandIn
        if module in ("copy_reg", "copyreg") and name == "_reconstructor":
            return super().find_class("copyreg", name)
        if module == "_codecs" and name == "encode":  # bytes pickled by Python 3 with protocol 2
            return super().find_class(module, name)
        if module in ("__builtin__", "builtins") and name in _ALLOWED_BUILTINS:
            return super().find_class("builtins", name)
        if module.split(".")[0] == "numpy":
            if module.startswith("numpy.core"):
                module = "numpy._core" + module[len("numpy.core") :]
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"unexpected class {module}.{name} in a hand-model file")


def _to_array(value: Any) -> np.ndarray:
    if isinstance(value, (_ChumpyStandIn, _SparseStandIn)):
        return value.to_numpy()
    if scipy.sparse.issparse(value):
        return np.asarray(value.toarray())
    return np.asarray(value)


def _read_raw(path: Path) -> dict[str, Any]:
    expected = "a MANO-format hand model (MANO_RIGHT.pkl / MANO_LEFT.pkl, or a .pkl/.npz written by smhr)"
    if not path.is_file():
        raise ModelFileError(f"{path}: hand-model file not found; expected {expected}. Run 'smhr hand-model' "
                             "or point params.yaml base.hand_model_* at your MANO files")
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        raw = _MANOUnpickler(io.BytesIO(path.read_bytes()), encoding="latin1").load()
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
        ModelFileError: missing, unreadable, truncated, an SMPL body model, a missing key or an
            array of the wrong shape; the message says what was expected.
    """
    path = Path(path)
    raw = _read_raw(path)
    v = raw.get("v_template")
    n_j = np.shape(_to_array(raw["kintree_table"]))[-1] if "kintree_table" in raw else None
    if v is not None and (np.shape(_to_array(v))[0] == C.SMPL_NUM_VERTS or n_j == 24):
        raise ModelFileError(f"{path}: this is an SMPL body model (6890 vertices, 24 joints), expected a MANO "
                             "hand model (MANO_RIGHT.pkl / MANO_LEFT.pkl: 778 vertices, 16 joints)")
    missing = [k for k in C.MANO_REQUIRED_KEYS if k not in raw]
    if missing:
        raise ModelFileError(f"{path}: missing key(s) {missing}; a MANO-format hand model needs "
                             f"{list(C.MANO_REQUIRED_KEYS)}")
    try:
        a = {k: _to_array(raw[k]) for k in C.MANO_REQUIRED_KEYS}
    except ValueError as err:
        raise ModelFileError(f"{path}: cannot convert an array ({err}); expected a MANO-format hand model") from err
    data = _build(path, raw, a, _side_of(path, raw, side))
    if data.side == "left" and fix_left_shapedirs and not bool(np.asarray(raw.get("left_shapedirs_fixed", False))):
        data = dataclasses.replace(data, shapedirs=C.fix_left_shapedirs(data.shapedirs))
    return data


def _build(path: Path, raw: dict[str, Any], a: dict[str, np.ndarray], side: str) -> ModelData:
    n_v = a["v_template"].shape[0] if a["v_template"].ndim == 2 else -1
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
    }
    for key, shape in expect.items():
        got = a[key].shape
        if n_v <= 0 or len(got) != len(shape) or any(s is not None and g != s for g, s in zip(got, shape)):
            want = tuple("F" if s is None else ("V" if s == n_v else s) for s in shape)
            raise ModelFileError(f"{path}: '{key}' has shape {got}, expected {want} (V={n_v}) for a MANO-format "
                                 "hand model with 16 joints and 10 shape directions")
    tips = raw.get("fingertip_vertex_ids")
    if tips is None:
        if n_v != C.MANO_NUM_VERTS:
            raise ModelFileError(f"{path}: no 'fingertip_vertex_ids' and {n_v} vertices (not MANO's 778): add the "
                                 "five tip vertex ids (thumb, index, middle, ring, pinky) to the file")
        tips = C.MANO_FINGERTIP_VERTEX_IDS
    tips = np.asarray(tips, dtype=np.int64).reshape(-1)
    if tips.shape != (5,) or tips.min() < 0 or tips.max() >= n_v:
        raise ModelFileError(f"{path}: 'fingertip_vertex_ids' must be 5 vertex ids below {n_v}, got {tips}")
    kintree = a["kintree_table"].astype(np.int64)
    kintree[0, 0] = -1
    std = raw.get("hands_components_std")
    values = np.concatenate([a[k].reshape(-1) for k in ("v_template", "shapedirs", "weights")])
    if not np.all(np.isfinite(values)):
        raise ModelFileError(f"{path}: contains NaN or infinite values; regenerate or re-download the file")
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
        fingertip_vertex_ids=tips,
        side=side,
        hands_components_std=None if std is None else np.asarray(_to_array(std), dtype=np.float64),
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
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if path.suffix == ".npz":
                np.savez(fh, **{k: np.asarray(v) for k, v in content.items()})
            else:
                pickle.dump(dict(sorted(content.items())), fh, protocol=2)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
