"""An independent MANO forward in plain NumPy loops, on a file's raw arrays (no smhr, no smplx).

Rodrigues' formula, shape and pose blend shapes, the kinematic chain and linear blend skinning,
each written as a loop so that it shares nothing with the batched implementation under test.
"""

from __future__ import annotations

import numpy as np


def rodrigues(aa: np.ndarray) -> np.ndarray:
    """(3,) axis-angle -> (3, 3) rotation, textbook formula."""
    theta = float(np.sqrt(aa[0] ** 2 + aa[1] ** 2 + aa[2] ** 2))
    if theta < 1e-12:
        return np.eye(3)
    k = aa / theta
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + np.sin(theta) * kx + (1.0 - np.cos(theta)) * (kx @ kx)


def reference_lbs(a: dict[str, np.ndarray], full_pose: np.ndarray, betas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MANO's forward from raw arrays.

    Args:
        a: ``v_template`` (V, 3), ``shapedirs`` (V, 3, 10), ``posedirs`` (V, 3, 135),
            ``J_regressor`` (16, V), ``weights`` (V, 16), ``kintree_table`` (2, 16) (root parent
            any value).
        full_pose: (48,) axis-angle of the 16 joints (hands_mean already added).
        betas: (10,).

    Returns:
        Posed vertices (V, 3) and the 16 posed joints (16, 3), MANO native order.
    """
    n_v = a["v_template"].shape[0]
    v_shaped = a["v_template"].copy()
    for k in range(len(betas)):
        v_shaped = v_shaped + betas[k] * a["shapedirs"][:, :, k]
    joints = np.zeros((16, 3))
    for j in range(16):
        for v in np.flatnonzero(a["J_regressor"][j]):
            joints[j] += a["J_regressor"][j, v] * v_shaped[v]
    rots = [rodrigues(full_pose[3 * j : 3 * j + 3]) for j in range(16)]
    v_posed = v_shaped.copy()
    p = 0
    for j in range(1, 16):
        for r in range(3):
            for c in range(3):
                v_posed = v_posed + (rots[j][r, c] - (r == c)) * a["posedirs"][:, :, p]
                p += 1
    parents = [-1] + [int(x) for x in a["kintree_table"][0, 1:]]
    world = []
    for j in range(16):
        local = np.eye(4)
        local[:3, :3] = rots[j]
        local[:3, 3] = joints[j] - (joints[parents[j]] if j > 0 else 0.0)
        world.append(local if j == 0 else world[parents[j]] @ local)
    skinning = []
    for j in range(16):
        rest_to_posed = world[j].copy()
        rest_to_posed[:3, 3] -= world[j][:3, :3] @ joints[j]
        skinning.append(rest_to_posed)
    verts = np.zeros((n_v, 3))
    for v in range(n_v):
        blend = np.zeros((4, 4))
        for j in range(16):
            blend += a["weights"][v, j] * skinning[j]
        verts[v] = blend[:3, :3] @ v_posed[v] + blend[:3, 3]
    return verts, np.stack([w[:3, 3] for w in world])
