"""Reading the official ``MANO_*.pkl`` without chumpy (which does not import with NumPy 2) or old scipy.

The official files are Python-2 pickles (protocol 2, byte strings read as latin-1). Besides NumPy
arrays and plain data they hold:

* ``chumpy.ch.Ch`` objects (``v_template``, ``posedirs``, ...): their pickled state is the
  instance ``__dict__``; the array is ``x``.
* ``chumpy.reordering.Select`` (``shapedirs``): state ``a`` (a ``Ch``), ``idxs`` (flat int
  indices) and ``preferred_shape``; the value is ``a.x.ravel()[idxs].reshape(preferred_shape)``.
* a ``scipy.sparse.csc_matrix`` (``J_regressor``) pickled under the old ``scipy.sparse.csc``
  module path, state ``data, indices, indptr, _shape, maxprint``.

The file goes through :mod:`smhr.safe_pickle` with these names added: every ``chumpy.*`` class
becomes a stand-in that only records its state, and :func:`to_array` evaluates the two classes
above exactly; any other chumpy class is an error naming it, never a guessed array.
"""

from __future__ import annotations

import copyreg
from typing import Any

import numpy as np
import scipy.sparse

from smhr import safe_pickle

CH = "chumpy.ch.Ch"
SELECT = "chumpy.reordering.Select"


class ChumpyStandIn:
    """Receives a pickled chumpy object's state without chumpy; ``chumpy_class`` names the class."""

    chumpy_class = "chumpy"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.__dict__["_args"] = args

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2:  # (dict state, slots state)
            state = state[0] or {}
        self.__dict__.update(state if isinstance(state, dict) else {"_state": state})


class SparseStandIn:
    """Receives a pickled scipy ``csc_matrix``/``csr_matrix`` state; rebuilt with today's scipy."""

    fmt = "csc"

    def __setstate__(self, state: Any) -> None:
        self.__dict__.update(state if isinstance(state, dict) else {})


class _CsrStandIn(SparseStandIn):
    fmt = "csr"


_CHUMPY_CLASSES: dict[str, type[ChumpyStandIn]] = {}


def _chumpy_class(module: str, name: str) -> type[ChumpyStandIn]:
    qualname = f"{module}.{name}"
    if qualname not in _CHUMPY_CLASSES:
        _CHUMPY_CLASSES[qualname] = type(name, (ChumpyStandIn,), {"chumpy_class": qualname})
    return _CHUMPY_CLASSES[qualname]


def resolve(module: str, name: str) -> Any | None:
    """The extra names a MANO model pickle may use (see :data:`smhr.safe_pickle.Resolver`)."""
    if module.split(".")[0] == "chumpy":
        return _chumpy_class(module, name)
    if module in ("scipy.sparse", "scipy.sparse.csc", "scipy.sparse._csc") and name == "csc_matrix":
        return SparseStandIn
    if module in ("scipy.sparse", "scipy.sparse.csr", "scipy.sparse._csr") and name == "csr_matrix":
        return _CsrStandIn
    if module in ("copy_reg", "copyreg") and name == "_reconstructor":
        return copyreg._reconstructor
    return None


def load(data: bytes) -> Any:
    """Unpickles a model file's bytes (allow-list of :mod:`smhr.safe_pickle` plus :func:`resolve`).

    Raises:
        smhr.safe_pickle.RefusedClassError: the file names anything else.
    """
    return safe_pickle.load(data, extra=resolve)


def _select(obj: ChumpyStandIn) -> np.ndarray:
    d = obj.__dict__
    if "a" not in d or "idxs" not in d:
        raise ValueError(f"a {SELECT} without 'a' or 'idxs'")
    source = to_array(d["a"]).ravel()
    idxs = np.asarray(to_array(d["idxs"]))
    if idxs.dtype.kind not in "iu" or idxs.ndim != 1:
        raise ValueError(f"a {SELECT} whose 'idxs' is not a flat integer array ({idxs.dtype}, shape {idxs.shape})")
    if idxs.size and (idxs.min() < 0 or idxs.max() >= source.size):
        raise ValueError(f"a {SELECT} whose 'idxs' reach outside its source of {source.size} values "
                         f"(range {idxs.min()}..{idxs.max()})")
    shape = d.get("preferred_shape")
    try:
        shape = (idxs.size,) if shape is None else tuple(int(s) for s in shape)
    except (TypeError, ValueError) as err:
        raise ValueError(f"a {SELECT} whose preferred_shape {shape!r} is not a shape") from err
    if int(np.prod(shape)) != idxs.size:
        raise ValueError(f"a {SELECT} whose preferred_shape {shape} does not hold its {idxs.size} indices")
    return source[idxs].reshape(shape)


def _chumpy_to_numpy(obj: ChumpyStandIn) -> np.ndarray:
    if obj.chumpy_class == CH:
        if "x" not in obj.__dict__:
            raise ValueError(f"a {CH} without an 'x' array")
        return to_array(obj.__dict__["x"])
    if obj.chumpy_class == SELECT:
        return _select(obj)
    raise ValueError(f"a {obj.chumpy_class} object; smhr reads only {CH} and {SELECT} (the classes of the "
                     "official MANO files): convert this entry to a NumPy array")


def _sparse_to_numpy(obj: SparseStandIn) -> np.ndarray:
    d = obj.__dict__
    missing = [k for k in ("data", "indices", "indptr") if k not in d]
    shape = d.get("_shape", d.get("shape"))
    if missing or shape is None:
        raise ValueError(f"a scipy {obj.fmt}_matrix without {missing or ['_shape']}")
    cls = scipy.sparse.csr_matrix if obj.fmt == "csr" else scipy.sparse.csc_matrix
    try:
        matrix = cls((to_array(d["data"]), to_array(d["indices"]), to_array(d["indptr"])), shape=tuple(shape))
        matrix.check_format(full_check=True)
    except (ValueError, TypeError, IndexError) as err:
        raise ValueError(f"an inconsistent scipy {obj.fmt}_matrix ({err})") from err
    return np.asarray(matrix.toarray())


def to_array(value: Any) -> np.ndarray:
    """A model-file entry as a NumPy array: chumpy ``Ch``/``Select`` evaluated, sparse made dense.

    Raises:
        ValueError: an unsupported chumpy class, or a ``Select``/sparse matrix that is inconsistent.
    """
    if isinstance(value, ChumpyStandIn):
        return _chumpy_to_numpy(value)
    if isinstance(value, SparseStandIn):
        return _sparse_to_numpy(value)
    if scipy.sparse.issparse(value):
        return np.asarray(value.toarray())
    return np.asarray(value)
