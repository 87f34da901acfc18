"""Reading pickles that hold data only: an allow-list unpickler, so a crafted file cannot run code.

A pickle names every class or function it needs (``module.name``) and the plain :func:`pickle.load`
imports and calls whatever is named, so a file can run ``os.system`` on load. :func:`load` resolves
names from an allow-list instead and refuses everything else with :class:`RefusedClassError`:

* NumPy array, dtype and scalar reconstruction (``_reconstruct``, ``_frombuffer``, ``scalar``,
  ``ndarray``, ``dtype``) under both the ``numpy.core`` (NumPy 1, the datasets' Python 2 pickles)
  and ``numpy._core`` (NumPy 2) module names;
* builtins that only build plain data (containers, numbers, strings, bytes) under ``builtins`` and
  Python 2's ``__builtin__``;
* ``_codecs.encode`` with a latin-1 encoding only (how Python 3 pickles ``bytes`` at protocol 2).

A caller that needs more (the MANO model loader's chumpy and scipy stand-ins) passes ``extra``: a
function from ``(module, name)`` to an object, or None to refuse. Byte strings of Python 2 pickles
are decoded as latin-1 by default, as NumPy and the datasets need.
"""

from __future__ import annotations

import _codecs
import builtins
import io
import pickle
from typing import Any, Callable

import numpy as np

_ARRAY = np.zeros(1)
_NUMPY = {
    "_reconstruct": _ARRAY.__reduce__()[0],
    "_frombuffer": _ARRAY.__reduce_ex__(5)[0],
    "scalar": np.float64(0.0).__reduce__()[0],
    "ndarray": np.ndarray,
    "dtype": np.dtype,
}
"""Found through ``__reduce__`` so that they are the functions NumPy itself pickles, whatever its version."""

_NUMPY_MODULES = {
    f"{package}.{sub}": names
    for package in ("numpy.core", "numpy._core")
    for sub, names in (("multiarray", ("_reconstruct", "scalar", "ndarray", "dtype")), ("numeric", ("_frombuffer",)))
}
_NUMPY_MODULES["numpy"] = ("ndarray", "dtype")

_PLAIN_BUILTINS = frozenset({
    "bool", "bytearray", "bytes", "complex", "dict", "float", "frozenset", "int", "list", "object", "set",
    "slice", "str", "tuple",
})

Resolver = Callable[[str, str], Any]
"""``(module, name) -> object`` for extra allowed names; returns None to refuse the name."""


class RefusedClassError(pickle.UnpicklingError):
    """The pickle names a class or function outside the allow-list.

    Attributes:
        qualname: the refused ``module.name``.
    """

    def __init__(self, module: str, name: str) -> None:
        self.qualname = f"{module}.{name}"
        super().__init__(f"refused to load {self.qualname}: not on the allow-list of plain data")


def _latin1_encode(text: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """``_codecs.encode`` restricted to the latin-1 that Python 3's protocol-2 ``bytes`` use."""
    if encoding.replace("-", "").replace("_", "").lower() not in ("latin1", "iso88591"):
        raise RefusedClassError("_codecs", f"encode(encoding={encoding!r})")
    return _codecs.encode(text, "latin1", errors)


def allowed(module: str, name: str) -> Any | None:
    """The object a data pickle may name as ``module.name``, or None when it is not allowed.

    Args:
        module: the module name written in the pickle (e.g. ``"numpy.core.multiarray"``).
        name: the attribute name (e.g. ``"_reconstruct"``).

    Returns:
        The allowed object, or None.
    """
    if name in _NUMPY_MODULES.get(module, ()):
        return _NUMPY[name]
    if module in ("builtins", "__builtin__") and name in _PLAIN_BUILTINS:
        return getattr(builtins, name)
    if module == "_codecs" and name == "encode":
        return _latin1_encode
    return None


class _AllowListUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedIOBase, extra: Resolver | None, encoding: str) -> None:
        super().__init__(file, encoding=encoding)
        self._extra = extra

    def find_class(self, module: str, name: str) -> Any:
        found = allowed(module, name)
        if found is None and self._extra is not None:
            found = self._extra(module, name)
        if found is None:
            raise RefusedClassError(module, name)
        return found

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("persistent ids are not allowed in a data file")


def load(data: bytes, extra: Resolver | None = None, encoding: str = "latin1") -> Any:
    """Unpickles ``data`` resolving class and function names from the allow-list only.

    Args:
        data: the pickle's bytes.
        extra: more allowed names (see :data:`Resolver`), tried after the built-in allow-list.
        encoding: how Python 2 byte strings are decoded (latin-1 keeps NumPy arrays intact).

    Returns:
        The unpickled object.

    Raises:
        RefusedClassError: the pickle names something outside the allow-list (nothing it names
            was called).
        Exception: whatever a truncated or corrupt pickle raises (``UnpicklingError``,
            ``EOFError``, ``ValueError``, ...): callers turn these into their own error.
    """
    return _AllowListUnpickler(io.BytesIO(data), extra, encoding).load()
