"""Fixtures of the hand tests: loaded models, fake official MANO files, an independent NumPy forward."""

from __future__ import annotations


import numpy as np
import pytest

from smhr.hand.joints import HO3D_TO_OPENPOSE
from smhr.hand.model_file import ModelData, load_model_data


@pytest.fixture(scope="session")
def procedural_right(procedural_model_files) -> ModelData:
    return load_model_data(procedural_model_files.right)


@pytest.fixture(scope="session")
def procedural_left(procedural_model_files) -> ModelData:
    return load_model_data(procedural_model_files.left)


def rodrigues(aa: np.ndarray) -> np.ndarray:
    """(3,) axis-angle -> (3, 3), textbook formula."""
    theta = np.linalg.norm(aa)
    if theta < 1e-12:
        return np.eye(3)
    k = aa / theta
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(theta) * kx + (1 - np.cos(theta)) * kx @ kx


def reference_forward(data: ModelData, full_pose: np.ndarray, betas: np.ndarray, transl: np.ndarray):
    """Plain NumPy MANO: shape blend, joint regression, pose blend, forward kinematics, LBS.

    Args:
        full_pose: (48,) axis-angle, hands_mean already included.
        betas: (10,). transl: (3,).

    Returns:
        vertices (V, 3) and joints (21, 3) in OpenPose order.
    """
    v_shaped = data.v_template + data.shapedirs @ betas
    J = data.J_regressor @ v_shaped
    R = [rodrigues(full_pose[3 * j : 3 * j + 3]) for j in range(16)]
    feat = np.concatenate([(R[j] - np.eye(3)).reshape(-1) for j in range(1, 16)])
    v_posed = v_shaped + data.posedirs @ feat
    parents = data.kintree_table[0]
    G = []
    for j in range(16):
        local = np.eye(4)
        local[:3, :3] = R[j]
        local[:3, 3] = J[j] - (J[parents[j]] if j > 0 else 0.0)
        G.append(local if j == 0 else G[parents[j]] @ local)
    A = []
    for j in range(16):
        a = G[j].copy()
        a[:3, 3] -= G[j][:3, :3] @ J[j]
        A.append(a)
    T = np.einsum("vj,jab->vab", data.weights, np.stack(A))
    vh = np.concatenate([v_posed, np.ones((len(v_posed), 1))], axis=1)
    verts = np.einsum("vab,vb->va", T, vh)[:, :3] + transl
    joints16 = np.stack([g[:3, 3] for g in G]) + transl
    joints = np.concatenate([joints16, verts[data.fingertip_vertex_ids]])[HO3D_TO_OPENPOSE]
    return verts, joints


def winding_number(points: np.ndarray, verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Generalised winding number of (P, 3) points w.r.t. a closed mesh (Van Oosterom-Strackee)."""
    a = verts[faces[:, 0]][None] - points[:, None]
    b = verts[faces[:, 1]][None] - points[:, None]
    c = verts[faces[:, 2]][None] - points[:, None]
    la, lb, lc = (np.linalg.norm(x, axis=-1) for x in (a, b, c))
    det = np.einsum("pfi,pfi->pf", a, np.cross(b, c))
    den = la * lb * lc + lc * np.einsum("pfi,pfi->pf", a, b) + la * np.einsum("pfi,pfi->pf", b, c) \
        + lb * np.einsum("pfi,pfi->pf", c, a)
    return 2.0 * np.arctan2(det, den).sum(axis=1) / (4.0 * np.pi)
