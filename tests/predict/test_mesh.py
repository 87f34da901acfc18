"""Mesh files: outward winding for both sides, OBJ/PLY round trips, atomic writes."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from smhr.hand.layer import HandModel
from smhr.viz.mesh import outward_faces, read_obj, read_ply, signed_volume, write_mesh


def outwardness(verts: np.ndarray, faces: np.ndarray) -> float:
    """Mean over faces of the unit face normal dotted with (face centre - mesh centroid)."""
    v0, v1, v2 = (verts[faces[:, k]] for k in range(3))
    n = np.cross(v1 - v0, v2 - v0)
    n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-20
    return float(np.mean(np.einsum("ij,ij->i", n, (v0 + v1 + v2) / 3 - verts.mean(0))))


@pytest.fixture(scope="module")
def posed(procedural_model_files):
    """Posed vertices and file faces of the procedural right and left hands."""
    out = {}
    gen = torch.Generator().manual_seed(0)
    for side, path in (("right", procedural_model_files.right), ("left", procedural_model_files.left)):
        model = HandModel.from_file(path)
        with torch.no_grad():
            verts = model(global_orient=0.5 * torch.randn(1, 3, generator=gen), hand_pose=0.3 * torch.randn(1, 45, generator=gen),
                          transl=torch.tensor([[0.0, 0.0, 0.5]])).vertices[0].double().numpy()
        out[side] = (model.v_template.double().numpy(), verts, model.faces.numpy())
    return out


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("fmt", ["obj", "ply"])
def test_written_meshes_have_outward_normals(posed, side, fmt, tmp_path):
    template, verts, faces = posed[side]
    for given in (faces, faces[:, ::-1]):  # whatever the file's winding
        out = outward_faces(template, given)
        path = write_mesh(tmp_path / f"hand.{fmt}", verts, out)
        v, f = read_obj(path) if fmt == "obj" else read_ply(path)
        np.testing.assert_allclose(v, verts, atol=1e-6)
        np.testing.assert_array_equal(f, out)
        assert outwardness(v, f) > 0
        assert signed_volume(v, f) > 0


def test_reversed_winding_points_inwards(posed):
    """The check above can fail: the reversed faces of an outward mesh point inwards."""
    template, verts, faces = posed["left"]
    assert outwardness(verts, outward_faces(template, faces)[:, ::-1]) < 0


def test_mesh_file_mode_respects_umask(posed, tmp_path):
    template, verts, faces = posed["right"]
    old = os.umask(0o027)
    try:
        path = write_mesh(tmp_path / "m.obj", verts, faces)
    finally:
        os.umask(old)
    assert (path.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["m.obj"]


def test_bad_mesh_arguments():
    with pytest.raises(ValueError, match="faces index"):
        write_mesh("x.obj", np.zeros((3, 3)), np.array([[0, 1, 3]]))
    with pytest.raises(ValueError, match="format"):
        write_mesh("x.stl", np.zeros((3, 3)), np.array([[0, 1, 2]]))
