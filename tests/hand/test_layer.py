"""HandModel against an independent NumPy forward, and its properties."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from smhr.hand import HandModel, HandOutput
from smhr.hand.model_file import load_model_data
from tests.hand.conftest import reference_forward


def _random_inputs(seed: int, b: int):
    g = torch.Generator().manual_seed(seed)
    return (0.8 * torch.randn(b, 3, generator=g, dtype=torch.float64),
            0.6 * torch.randn(b, 45, generator=g, dtype=torch.float64),
            torch.randn(b, 10, generator=g, dtype=torch.float64),
            0.1 * torch.randn(b, 3, generator=g, dtype=torch.float64))


@pytest.mark.parametrize("which", ["fake_mano", "procedural"])
def test_forward_matches_numpy_reference(which, fake_mano_files, procedural_model_files):
    path = fake_mano_files.right if which == "fake_mano" else procedural_model_files.right
    data = load_model_data(path)
    model = HandModel(data).double()
    go, hp, betas, transl = _random_inputs(0, 3)
    out = model(global_orient=go, hand_pose=hp, betas=betas, transl=transl)
    assert isinstance(out, HandOutput)
    assert out.vertices.shape == (3, data.num_verts, 3) and out.joints.shape == (3, 21, 3)
    for i in range(3):  # tolerance 1e-7: smplx adds 1e-8 inside its Rodrigues
        full = np.concatenate([go[i].numpy(), hp[i].numpy() + data.hands_mean])
        v_ref, j_ref = reference_forward(data, full, betas[i].numpy(), transl[i].numpy())
        torch.testing.assert_close(out.vertices[i], torch.from_numpy(v_ref), rtol=0, atol=1e-7)
        torch.testing.assert_close(out.joints[i], torch.from_numpy(j_ref), rtol=0, atol=1e-7)


def test_pca_and_flat_hand_mean(procedural_right):
    go, hp, betas, _ = _random_inputs(1, 2)
    coeffs = hp[:, :6]
    pca = HandModel(procedural_right, num_pca_comps=6).double()
    flat = HandModel(procedural_right, flat_hand_mean=True).double()
    expanded = coeffs @ torch.from_numpy(procedural_right.hands_components[:6])
    mean = torch.from_numpy(procedural_right.hands_mean)
    a = pca(global_orient=go, hand_pose=coeffs, betas=betas)
    b = flat(global_orient=go, hand_pose=expanded + mean, betas=betas)
    torch.testing.assert_close(a.vertices, b.vertices)
    torch.testing.assert_close(a.full_pose, b.full_pose)


def test_rest_pose_joints_equal_regressor_times_template(procedural_right):
    model = HandModel(procedural_right, flat_hand_mean=True).double()
    out = model()
    expected = torch.from_numpy(procedural_right.J_regressor @ procedural_right.v_template)
    torch.testing.assert_close(out.joints_mano[0], expected)
    torch.testing.assert_close(out.vertices[0], torch.from_numpy(procedural_right.v_template))


def test_translation_equivariance(procedural_right):
    model = HandModel(procedural_right).double()
    go, hp, betas, transl = _random_inputs(2, 4)
    a = model(go, hp, betas)
    b = model(go, hp, betas, transl)
    torch.testing.assert_close(b.vertices, a.vertices + transl[:, None])
    torch.testing.assert_close(b.joints, a.joints + transl[:, None])


def test_defaults_are_zeros_and_float32_works(procedural_right):
    model = HandModel(procedural_right)
    out = model(betas=torch.zeros(2, 10))
    assert out.vertices.dtype == torch.float32 and out.vertices.shape[0] == 2
    torch.testing.assert_close(out.vertices[0], model(hand_pose=torch.zeros(1, 45)).vertices[0])


def test_bad_inputs_raise(procedural_right):
    model = HandModel(procedural_right).double()
    with pytest.raises(ValueError, match="batch sizes disagree"):
        model(global_orient=torch.zeros(2, 3, dtype=torch.float64), betas=torch.zeros(3, 10, dtype=torch.float64))
    with pytest.raises(ValueError, match="NaN"):
        model(hand_pose=torch.full((1, 45), float("nan"), dtype=torch.float64))
    with pytest.raises(ValueError, match=r"hand_pose must be \(B, 45\)"):
        model(hand_pose=torch.zeros(1, 44, dtype=torch.float64))


def test_gradients_flow(procedural_right):
    model = HandModel(procedural_right).double()
    hp = torch.zeros(1, 45, dtype=torch.float64, requires_grad=True)
    model(hand_pose=hp).joints.sum().backward()
    assert torch.isfinite(hp.grad).all() and hp.grad.abs().sum() > 0
