"""The prediction overlay: left hands shade as the mirror of right hands, sizes, labels, cap."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from smhr.geometry.camera import project
from smhr.hand.conventions import MIRROR_POINTS
from smhr.hand.layer import HandModel
from smhr.viz.mesh import outward_faces
from smhr.viz.overlay import SIDE_COLOURS
from smhr.viz.predictions import SIDE_TINT, SKIN, OverlayHand, draw_predictions, light_sh, render_mesh_layer

H, W = 72, 96
K = np.array([[110.0, 0.0, (W - 1) / 2], [0.0, 110.0, (H - 1) / 2], [0.0, 0.0, 1.0]])


def albedo(side: str) -> np.ndarray:
    return np.asarray(SKIN) * (1 - SIDE_TINT) + np.asarray(SIDE_COLOURS[side]) / 255.0 * SIDE_TINT


@pytest.fixture(scope="module")
def hands(procedural_model_files):
    """A posed right hand and its exact mirror through the left model's faces."""
    right, left = HandModel.from_file(procedural_model_files.right), HandModel.from_file(procedural_model_files.left)
    with torch.no_grad():
        v = right(global_orient=torch.tensor([[0.3, 0.5, 0.1]]), hand_pose=0.2 * torch.ones(1, 45)).vertices[0].double().numpy()
    v = v - v.mean(0) + np.array([0.0, 0.0, 0.45])
    out = {}
    for side, model, verts in (("right", right, v), ("left", left, v * MIRROR_POINTS)):
        faces = outward_faces(model.v_template.double().numpy(), model.faces.numpy())
        uv = project(verts, K)
        out[side] = OverlayHand(side, 0.9, np.r_[uv.min(0), uv.max(0)], uv[:21], verts, faces)
    return out


def test_left_hand_shades_as_the_mirror_of_the_right(hands):
    sh = light_sh().double()
    sh[[3, 4, 7]] = 0.0  # a light symmetric under x -> -x
    shading = {}
    for side, hand in hands.items():
        rgb, alpha = render_mesh_layer([hand], K, (H, W), sh)
        shading[side] = (rgb / albedo(side).astype(np.float32), alpha)
    s_r, a_r = shading["right"]
    s_l, a_l = shading["left"][0][:, ::-1], shading["left"][1][:, ::-1]
    np.testing.assert_allclose(a_l, a_r, atol=1e-5)
    inside = (a_r == 1) & (a_l == 1)
    assert inside.sum() > 100
    np.testing.assert_allclose(s_l[inside], s_r[inside], atol=2e-3)
    # the check has teeth: the same left mesh wound inwards shades differently
    inward = OverlayHand(**{**hands["left"].__dict__, "faces": hands["left"].faces[:, ::-1].copy()})
    rgb_bad, _ = render_mesh_layer([inward], K, (H, W), sh)
    bad = (rgb_bad / albedo("left").astype(np.float32))[:, ::-1]
    assert np.abs(bad[inside] - s_r[inside]).max() > 0.05


def test_overlay_draws_meshes_boxes_and_labels(hands):
    image = np.full((H, W, 3), 40, np.uint8)
    plain = draw_predictions(image, list(hands.values()), K, render_meshes=False)
    full = draw_predictions(image, list(hands.values()), K)
    assert full.shape == plain.shape == (H, W, 3) and full.dtype == np.uint8
    assert (plain != 40).any(axis=-1).sum() > 50  # skeletons, boxes, labels
    rgb, alpha = render_mesh_layer(list(hands.values()), K, (H, W))
    covered = alpha > 0.99
    assert covered.sum() > 100 and (full[covered] != plain[covered]).any()
    # label boxes in the side colours
    assert (full == np.array(SIDE_COLOURS["right"], np.uint8)).all(-1).any()
    assert (full == np.array(SIDE_COLOURS["left"], np.uint8)).all(-1).any()


def test_huge_images_are_capped(hands):
    image = np.zeros((300, 400, 3), np.uint8)
    out = draw_predictions(image, [], None, max_side=100)
    assert out.shape == (75, 100, 3)
