import math

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from smhr.geometry import (
    axis_angle_to_matrix,
    axis_angle_to_matrix_np,
    matrix_to_axis_angle,
    matrix_to_axis_angle_np,
    matrix_to_rot6d,
    rot6d_to_matrix,
)


def _random_aa(n: int, seed: int, max_angle: float = math.pi - 1e-3) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    axis = torch.nn.functional.normalize(torch.randn(n, 3, generator=g, dtype=torch.float64), dim=-1)
    angle = torch.rand(n, 1, generator=g, dtype=torch.float64) * max_angle
    return axis * angle


def test_matches_scipy():
    aa = _random_aa(200, 0)
    expected = Rotation.from_rotvec(aa.numpy()).as_matrix()
    torch.testing.assert_close(axis_angle_to_matrix(aa), torch.from_numpy(expected))


def test_orthonormal_det_one():
    R = axis_angle_to_matrix(_random_aa(100, 1))
    eye = torch.eye(3, dtype=R.dtype).expand_as(R)
    torch.testing.assert_close(R @ R.transpose(-1, -2), eye)
    torch.testing.assert_close(torch.linalg.det(R), torch.ones(100, dtype=R.dtype))


def test_round_trip_axis_angle():
    aa = _random_aa(300, 2)
    torch.testing.assert_close(matrix_to_axis_angle(axis_angle_to_matrix(aa)), aa, atol=1e-7, rtol=1e-7)


def test_round_trip_near_pi():
    # Angles within 1e-4 of pi: the axis must come from the symmetric part.
    aa = _random_aa(50, 3, max_angle=1.0)
    aa = torch.nn.functional.normalize(aa, dim=-1) * (math.pi - 1e-5)
    R = axis_angle_to_matrix(aa)
    back = axis_angle_to_matrix(matrix_to_axis_angle(R))
    torch.testing.assert_close(back, R, atol=1e-6, rtol=1e-6)


def test_small_angles_and_zero():
    aa = torch.tensor([[0.0, 0.0, 0.0], [1e-9, 0.0, 0.0], [0.0, 2e-5, -1e-5]], dtype=torch.float64)
    R = axis_angle_to_matrix(aa)
    expected = Rotation.from_rotvec(aa.numpy()).as_matrix()
    torch.testing.assert_close(R, torch.from_numpy(expected))
    torch.testing.assert_close(matrix_to_axis_angle(R), aa, atol=1e-12, rtol=0)


def test_gradient_finite_at_zero():
    aa = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    axis_angle_to_matrix(aa).sum().backward()
    assert torch.isfinite(aa.grad).all()
    assert torch.autograd.gradcheck(axis_angle_to_matrix, (_random_aa(4, 4).requires_grad_(),))


def test_rot6d_round_trip_and_projection():
    R = axis_angle_to_matrix(_random_aa(100, 5))
    torch.testing.assert_close(rot6d_to_matrix(matrix_to_rot6d(R)), R)
    # Any 6D input maps onto a proper rotation.
    r6 = torch.randn(100, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    Q = rot6d_to_matrix(r6)
    torch.testing.assert_close(torch.linalg.det(Q), torch.ones(100, dtype=Q.dtype))


def test_numpy_wrappers():
    aa = _random_aa(10, 7).numpy()
    R = axis_angle_to_matrix_np(aa)
    assert isinstance(R, np.ndarray) and R.shape == (10, 3, 3)
    np.testing.assert_allclose(matrix_to_axis_angle_np(R), aa, atol=1e-9)


@pytest.mark.parametrize("shape", [(3,), (2, 5, 3)])
def test_batch_shapes(shape):
    aa = torch.zeros(shape)
    assert axis_angle_to_matrix(aa).shape == shape[:-1] + (3, 3)


def test_matrix_to_axis_angle_gradient_is_finite_at_and_near_identity():
    # The 6D head of smhr.model starts at the identity; acos-based angles gave NaN gradients there.
    torch.manual_seed(0)
    for scale in (0.0, 1e-5, 1e-3):
        r6 = (torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]) + scale * torch.randn(64, 6)).requires_grad_()
        aa = matrix_to_axis_angle(rot6d_to_matrix(r6))
        aa.square().sum().backward()
        assert torch.isfinite(r6.grad).all()
    aa = (1e-3 * torch.randn(16, 3, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(lambda a: matrix_to_axis_angle(axis_angle_to_matrix(a)), (aa,))


def test_numpy_twins_agree_with_the_torch_conversions_everywhere():
    """The data code's NumPy conversions equal the torch ones (small angles, near pi, batches)."""
    from smhr.geometry.rotations import axis_angle_to_matrix_np, matrix_to_axis_angle_np

    rng = np.random.default_rng(0)
    aa = rng.normal(size=(500, 3))
    aa *= rng.uniform(0, np.pi, size=(500, 1)) / np.linalg.norm(aa, axis=1, keepdims=True)
    aa[:5] = [[0, 0, 0], [1e-6, 0, 0], [0, 1e-5, 2e-5], [np.pi, 0, 0], [0, 0, np.pi - 1e-4]]
    R = axis_angle_to_matrix(torch.from_numpy(aa)).numpy()
    np.testing.assert_allclose(axis_angle_to_matrix_np(aa), R, rtol=0, atol=1e-12)
    np.testing.assert_allclose(matrix_to_axis_angle_np(R), matrix_to_axis_angle(torch.from_numpy(R)).numpy(),
                               rtol=0, atol=1e-12)
    assert axis_angle_to_matrix_np(aa[7]).shape == (3, 3) and matrix_to_axis_angle_np(R[7]).shape == (3,)
