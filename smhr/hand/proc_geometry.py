"""Geometry of the procedural hand: skeleton, palm and finger tubes, skinning weights.

Right hand in MANO's canonical frame (metres): the wrist at x ~ +0.09, fingers along -x, the
index finger at +z and the pinky at -z, the palm facing -y (so flexion curls fingers towards -y).
The skeleton is written from anthropometric proportions (hand length ~0.18 m), not taken from MANO.

Each finger (and the thumb) is one closed tube whose rings sit exactly at its three joints, so a
joint is the mean of its ring (that is the J_regressor row); the palm is a closed tube running from
the wrist ring (mean = wrist joint) to the knuckles. Fingers start inside the palm.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from smhr.hand.proc_mesh import merge, ring_points, superellipse, tube

WRIST = np.array([0.090, 0.005, 0.005])
FINGERS = ("index", "middle", "pinky", "ring", "thumb")
"""Tube order = MANO's joint order (joints 1-3 index, 4-6 middle, 7-9 pinky, 10-12 ring, 13-15 thumb)."""
TIP_ORDER = ("thumb", "index", "middle", "ring", "pinky")

_BASE = {  # base joint, direction, phalanx lengths (base->2, 2->3, 3->tip), half (width, height) base/tip
    "index": ((0.004, 0.003, 0.025), (-1.0, 0.0, 0.05), (0.040, 0.024, 0.021), (0.0095, 0.0085), (0.0078, 0.0068)),
    "middle": ((0.000, 0.004, 0.004), (-1.0, 0.0, -0.07), (0.045, 0.028, 0.022), (0.0098, 0.0088), (0.0080, 0.0070)),
    "ring": ((0.008, 0.003, -0.016), (-1.0, 0.0, -0.20), (0.042, 0.027, 0.022), (0.0092, 0.0082), (0.0075, 0.0066)),
    "pinky": ((0.020, 0.000, -0.034), (-1.0, -0.02, -0.42), (0.033, 0.019, 0.019), (0.0080, 0.0072), (0.0066, 0.0058)),
    "thumb": ((0.068, -0.009, 0.028), (-0.62, -0.14, 0.78), (0.036, 0.031, 0.027), (0.0150, 0.0125), (0.0094, 0.0082)),
}
THUMB_TIP_BEND = (-0.25, -0.05, -0.05)
"""Added to the thumb's direction for its last two bones: the thumb arcs slightly towards the fingers."""


@dataclasses.dataclass(frozen=True)
class ShapeParams:
    """Anatomical shape knobs (1.0 / 0.0 is the template); the 10 shape directions vary these."""

    scale: float = 1.0
    palm_width: float = 1.0
    finger_length: float = 1.0
    thickness: float = 1.0
    thumb_length: float = 1.0
    palm_length: float = 1.0
    index_ring: float = 0.0
    pinky_length: float = 1.0
    taper: float = 1.0
    thenar: float = 1.0


SHAPE_STEPS = (
    ("scale", 0.06), ("palm_width", 0.06), ("finger_length", 0.06), ("thickness", 0.08), ("thumb_length", 0.07),
    ("palm_length", 0.05), ("index_ring", 0.04), ("pinky_length", 0.07), ("taper", 0.08), ("thenar", 0.10),
)
"""Beta k moves field ``SHAPE_STEPS[k][0]`` by ``SHAPE_STEPS[k][1]`` per unit (about one s.d.)."""


@dataclasses.dataclass(frozen=True)
class GeometryConfig:
    """Resolution knobs.

    Attributes:
        finger_ring_verts: points per finger ring (even).
        palm_ring_verts: points per palm ring (a multiple of 4).
        palm_rings: rings along the palm between wrist and knuckles (>= 2).
    """

    finger_ring_verts: int = 10
    palm_ring_verts: int = 16
    palm_rings: int = 5


