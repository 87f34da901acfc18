"""Mesh files (Wavefront OBJ, ASCII PLY) with faces wound so that normals point outwards.

A face ``(i, j, k)`` has normal ``(v_j - v_i) x (v_k - v_i)``; viewers light and cull by it, so
it must point out of the hand. MANO's right model winds that way and a left model made by
mirroring it may or may not reorder its faces (our procedural left does; see
:mod:`smhr.hand.conventions`), so the orientation is measured, not assumed: a closed-ish mesh
wound outwards has a positive signed volume. Files are written atomically (temporary file beside
the target, then rename) and deterministically (fixed float format, no timestamps).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np

from smhr.viz.files import write_bytes_atomic

MeshFormat = Literal["obj", "ply"]
MESH_FORMATS: tuple[str, ...] = ("obj", "ply")


def signed_volume(verts: np.ndarray, faces: np.ndarray) -> float:
    """Signed volume of a triangle mesh (positive when wound counter-clockwise seen from outside).

    Args:
        verts: (V, 3).
        faces: (F, 3) int.

    Returns:
        ``sum_f v_i . (v_j x v_k) / 6`` (exact for closed meshes, a good orientation test for
        MANO's open wrist).
    """
    v = np.asarray(verts, np.float64)
    f = np.asarray(faces, np.int64)
    v0, v1, v2 = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    # about the centroid, so an open boundary far from the origin does not dominate
    c = v.mean(axis=0)
    return float(np.einsum("ij,ij->", v0 - c, np.cross(v1 - c, v2 - c)) / 6.0)


def outward_faces(verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """``faces`` reordered if needed so that face normals point outwards.

    Args:
        verts: (V, 3) a representative pose of the mesh (e.g. the model's template).
        faces: (F, 3) int.

    Returns:
        (F, 3) int64: ``faces`` or ``faces[:, ::-1]``.
    """
    f = np.asarray(faces, np.int64)
    return f.copy() if signed_volume(verts, f) >= 0 else f[:, ::-1].copy()


def _check(verts: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    v = np.asarray(verts, np.float64)
    f = np.asarray(faces, np.int64)
    if v.ndim != 2 or v.shape[1] != 3 or f.ndim != 2 or f.shape[1] != 3:
        raise ValueError(f"mesh: verts must be (V, 3) and faces (F, 3), got {v.shape} and {f.shape}")
    if f.size and (f.min() < 0 or f.max() >= len(v)):
        raise ValueError(f"mesh: faces index vertices outside [0, {len(v)})")
    return v, f


def obj_text(verts: np.ndarray, faces: np.ndarray) -> str:
    """Wavefront OBJ text: ``v x y z`` lines (metres, 6 decimals), then 1-based ``f i j k``."""
    v, f = _check(verts, faces)
    lines = [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in v]
    lines += [f"f {i + 1} {j + 1} {k + 1}" for i, j, k in f]
    return "\n".join(lines) + "\n"


def ply_text(verts: np.ndarray, faces: np.ndarray) -> str:
    """ASCII PLY text with float vertices and ``vertex_indices`` faces (0-based)."""
    v, f = _check(verts, faces)
    header = [
        "ply", "format ascii 1.0", "comment smhr predicted hand, metres, OpenCV camera axes",
        f"element vertex {len(v)}", "property float x", "property float y", "property float z",
        f"element face {len(f)}", "property list uchar int vertex_indices", "end_header",
    ]
    lines = header + [f"{x:.6f} {y:.6f} {z:.6f}" for x, y, z in v] + [f"3 {i} {j} {k}" for i, j, k in f]
    return "\n".join(lines) + "\n"


def write_mesh(path: str | Path, verts: np.ndarray, faces: np.ndarray, fmt: MeshFormat | None = None) -> Path:
    """Writes one mesh as OBJ or PLY, atomically.

    Args:
        path: target file.
        verts: (V, 3) metres.
        faces: (F, 3) int, written as given (use :func:`outward_faces` first).
        fmt: ``"obj"`` or ``"ply"``; None: from the file suffix.

    Returns:
        ``path``.
    """
    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".").lower()  # type: ignore[assignment]
    if fmt not in MESH_FORMATS:
        raise ValueError(f"{path}: mesh format must be one of {MESH_FORMATS}, got {fmt!r}")
    text = obj_text(verts, faces) if fmt == "obj" else ply_text(verts, faces)
    write_bytes_atomic(path, text.encode())
    return path


def read_obj(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Reads the OBJ subset :func:`obj_text` writes. Returns (verts (V, 3), faces (F, 3) 0-based)."""
    verts, faces = [], []
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "v":
            verts.append([float(x) for x in parts[1:4]])
        elif parts and parts[0] == "f":
            faces.append([int(x.split("/")[0]) - 1 for x in parts[1:4]])
    return np.asarray(verts, np.float64).reshape(-1, 3), np.asarray(faces, np.int64).reshape(-1, 3)


def read_ply(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Reads the ASCII PLY subset :func:`ply_text` writes. Returns (verts (V, 3), faces (F, 3))."""
    lines = Path(path).read_text().splitlines()
    nv = int(next(line for line in lines if line.startswith("element vertex")).split()[2])
    nf = int(next(line for line in lines if line.startswith("element face")).split()[2])
    body = lines[lines.index("end_header") + 1:]
    verts = np.array([[float(x) for x in line.split()] for line in body[:nv]], np.float64).reshape(-1, 3)
    faces = np.array([[int(x) for x in line.split()[1:4]] for line in body[nv:nv + nf]], np.int64).reshape(-1, 3)
    return verts, faces
