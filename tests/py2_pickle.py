"""A tiny hand-rolled pickler that writes what Python 2's cPickle (protocol 2, NumPy 1.x) wrote.

The official MANO files and the RHD/HO3D annotation pickles were written that way, and Python 3's
pickler cannot reproduce them: it writes ``str`` as unicode and NumPy 2 arrays under
``numpy._core``. This one emits the opcodes directly:

* ``str`` -> a Python 2 byte string (``SHORT_BINSTRING``/``BINSTRING``, latin-1 bytes);
* NumPy arrays -> ``numpy.core.multiarray._reconstruct`` + ``numpy.dtype`` + ``BUILD`` with the
  raw bytes as a byte string, exactly NumPy 1's ``ndarray.__reduce__``;
* NumPy scalars -> ``numpy.core.multiarray.scalar``;
* :class:`Obj` -> ``GLOBAL module name``, ``NEWOBJ``, ``BUILD state`` (a new-style class instance
  pickled through ``copy_reg.__newobj__``, e.g. ``chumpy.ch.Ch`` or ``scipy.sparse.csc.csc_matrix``);
* :class:`Call` -> ``GLOBAL``, arguments, ``REDUCE`` (e.g. ``__builtin__.set`` or a payload);
* dict, list, tuple, set, int, float, bool, None.

Globals, strings, tuples, containers and objects are memoised (``BINPUT``; a repeated global is
a ``BINGET``) as cPickle does.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Obj:
    """An instance of ``module.name`` whose pickled state is ``state`` (its ``__dict__``)."""

    module: str
    name: str
    state: dict = field(default_factory=dict)


@dataclass
class Call:
    """``module.name(*args)`` at load time (pickle's ``REDUCE``)."""

    module: str
    name: str
    args: tuple = ()


class Py2Pickler:
    """Writes one object as Python 2 + NumPy 1.x would (protocol 2)."""

    def __init__(self) -> None:
        self.out = bytearray(b"\x80\x02")
        self.memo: dict[str, int] = {}
        self.count = 0

    def _put(self) -> int:
        self.out += b"q" + bytes([self.count]) if self.count < 256 else b"r" + struct.pack("<I", self.count)
        self.count += 1
        return self.count - 1

    def _global(self, module: str, name: str) -> None:
        key = f"{module}\n{name}\n"
        if key in self.memo:
            n = self.memo[key]
            self.out += b"h" + bytes([n]) if n < 256 else b"j" + struct.pack("<I", n)
            return
        self.out += b"c" + key.encode("ascii")
        self.memo[key] = self._put()

    def _bytes(self, raw: bytes) -> None:
        self.out += (b"U" + bytes([len(raw)]) if len(raw) < 256 else b"T" + struct.pack("<i", len(raw))) + raw
        self._put()

    def _int(self, value: int) -> None:
        if 0 <= value < 256:
            self.out += b"K" + bytes([value])
        elif 0 <= value < 65536:
            self.out += b"M" + struct.pack("<H", value)
        elif -(2**31) <= value < 2**31:
            self.out += b"J" + struct.pack("<i", value)
        else:
            raw = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
            self.out += b"\x8a" + bytes([len(raw)]) + raw

    def _tuple(self, items: tuple) -> None:
        if not items:
            self.out += b")"
            return
        if len(items) > 3:
            self.out += b"("
        for item in items:
            self.save(item)
        self.out += {1: b"\x85", 2: b"\x86", 3: b"\x87"}.get(len(items), b"t")
        self._put()

    def _dtype(self, dtype: np.dtype) -> None:
        self._global("numpy", "dtype")
        self._tuple((dtype.str[1:], 0, 1))
        self.out += b"R"
        order = dtype.str[0] if dtype.itemsize > 1 else "|"
        self._tuple((3, order, None, None, None, -1, -1, 0))
        self.out += b"b"

    def _array(self, array: np.ndarray) -> None:
        array = np.ascontiguousarray(array)
        self._global("numpy.core.multiarray", "_reconstruct")
        self._global("numpy", "ndarray")
        self._tuple((0,))
        self._bytes(b"b")
        self.out += b"\x87R"
        self.out += b"("
        self._int(1)
        self._tuple(tuple(int(s) for s in array.shape))
        self._dtype(array.dtype)
        self.out += b"\x89"
        self._bytes(array.astype(array.dtype.newbyteorder("<")).tobytes())
        self.out += b"tb"

    def save(self, obj: Any) -> None:
        """Appends ``obj``'s opcodes."""
        if obj is None:
            self.out += b"N"
        elif obj is True or obj is False:
            self.out += b"\x88" if obj else b"\x89"
        elif isinstance(obj, np.ndarray):
            self._array(obj)
        elif isinstance(obj, np.generic):
            self._global("numpy.core.multiarray", "scalar")
            self._dtype(obj.dtype)
            self._bytes(obj.tobytes())
            self.out += b"\x86R"
        elif isinstance(obj, int):
            self._int(obj)
        elif isinstance(obj, float):
            self.out += b"G" + struct.pack(">d", obj)
        elif isinstance(obj, str):
            self._bytes(obj.encode("latin1"))
        elif isinstance(obj, bytes):
            self._bytes(obj)
        elif isinstance(obj, tuple):
            self._tuple(obj)
        elif isinstance(obj, list):
            self.out += b"]"
            self._put()
            if obj:
                self.out += b"("
                for item in obj:
                    self.save(item)
                self.out += b"e"
        elif isinstance(obj, (set, frozenset)):
            self.save(Call("__builtin__", "set", (sorted(obj),)))
        elif isinstance(obj, dict):
            self.out += b"}"
            self._put()
            if obj:
                self.out += b"("
                for key, value in obj.items():
                    self.save(key)
                    self.save(value)
                self.out += b"u"
        elif isinstance(obj, Obj):
            self._global(obj.module, obj.name)
            self.out += b")\x81"
            self._put()
            self.save(obj.state)
            self.out += b"b"
        elif isinstance(obj, Call):
            self._global(obj.module, obj.name)
            self._tuple(obj.args)
            self.out += b"R"
        else:
            raise TypeError(f"Py2Pickler cannot write {type(obj).__name__}")


def dumps_py2(obj: Any) -> bytes:
    """``obj`` as the bytes of a Python 2 protocol-2 pickle (see the module docstring)."""
    pickler = Py2Pickler()
    pickler.save(obj)
    return bytes(pickler.out + b".")


def write_py2(obj: Any, path: Path) -> Path:
    """Writes :func:`dumps_py2` of ``obj`` to ``path`` and returns it."""
    path.write_bytes(dumps_py2(obj))
    return path