class HandGeometry(NamedTuple):
    """One right hand mesh with its rig.

    Attributes:
        vertices: (V, 3) metres.
        faces: (F, 3) outward winding.
        joint_rings: 16 arrays of vertex ids whose mean is each joint (MANO order).
        tip_ids: (5,) fingertip vertex ids, thumb to pinky.
        weights: (V, 16) skinning weights, rows sum to 1.
    """

    vertices: np.ndarray
    faces: np.ndarray
    joint_rings: list[np.ndarray]
    tip_ids: np.ndarray
    weights: np.ndarray


def _unit(v: np.ndarray) -> np.ndarray:
    return np.asarray(v, dtype=np.float64) / np.linalg.norm(v)


def skeleton(p: ShapeParams) -> dict[str, np.ndarray]:
    """Joint chains per finger: (4, 3) base joint, two more joints, tip (right hand, metres)."""
    mid_z = _BASE["middle"][0][2]
    chains = {}
    for name, (base, direction, lengths, _, _) in _BASE.items():
        base = np.array(base, dtype=np.float64)
        base[2] = mid_z + (base[2] - mid_z) * p.palm_width
        base[0] = WRIST[0] + (base[0] - WRIST[0]) * (p.palm_length if name != "thumb" else 1.0)
        factor = {"thumb": p.thumb_length, "pinky": p.pinky_length * p.finger_length,
                  "index": p.finger_length * (1 + p.index_ring), "ring": p.finger_length * (1 - p.index_ring)}
        lengths = np.array(lengths) * factor.get(name, p.finger_length)
        d = _unit(direction)
        pts = [base]
        for k, length in enumerate(lengths):
            dk = d if name != "thumb" or k == 0 else _unit(d + np.array(THUMB_TIP_BEND) * k)
            pts.append(pts[-1] + length * dk)
        chains[name] = np.stack(pts) * p.scale
    chains["wrist"] = WRIST[None] * p.scale
    return chains


