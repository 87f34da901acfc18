"""Fixtures of the hand tests: loaded models, fake official MANO files, an independent NumPy forward."""

from __future__ import annotations


import numpy as np
import pytest

from smhr.hand.joints import HO3D_TO_OPENPOSE
from smhr.hand.model_file import ModelData, load_model_data
from tests.hand.reference_lbs import reference_lbs


@pytest.fixture(scope="session")
def procedural_right(procedural_model_files) -> ModelData:
    return load_model_data(procedural_model_files.right)


@pytest.fixture(scope="session")
def procedural_left(procedural_model_files) -> ModelData:
    return load_model_data(procedural_model_files.left)


def reference_forward(data: ModelData, full_pose: np.ndarray, betas: np.ndarray, transl: np.ndarray):
    """The layer's forward by the loop reference (:mod:`tests.hand.reference_lbs`), plus tips and order.

    Args:
        data: the model file's arrays.
        full_pose: (48,) axis-angle (hands_mean already added).
        betas: (10,).
        transl: (3,).

    Returns:
        vertices (V, 3) and joints (21, 3) in OpenPose order.
    """
    arrays = {"v_template": data.v_template, "shapedirs": data.shapedirs, "posedirs": data.posedirs,
              "J_regressor": data.J_regressor, "weights": data.weights, "kintree_table": data.kintree_table}
    verts, joints16 = reference_lbs(arrays, full_pose, betas)
    verts, joints16 = verts + transl, joints16 + transl
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
