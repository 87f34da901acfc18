"""Project-wide fixtures: hand-model files.

* ``procedural_model_files``: our procedural right/left hands written once per session.
* ``fake_mano_files``: pickles in the official MANO layout (778 vertices, chumpy ``Ch`` for
  ``shapedirs``, scipy sparse ``J_regressor``, no side or tip ids stored), written without
  chumpy, with random content: they exercise the no-chumpy loading path in CI.
"""

from __future__ import annotations

import pickle
import sys
import types
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
import scipy.sparse


class ModelFiles(NamedTuple):
    """Paths of a right and a left model file."""

    right: Path
    left: Path


@pytest.fixture(scope="session")
def procedural_model_files(tmp_path_factory: pytest.TempPathFactory) -> ModelFiles:
    """Our procedural hands (default ``ProceduralConfig``) as ``procedural_{right,left}.pkl``."""
    from smhr.hand.model_file import save_model_data
    from smhr.hand.procedural import ProceduralConfig, build_models

    out = tmp_path_factory.mktemp("hand_models")
    right, left = build_models(ProceduralConfig())
    return ModelFiles(save_model_data(right, out / "procedural_right.pkl"), save_model_data(left, out / "procedural_left.pkl"))


class _Ch:
    """Pickles like chumpy's ``Ch``: class ``chumpy.ch.Ch``, state = the instance ``__dict__``."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = x
        self._dirty_vars = set()
        self._itr = None
        self._depends_on_deps = {}
        self._make_dense = False
        self._make_sparse = False

    def __getstate__(self) -> dict:
        return dict(self.__dict__)


def fake_mano_content(seed: int, n_verts: int = 778) -> dict:
    """Random arrays in MANO's layout and dtypes (``f``/``kintree_table`` uint32, sparse regressor)."""
    rng = np.random.default_rng(seed)
    v = rng.normal(0.0, 0.03, size=(n_verts, 3))
    w = rng.random((n_verts, 16)) ** 4
    w /= w.sum(axis=1, keepdims=True)
    reg = np.zeros((16, n_verts))
    for j in range(16):
        ids = rng.choice(n_verts, size=8, replace=False)
        reg[j, ids] = rng.random(8)
        reg[j] /= reg[j].sum()
    kintree = np.array([[2**32 - 1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 0, 10, 11, 0, 13, 14], np.arange(16)], dtype=np.uint32)
    q, _ = np.linalg.qr(rng.normal(size=(45, 45)))
    return {
        "v_template": v,
        "f": rng.integers(0, n_verts, size=(1538, 3)).astype(np.uint32),
        "J_regressor": scipy.sparse.csc_matrix(reg),
        "weights": w,
        "kintree_table": kintree,
        "shapedirs": _Ch(rng.normal(0.0, 0.003, size=(n_verts, 3, 10))),
        "posedirs": rng.normal(0.0, 0.001, size=(n_verts, 3, 135)),
        "hands_components": q,
        "hands_mean": rng.normal(0.0, 0.2, size=45),
        "hands_coeffs": rng.normal(size=(1554, 45)),
        "bs_style": "lbs",
        "bs_type": "lrotmin",
    }


def write_chumpy_pickle(content: dict, path: Path) -> Path:
    """Pickles ``content`` with ``_Ch`` objects recorded as ``chumpy.ch.Ch`` (no chumpy needed)."""
    saved = {k: sys.modules.get(k) for k in ("chumpy", "chumpy.ch")}
    pkg, mod = types.ModuleType("chumpy"), types.ModuleType("chumpy.ch")
    pkg.ch = mod
    mod.Ch = _Ch
    old = (_Ch.__module__, _Ch.__qualname__, _Ch.__name__)
    _Ch.__module__, _Ch.__qualname__, _Ch.__name__ = "chumpy.ch", "Ch", "Ch"
    sys.modules.update({"chumpy": pkg, "chumpy.ch": mod})
    try:
        path.write_bytes(pickle.dumps(content, protocol=2))
    finally:
        _Ch.__module__, _Ch.__qualname__, _Ch.__name__ = old
        for k, m in saved.items():
            if m is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = m
    return path


@pytest.fixture(scope="session")
def fake_mano_files(tmp_path_factory: pytest.TempPathFactory) -> ModelFiles:
    """``MANO_RIGHT.pkl`` / ``MANO_LEFT.pkl`` in the official layout with chumpy objects, random content.

    The left file's shapedirs x component equals the right one's, like the official files' bug.
    """
    out = tmp_path_factory.mktemp("mano")
    right = fake_mano_content(seed=1)
    left = fake_mano_content(seed=2)
    left["shapedirs"].x[:, 0, :] = right["shapedirs"].x[:, 0, :]
    return ModelFiles(write_chumpy_pickle(right, out / "MANO_RIGHT.pkl"), write_chumpy_pickle(left, out / "MANO_LEFT.pkl"))
