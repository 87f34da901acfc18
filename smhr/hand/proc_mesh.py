"""Closed tube meshes from rings of points: the building block of the procedural hand.

A tube is a sequence of rings (each ``n`` points around an axis) closed by an apex vertex at each
end. Quads between consecutive rings become two triangles; the end rings fan to their apex. The
winding is made outward (positive signed volume) after construction.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Tube(NamedTuple):
    """A closed tube.

    Attributes:
        vertices: (V, 3) start apex, then ``R`` rings of ``n`` points, then the end apex.
        faces: (F, 3) int64, outward (counter-clockwise seen from outside).
        station: (V,) index of the ring each vertex belongs to (-1 start apex, R end apex).
    """

    vertices: np.ndarray
    faces: np.ndarray
    station: np.ndarray


def superellipse(n: int, half_w: float, half_h: float, exponent: float = 2.0) -> np.ndarray:
    """``n`` points of a superellipse, symmetric so that their mean is the centre.

    Args:
        n: number of points (a multiple of 2 keeps the mean exactly at the centre).
        half_w: half width along the first axis.
        half_h: half height along the second axis.
        exponent: 2 gives an ellipse, larger values a rounded rectangle.

    Returns:
        (n, 2) points, counter-clockwise starting at ``(half_w, 0)``.
    """
    th = 2.0 * np.pi * np.arange(n) / n
    c, s = np.cos(th), np.sin(th)
    p = 2.0 / exponent
    return np.stack([half_w * np.sign(c) * np.abs(c) ** p, half_h * np.sign(s) * np.abs(s) ** p], axis=1)


def signed_volume(vertices: np.ndarray, faces: np.ndarray) -> float:
    """Signed volume of a closed triangle mesh (positive when the winding is outward)."""
    a, b, c = (vertices[faces[:, k]] for k in range(3))
    return float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0)


def tube(rings: np.ndarray, start_apex: np.ndarray, end_apex: np.ndarray) -> Tube:
    """Builds a closed tube.

    Args:
        rings: (R, n, 3) ring points; every ring lists its points in the same angular order.
        start_apex: (3,) point closing the first ring.
        end_apex: (3,) point closing the last ring.

    Returns:
        The :class:`Tube`, wound outward.
    """
    r, n, _ = rings.shape
    verts = np.concatenate([start_apex[None], rings.reshape(-1, 3), end_apex[None]])
    idx = 1 + np.arange(r * n).reshape(r, n)
    nxt = np.roll(idx, -1, axis=1)
    faces = [np.stack([np.zeros(n, np.int64), nxt[0], idx[0]], axis=1)]
    for k in range(r - 1):
        faces.append(np.stack([idx[k], nxt[k], nxt[k + 1]], axis=1))
        faces.append(np.stack([idx[k], nxt[k + 1], idx[k + 1]], axis=1))
    end = len(verts) - 1
    faces.append(np.stack([idx[-1], nxt[-1], np.full(n, end, np.int64)], axis=1))
    faces = np.concatenate(faces).astype(np.int64)
    if signed_volume(verts, faces) < 0:
        faces = faces[:, ::-1].copy()
    station = np.concatenate([[-1], np.repeat(np.arange(r), n), [r]]).astype(np.int64)
    return Tube(verts, faces, station)


def ring_points(centre: np.ndarray, side: np.ndarray, up: np.ndarray, profile: np.ndarray) -> np.ndarray:
    """Places a 2-D profile in 3-D: ``centre + x * side + y * up``.

    Args:
        centre: (3,) ring centre.
        side: (3,) unit vector of the profile's first axis.
        up: (3,) unit vector of its second axis.
        profile: (n, 2) points from :func:`superellipse`.

    Returns:
        (n, 3) points.
    """
    return centre + profile[:, :1] * side + profile[:, 1:] * up


def merge(tubes: list[Tube]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Concatenates tubes into one mesh.

    Returns:
        vertices (V, 3), faces (F, 3), and per tube the (V_t,) global ids of its vertices.
    """
    verts, faces, ids, offset = [], [], [], 0
    for t in tubes:
        verts.append(t.vertices)
        faces.append(t.faces + offset)
        ids.append(offset + np.arange(len(t.vertices)))
        offset += len(t.vertices)
    return np.concatenate(verts), np.concatenate(faces), ids
