"""The procedural hand: a closed, well-rigged MANO-format mesh, and its mirror."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from smhr.errors import ConfigError
from smhr.hand import HandModel
from smhr.hand.conventions import mirror_axis_angle
from smhr.hand.model_file import load_model_data, save_model_data
from smhr.hand.proc_mesh import signed_volume
from smhr.hand.procedural import ProceduralConfig, build_models
from tests.hand.conftest import winding_number

FINGER_JOINTS = {"thumb": (13, 14, 15), "index": (1, 2, 3), "middle": (4, 5, 6), "ring": (10, 11, 12), "pinky": (7, 8, 9)}


def test_mesh_is_closed_and_wound_outward(procedural_right, procedural_left):
    f = procedural_right.f
    edges = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    assert np.all(counts == 2)
    directed = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    assert len(np.unique(directed, axis=0)) == len(directed)  # consistent orientation
    assert signed_volume(procedural_right.v_template, procedural_right.f) > 1e-4
    assert signed_volume(procedural_left.v_template, procedural_left.f) > 1e-4
    assert 600 <= procedural_right.num_verts <= 1000


def test_rig_properties(procedural_right):
    d = procedural_right
    np.testing.assert_allclose(d.weights.sum(axis=1), 1.0, atol=1e-12)
    assert d.weights.min() >= 0.0
    np.testing.assert_allclose(d.J_regressor.sum(axis=1), 1.0, atol=1e-12)
    assert d.J_regressor.min() >= 0.0 and (d.J_regressor > 0).sum(axis=1).max() <= 32
    np.testing.assert_array_equal(d.kintree_table[0], [-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 0, 10, 11, 0, 13, 14])
    np.testing.assert_allclose(d.hands_components @ d.hands_components.T, np.eye(45), atol=1e-10)
    assert np.all(np.diff(d.hands_components_std) <= 1e-12)


def test_proportions_and_canonical_frame(procedural_right):
    j = procedural_right.rest_joints()
    tips = procedural_right.v_template[procedural_right.fingertip_vertex_ids]
    length = np.linalg.norm(tips[2] - j[0])
    assert 0.16 < length < 0.21
    assert j[0, 0] > 0.05 and tips[1:, 0].max() < -0.02  # fingers along -x from the wrist
    assert j[1, 2] > j[4, 2] > j[10, 2] > j[7, 2]  # index, middle, ring, pinky from +z to -z


def test_every_joint_inside_the_rest_mesh(procedural_right):
    w = winding_number(procedural_right.rest_joints(), procedural_right.v_template, procedural_right.f)
    assert np.all(w > 0.5), w


def test_fingertips_are_extreme_points_of_their_fingers(procedural_right):
    d = procedural_right
    j = d.rest_joints()
    owner = d.weights.argmax(axis=1)
    for k, (finger, ids) in enumerate(FINGER_JOINTS.items()):
        tip = d.fingertip_vertex_ids[k]
        direction = d.v_template[tip] - j[ids[2]]
        mine = np.flatnonzero(owner == ids[2])
        assert tip in mine, finger
        proj = (d.v_template[mine] - j[ids[2]]) @ direction
        assert mine[proj.argmax()] == tip, finger
        assert np.partition(proj, -2)[-2] < proj.max() - 1e-7, finger  # a unique extreme


def test_shape_directions_vary_the_hand(procedural_right):
    model = HandModel(procedural_right).double()
    rest = model().joints
    for k in range(10):
        betas = torch.zeros(1, 10, dtype=torch.float64)
        betas[0, k] = 2.0
        moved = (model(betas=betas).vertices - model().vertices).norm(dim=-1).max()
        assert 0.001 < moved < 0.03, (k, moved)
    big = torch.zeros(1, 10, dtype=torch.float64)
    big[0, 0] = 2.0
    assert model(betas=big).joints[0, 12].norm() > rest[0, 12].norm()  # beta 0 scales the hand


def test_left_is_the_mirror_of_the_right(procedural_right, procedural_left):
    g = torch.Generator().manual_seed(3)
    go = 0.5 * torch.randn(2, 3, generator=g, dtype=torch.float64)
    hp = 0.4 * torch.randn(2, 45, generator=g, dtype=torch.float64)
    betas = torch.randn(2, 10, generator=g, dtype=torch.float64)
    right = HandModel(procedural_right).double()(go, hp, betas)
    mgo = torch.from_numpy(mirror_axis_angle(go.numpy()))
    mhp = torch.from_numpy(mirror_axis_angle(hp.numpy()))
    left = HandModel(procedural_left).double()(mgo, mhp, betas)
    m = torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64)
    torch.testing.assert_close(left.vertices, right.vertices * m)
    torch.testing.assert_close(left.joints, right.joints * m)
    np.testing.assert_array_equal(procedural_left.f, procedural_right.f[:, ::-1])


def test_generation_is_deterministic(procedural_right):
    cfg = ProceduralConfig(pose_samples=2000)
    a, _ = build_models(cfg)
    b, _ = build_models(cfg)
    for key in ("v_template", "shapedirs", "hands_components", "hands_mean", "weights"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
    np.testing.assert_array_equal(a.v_template, procedural_right.v_template)


@pytest.mark.parametrize(("key", "value"), [
    ("finger_ring_verts", 2), ("finger_ring_verts", 7), ("finger_ring_verts", 0), ("palm_ring_verts", 6),
    ("palm_ring_verts", -4), ("palm_rings", 1), ("palm_rings", 0), ("pose_samples", 45), ("pose_samples", -1),
])
def test_degenerate_config_is_rejected(key, value):
    with pytest.raises(ConfigError, match=rf"hand_model\.{key} = {value} builds a degenerate hand; allowed: "):
        ProceduralConfig(**{key: value})


def test_smallest_allowed_config_builds_a_valid_closed_hand(tmp_path):
    right, left = build_models(ProceduralConfig(pose_samples=46, finger_ring_verts=4, palm_ring_verts=8, palm_rings=2))
    for data in (right, left):
        back = load_model_data(save_model_data(data, tmp_path / f"{data.side}.npz"))  # passes every file check
        edges = np.sort(np.concatenate([back.f[:, [0, 1]], back.f[:, [1, 2]], back.f[:, [2, 0]]]), axis=1)
        assert np.all(np.unique(edges, axis=0, return_counts=True)[1] == 2)
        assert signed_volume(back.v_template, back.f) > 1e-4
