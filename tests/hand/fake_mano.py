"""Fake ``MANO_RIGHT.pkl`` / ``MANO_LEFT.pkl`` with the official files' structure, random content.

The bytes are written by :mod:`tests.py2_pickle` as Python 2 wrote the real files: protocol 2,
latin-1 byte strings, arrays via ``numpy.core.multiarray._reconstruct``, and the same objects:

* ``v_template``, ``posedirs``: ``chumpy.ch.Ch`` (state ``x`` plus chumpy's bookkeeping keys);
* ``shapedirs``: ``chumpy.reordering.Select`` of a ``Ch`` whose ``x`` holds the values shuffled
  among junk (``idxs`` picks them, ``preferred_shape`` (778, 3, 10)), so reading ``a.x`` gives a
  wrong array;
* ``J_regressor``: ``scipy.sparse.csc.csc_matrix`` with state ``data, indices, indptr, _shape,
  maxprint``;
* plain arrays ``f`` (uint32), ``kintree_table`` (root 2**32-1), ``weights``, ``hands_components``,
  ``hands_mean``, ``hands_coeffs``, ``J``; strings ``bs_style``, ``bs_type``.

:func:`mano_arrays` is the ground truth a test compares against; :func:`mirrored` builds the exact
left mirror of a right hand and :func:`with_left_bug` gives it the official left file's
``shapedirs[:, 0, :]`` (equal to the right's instead of its negation).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse

from tests.py2_pickle import Obj, write_py2

MIRROR = np.array([-1.0, 1.0, 1.0])
PARENTS = [2**32 - 1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 0, 10, 11, 0, 13, 14]


def mano_arrays(seed: int, n_verts: int = 778) -> dict[str, np.ndarray]:
    """Random arrays in MANO's layout: rows of ``weights``/``J_regressor`` sum to one, PCA orthonormal."""
    rng = np.random.default_rng(seed)
    w = rng.random((n_verts, 16)) ** 4
    w /= w.sum(axis=1, keepdims=True)
    reg = np.zeros((16, n_verts))
    for j in range(16):
        ids = rng.choice(n_verts, size=8, replace=False)
        reg[j, ids] = rng.random(8)
        reg[j] /= reg[j].sum()
    q, _ = np.linalg.qr(rng.normal(size=(45, 45)))
    return {
        "v_template": rng.normal(0.0, 0.03, size=(n_verts, 3)),
        "f": rng.integers(0, n_verts, size=(1538, 3)).astype(np.uint32),
        "J_regressor": reg,
        "weights": w,
        "kintree_table": np.array([PARENTS, np.arange(16)], dtype=np.int64),
        "shapedirs": rng.normal(0.0, 0.003, size=(n_verts, 3, 10)),
        "posedirs": rng.normal(0.0, 0.001, size=(n_verts, 3, 135)),
        "hands_components": q,
        "hands_mean": rng.normal(0.0, 0.2, size=45),
    }


def mirrored(right: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The exact left mirror (x -> -x) of a right hand's arrays (MANO's left/right relation)."""
    aa = np.tile([1.0, -1.0, -1.0], 15)
    feat = np.tile(np.outer(MIRROR, MIRROR).reshape(-1), 15)  # (R - I)_ab of M R M is m_a m_b (R - I)_ab
    left = dict(right)
    left.update(
        v_template=right["v_template"] * MIRROR,
        f=right["f"][:, ::-1].copy(),
        shapedirs=right["shapedirs"] * MIRROR[None, :, None],
        posedirs=right["posedirs"] * MIRROR[None, :, None] * feat[None, None, :],
        hands_components=right["hands_components"] * aa,
        hands_mean=right["hands_mean"] * aa,
    )
    return left


def with_left_bug(left: dict[str, np.ndarray], right: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``left`` with the official MANO_LEFT.pkl's bug: ``shapedirs[:, 0, :]`` copied from the right."""
    shapedirs = left["shapedirs"].copy()
    shapedirs[:, 0, :] = right["shapedirs"][:, 0, :]
    return {**left, "shapedirs": shapedirs}


def ch(x: np.ndarray) -> Obj:
    """A ``chumpy.ch.Ch`` as pickled: its ``__dict__``."""
    return Obj("chumpy.ch", "Ch", {"x": x, "_dirty_vars": set(), "_itr": None, "_depends_on_deps": {}})


def select(values: np.ndarray, rng: np.random.Generator) -> Obj:
    """A ``chumpy.reordering.Select`` evaluating to ``values``: shuffled into a larger source among junk."""
    n = values.size
    source = rng.normal(0.0, 1.0, size=n + 110)
    idxs = rng.permutation(source.size)[:n].astype(np.int64)
    source[idxs] = values.ravel()
    state = {"a": ch(source.reshape(-1, 10)), "idxs": idxs, "preferred_shape": tuple(values.shape),
             "_dirty_vars": set(), "_itr": None, "_depends_on_deps": {}}
    return Obj("chumpy.reordering", "Select", state)


def csc(matrix: np.ndarray) -> Obj:
    """A ``scipy.sparse.csc_matrix`` as old scipy pickled it (module ``scipy.sparse.csc``)."""
    m = scipy.sparse.csc_matrix(matrix)
    state = {"data": m.data, "indices": m.indices.astype(np.int32), "indptr": m.indptr.astype(np.int32),
             "_shape": tuple(m.shape), "maxprint": 50}
    return Obj("scipy.sparse.csc", "csc_matrix", state)


def official_tree(a: dict[str, np.ndarray], seed: int = 0) -> dict:
    """The object a real MANO file unpickles to (keys in the official order), for :mod:`tests.py2_pickle`."""
    rng = np.random.default_rng(seed)
    return {
        "hands_components": a["hands_components"],
        "f": a["f"],
        "J_regressor": csc(a["J_regressor"]),
        "kintree_table": a["kintree_table"],
        "J": a["J_regressor"] @ a["v_template"],
        "bs_style": "lbs",
        "hands_coeffs": rng.normal(size=(1554, 45)),
        "weights": a["weights"],
        "posedirs": ch(a["posedirs"]),
        "hands_mean": a["hands_mean"],
        "v_template": ch(a["v_template"]),
        "shapedirs": select(a["shapedirs"], rng),
        "bs_type": "lrotmin",
    }


def write_fake_mano(a: dict[str, np.ndarray], path: Path, seed: int = 0) -> Path:
    """Writes :func:`official_tree` of ``a`` to ``path`` as a Python 2 pickle."""
    return write_py2(official_tree(a, seed), path)