def _frame(d: np.ndarray, up_hint: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    up = _unit(up_hint - (up_hint @ d) * d)
    return _unit(np.cross(up, d)), up


def _finger_tube(name: str, chain: np.ndarray, p: ShapeParams, n: int):
    """Rings along a finger; returns (tube, station arc-length s, joint s values, joint ring ids)."""
    _, _, _, r0, r1 = _BASE[name]
    r0 = np.array(r0) * p.thickness * (p.thenar if name == "thumb" else 1.0)
    r1 = np.array(r1) * p.thickness * p.taper
    if name == "thumb":
        r_mid = np.array([0.0108, 0.0098]) * p.thickness
    else:
        r_mid = 0.55 * r0 + 0.45 * r1
    bones = np.diff(chain, axis=0)
    lens = np.linalg.norm(bones, axis=1)
    dirs = bones / lens[:, None]
    up_hint = np.array([0.0, 1.0, 0.0])
    if name == "thumb":  # dorsal side of the thumb: turned away from the fingers
        up_hint = _unit(np.array([0.0, 1.0, 0.0]) * np.cos(0.7) + np.array([0.55, 0.0, 0.83]) * np.sin(0.7))
    r_tip = r1[1]
    # (s along the chain from the base joint, radius) per station; joints at s = 0, L0, L0+L1
    s_j = np.array([0.0, lens[0], lens[0] + lens[1]])
    s_tip = lens.sum()
    stations = [(-0.014, r0), (-0.007, r0), (0.0, r0 * 1.03),
                (lens[0] / 3, r0 * 0.97), (2 * lens[0] / 3, 0.5 * (r0 + r_mid)),
                (s_j[1], r_mid * 1.06), (s_j[1] + 0.5 * lens[1], r_mid * 0.96),
                (s_j[2], r1 * 1.06), (s_j[2] + 0.45 * lens[2], r1),
                (s_tip - r_tip, r1)]
    rings, s_list = [], []

    def point_at(s: float) -> tuple[np.ndarray, np.ndarray]:
        if s <= 0:
            return chain[0] + s * dirs[0], dirs[0]
        k = min(int(np.searchsorted(np.cumsum(lens), s, side="right")), 2)
        s0 = lens[:k].sum()
        at_joint = k > 0 and abs(s - s0) < 1e-12
        d = _unit(dirs[k] + dirs[k - 1]) if at_joint else dirs[k]
        return chain[k] + (s - s0) * dirs[k], d

    for s, (rw, rh) in stations:
        c, d = point_at(s)
        side, up = _frame(d, up_hint)
        rings.append(ring_points(c, side, up, superellipse(n, rw, rh, 2.2)))
        s_list.append(s)
    c_cap, d_cap = point_at(s_tip - r_tip)
    side, up = _frame(d_cap, up_hint)
    for alpha in (np.radians(40), np.radians(70)):
        rings.append(ring_points(c_cap + np.sin(alpha) * r_tip * d_cap, side, up,
                                 superellipse(n, r1[0] * np.cos(alpha), r1[1] * np.cos(alpha), 2.2)))
        s_list.append(s_tip - r_tip + np.sin(alpha) * r_tip)
    start = chain[0] - 0.018 * dirs[0]
    t = tube(np.stack(rings), start, chain[-1].copy())
    s_vert = np.concatenate([[-0.018], np.repeat(s_list, n), [s_tip]])
    joint_station = [2, 5, 7]
    ring_ids = [1 + k * n + np.arange(n) for k in joint_station]
    return t, s_vert, s_j, ring_ids


def _palm_tube(chains: dict[str, np.ndarray], p: ShapeParams, cfg: GeometryConfig):
    """The palm; returns (tube, per-vertex depth behind the knuckle line, wrist ring ids)."""
    w = chains["wrist"][0]
    mcp = {f: chains[f][0] for f in ("index", "middle", "ring", "pinky")}
    zs = np.array([mcp[f][2] for f in ("pinky", "ring", "middle", "index")])
    xs = np.array([mcp[f][0] for f in ("pinky", "ring", "middle", "index")]) + 0.004 * p.scale

    def x_end(z: np.ndarray) -> np.ndarray:
        return np.interp(z, zs, xs)

    lo, hi = zs[0] - 0.009 * p.scale * p.thickness, zs[-1] + 0.010 * p.scale * p.thickness
    zc1, hw1 = 0.5 * (lo + hi), 0.5 * (hi - lo)
    hw0 = 0.029 * p.scale * p.palm_width
    yc1 = np.mean([mcp[f][1] for f in mcp])
    th0, th1 = 0.0125 * p.scale * p.thickness, 0.0112 * p.scale * p.thickness
    n = cfg.palm_ring_verts
    ts = np.concatenate([[-1.0, -1.0], np.linspace(0.0, 1.0, cfg.palm_rings), [1.0, 1.0]])
    rings, depth = [], []
    for k, t in enumerate(ts):
        tc = np.clip(t, 0.0, 1.0)
        zc = w[2] + (zc1 - w[2]) * tc
        yc = w[1] + (yc1 - w[1]) * tc
        hw = hw0 + (hw1 - hw0) * tc + 0.003 * p.scale * np.sin(np.pi * tc)
        th = th0 + (th1 - th0) * tc + 0.0018 * p.scale * p.thickness * np.sin(np.pi * tc)
        shrink = {0: 0.45, 1: 0.85, len(ts) - 2: 0.85, len(ts) - 1: 0.45}.get(k, 1.0)
        prof = superellipse(n, hw * (0.5 + 0.5 * shrink), th * shrink, 3.0)
        z = zc + prof[:, 0]
        y = yc + prof[:, 1]
        xe = x_end(z)
        if t < 0:
            x = np.full(n, w[0] + (0.006 if k == 0 else 0.0035) * p.scale)
        elif k >= len(ts) - 2:
            x = xe - (0.005 if k == len(ts) - 2 else 0.008) * p.scale
        else:
            x = w[0] + t * (xe - w[0])
        rings.append(np.stack([x, y, z], axis=1))
        depth.append(x - xe)
    rings = np.stack(rings)
    start = np.array([w[0] + 0.0075 * p.scale, w[1], w[2]])
    end = rings[-1].mean(axis=0) - np.array([0.002 * p.scale, 0.0, 0.0])
    t = tube(rings, start, end)
    depth = np.concatenate([[0.1], np.concatenate(depth), [-0.01]])
    wrist_ring = 1 + 2 * n + np.arange(n)
    return t, depth, wrist_ring


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _finger_weights(s: np.ndarray, s_j: np.ndarray, joints: tuple[int, int, int], halves: tuple[float, ...]) -> np.ndarray:
    """Telescoping smooth weights along a chain: wrist -> j1 -> j2 -> j3 with blend zones."""
    w = np.zeros((len(s), 16))
    sig = [np.ones(len(s))] + [_smoothstep((s - sj + h) / (2 * h)) for sj, h in zip(s_j, halves)] + [np.zeros(len(s))]
    for k, jid in enumerate((0,) + joints):
        w[:, jid] += sig[k] - sig[k + 1]
    return w


def build_geometry(p: ShapeParams, cfg: GeometryConfig) -> HandGeometry:
    """Builds the right hand for shape ``p``.

    Args:
        p: shape knobs.
        cfg: resolution.

    Returns:
        The :class:`HandGeometry` (vertex order and topology depend only on ``cfg``).
    """
    chains = skeleton(p)
    palm, depth, wrist_ring = _palm_tube(chains, p, cfg)
    tubes, weights, joint_rings = [palm], [], [wrist_ring]
    finger_data = []
    for f_idx, name in enumerate(FINGERS):
        t, s, s_j, rings = _finger_tube(name, chains[name], p, cfg.finger_ring_verts)
        jids = (1 + 3 * f_idx, 2 + 3 * f_idx, 3 + 3 * f_idx)
        halves = (0.010, 0.0045, 0.0040) if name == "thumb" else (0.0070, 0.0045, 0.0038)
        finger_data.append((t, _finger_weights(s, s_j, jids, halves), rings))
        tubes.append(t)
    verts, faces, ids = merge(tubes)
    # palm weights: wrist, with the distal rim following the nearest knuckles, the thenar the thumb
    pw = np.zeros((len(palm.vertices), 16))
    pv = palm.vertices
    rim = 0.5 * _smoothstep(1.0 - depth / 0.022)
    knuckles = {1: chains["index"][0], 4: chains["middle"][0], 7: chains["pinky"][0], 10: chains["ring"][0]}
    near = np.stack([np.exp(-((pv[:, 2] - k[2]) ** 2) / (2 * 0.007**2)) for k in knuckles.values()], axis=1)
    near /= near.sum(axis=1, keepdims=True)
    for col, jid in enumerate(knuckles):
        pw[:, jid] = rim * near[:, col]
    thumb_share = 0.35 * _smoothstep(1.0 - np.linalg.norm(pv - chains["thumb"][0], axis=1) / 0.022)
    pw[:, 13] = thumb_share * (1.0 - rim)
    pw[:, 0] = 1.0 - pw.sum(axis=1)
    weights = [pw] + [fd[1] for fd in finger_data]
    for f_idx, (_, _, rings) in enumerate(finger_data):
        joint_rings.extend(ids[f_idx + 1][r] for r in rings)
    joint_rings = [ids[0][wrist_ring]] + joint_rings[1:]
    tip_local = {name: ids[1 + FINGERS.index(name)][-1] for name in FINGERS}
    tip_ids = np.array([tip_local[name] for name in TIP_ORDER], dtype=np.int64)
    return HandGeometry(verts, faces, joint_rings, tip_ids, np.concatenate(weights))
