"""Fixtures of the hand tests: loaded models, fake official MANO files, an independent NumPy forward."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from smhr.hand.joints import HO3D_TO_OPENPOSE
from smhr.hand.model_file import ModelData, load_model_data
from tests.hand.fake_mano import mano_arrays, mirrored, with_left_bug, write_fake_mano


class FakeMano(NamedTuple):
    """Fake official files and the arrays they hold.

    Attributes:
        right, left: ``MANO_RIGHT.pkl`` / ``MANO_LEFT.pkl`` (see :mod:`tests.hand.fake_mano`).
        right_arrays: what the right file holds.
        left_arrays: the exact mirror of the right hand (what a fixed left model must give).
        left_stored: what the left file holds: ``left_arrays`` with the official x-sign bug.
    """

    right: Path
    left: Path
    right_arrays: dict
    left_arrays: dict
    left_stored: dict


@pytest.fixture(scope="session")
def fake_mano_files(tmp_path_factory: pytest.TempPathFactory) -> FakeMano:
    """Fake MANO_RIGHT.pkl / MANO_LEFT.pkl in the official structure; the left is the right's mirror with its bug."""
    out = tmp_path_factory.mktemp("mano")
    right = mano_arrays(seed=1)
    left = mirrored(right)
    stored = with_left_bug(left, right)
    return FakeMano(write_fake_mano(right, out / "MANO_RIGHT.pkl", seed=1),
                    write_fake_mano(stored, out / "MANO_LEFT.pkl", seed=2), right, left, stored)


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
