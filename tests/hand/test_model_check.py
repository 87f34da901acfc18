"""Corrupt model files: one row per corruption, each one ModelFileError naming the file, the key and the fix."""

from __future__ import annotations

import pickle
from typing import Callable

import numpy as np
import pytest

from smhr.errors import ModelFileError
from smhr.hand.model_file import load_model_data, save_model_data
from tests.hand.fake_mano import mano_arrays, official_tree
from tests.py2_pickle import write_py2


Tree = dict
Row = Callable[[dict], Tree]


def _value(key: str, index: tuple, value: float) -> Row:
    """Sets one entry of the array ``key`` before the file is built."""
    def make(a: dict) -> Tree:
        a[key] = a[key].astype(np.float64)
        a[key][index] = value
        return official_tree(a)
    return make


def _array(key: str, change: Callable[[np.ndarray], np.ndarray]) -> Row:
    """Replaces the array ``key`` (added when absent) before the file is built."""
    def make(a: dict) -> Tree:
        a[key] = change(a.get(key))
        tree = official_tree(a)
        tree.setdefault(key, a[key])
        return tree
    return make


def _state(key: str, change: Callable[[dict], None]) -> Row:
    """Edits the pickled state of the object stored under ``key`` (a Select or a csc matrix)."""
    def make(a: dict) -> Tree:
        tree = official_tree(a)
        change(tree[key].state)
        return tree
    return make


def _kintree(row: int, col: int, value: int) -> Row:
    def change(k: np.ndarray) -> np.ndarray:
        k = k.copy()
        k[row, col] = value
        return k
    return _array("kintree_table", change)


ROWS = [
    ("v_template", _value("v_template", (5, 1), np.nan), "NaN or infinite"),
    ("J_regressor", _value("J_regressor", (3, 10), np.nan), "NaN or infinite"),
    ("posedirs", _value("posedirs", (7, 2, 100), np.inf), "NaN or infinite"),
    ("shapedirs", _value("shapedirs", (8, 0, 3), np.nan), "NaN or infinite"),
    ("weights", _value("weights", (9, 4), np.nan), "NaN or infinite"),
    ("hands_components", _value("hands_components", (0, 3), np.nan), "NaN or infinite"),
    ("hands_mean", _value("hands_mean", (4,), -np.inf), "NaN or infinite"),
    ("f", _value("f", (7, 1), 778), r"outside \[0, 778\)"),
    ("f", _array("f", lambda f: f.astype(np.int64) - 1), r"outside \[0, 778\)"),
    ("f", _array("f", lambda f: f + 0.5), "non-integer"),
    ("weights", _value("weights", (11, 0), 3.0), r"row 11 \(vertex 11\) sums to"),
    ("J_regressor", _array("J_regressor", lambda r: 0.5 * r), "sums to 0.5"),
    ("kintree_table", _kintree(0, 5, 7), r"joint\(s\) \[5\] parents \[7\]"),
    ("kintree_table", _kintree(0, 0, 3), "root joint parent 3"),
    ("kintree_table", _kintree(1, 2, 9), "row 1 is"),
    ("hands_components", _array("hands_components", lambda c: c[:, :44]), "has shape"),
    ("hands_components", _array("hands_components", lambda c: c[:0]), "0 components"),
    ("weights", _array("weights", lambda w: w[:, :15]), "has shape"),
    ("hands_mean", _array("hands_mean", lambda m: "zero"), "expected numbers"),
    ("fingertip_vertex_ids", _array("fingertip_vertex_ids", lambda _: np.array([744, 320, 443, 555, 900])),
     r"outside \[0, 778\)"),
    ("hands_components_std", _array("hands_components_std", lambda _: np.ones(44)), "has shape"),
    ("hands_components_std", _array("hands_components_std", lambda _: -np.ones(45)), "negative"),
    ("shapedirs", _state("shapedirs", lambda s: s.update(idxs=s["idxs"] + s["a"].state["x"].size)),
     "reach outside its source"),
    ("shapedirs", _state("shapedirs", lambda s: s.update(preferred_shape=(778, 3, 9))), "does not hold its"),
    ("shapedirs", _state("shapedirs", lambda s: s.update(idxs=s["idxs"].astype(np.float64))), "not a flat integer"),
    ("shapedirs", _state("shapedirs", lambda s: s.update(preferred_shape=778)), "preferred_shape 778 is not a shape"),
    ("shapedirs", _state("shapedirs", lambda s: s["a"].state.pop("x")), "without an 'x' array"),
    ("J_regressor", _state("J_regressor", lambda s: s.update(indptr=s["indptr"][::-1].copy())),
     "inconsistent scipy csc_matrix"),
    ("J_regressor", _state("J_regressor", lambda s: s.pop("_shape")), "without"),
]


@pytest.mark.parametrize(("key", "corrupt", "problem"), ROWS, ids=[f"{r[0]}-{i}" for i, r in enumerate(ROWS)])
def test_corrupt_official_file_is_one_error_naming_the_key(key, corrupt, problem, tmp_path):
    path = write_py2(corrupt(mano_arrays(seed=11)), tmp_path / "MANO_RIGHT.pkl")
    with pytest.raises(ModelFileError, match=problem) as info:
        load_model_data(path)
    message = str(info.value)
    assert message.startswith(f"{path}: '{key}' ") and "\n" not in message
    assert "re-download" in message


def test_uncorrupted_file_loads(tmp_path):
    """The control row: the same file with valid optional keys loads (each row fails for its own reason)."""
    tree = official_tree(mano_arrays(seed=11)) | {"fingertip_vertex_ids": np.array([744, 320, 443, 555, 672]),
                                                  "hands_components_std": np.ones(45)}
    data = load_model_data(write_py2(tree, tmp_path / "MANO_RIGHT.pkl"))
    np.testing.assert_array_equal(data.hands_components_std, np.ones(45))


@pytest.mark.parametrize("suffix", [".npz", ".pkl"])
def test_our_own_files_are_checked_too(procedural_right, suffix, tmp_path):
    path = save_model_data(procedural_right, tmp_path / f"right{suffix}")
    content = dict(np.load(path)) if suffix == ".npz" else pickle.loads(path.read_bytes())
    content["J_regressor"] = content["J_regressor"].copy()
    content["J_regressor"][2, 0] = np.nan
    if suffix == ".npz":
        np.savez(path, **content)
    else:
        path.write_bytes(pickle.dumps(content, protocol=2))
    with pytest.raises(ModelFileError, match=rf"{path.name}: 'J_regressor' contains 1 NaN or infinite"):
        load_model_data(path)
