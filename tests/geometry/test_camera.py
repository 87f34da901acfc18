import numpy as np
import torch

from smhr.geometry import (
    crop_intrinsics,
    crop_resize_intrinsics,
    flip_intrinsics_x,
    project,
    scale_intrinsics,
    unproject,
    weak_perspective_project,
    weak_perspective_to_translation,
)
from smhr.hand.conventions import MIRROR_POINTS

K = np.array([[500.0, 0.0, 112.0], [0.0, 480.0, 100.0], [0.0, 0.0, 1.0]])


def _points(n=30, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.normal(size=(n, 3)) * 0.05
    p[:, 2] += 0.5
    return p


def test_project_known_point():
    uv = project(np.array([[0.1, -0.05, 0.5]]), K)
    np.testing.assert_allclose(uv, [[112 + 500 * 0.2, 100 - 480 * 0.1]])


def test_project_numpy_and_torch_agree_batched():
    p = np.stack([_points(seed=s) for s in range(4)])  # (4, N, 3)
    Ks = np.stack([K * (1 + 0.1 * i) for i in range(4)])
    Ks[:, 2, 2] = 1
    a = project(p, Ks)
    b = project(torch.from_numpy(p), torch.from_numpy(Ks)).numpy()
    np.testing.assert_allclose(a, b)
    assert a.shape == (4, 30, 2)


def test_unproject_inverts_project():
    p = _points()
    np.testing.assert_allclose(unproject(project(p, K), p[:, 2], K), p, atol=1e-12)


def test_scale_intrinsics_matches_pixel_centre_resize():
    p = _points()
    uv = project(p, K)
    uv2 = project(p, scale_intrinsics(K, 0.5, 2.0))
    np.testing.assert_allclose(uv2[:, 0], (uv[:, 0] + 0.5) * 0.5 - 0.5)
    np.testing.assert_allclose(uv2[:, 1], (uv[:, 1] + 0.5) * 2.0 - 0.5)


def test_crop_and_crop_resize():
    p = _points()
    uv = project(p, K)
    np.testing.assert_allclose(project(p, crop_intrinsics(K, 10, 20)), uv - [10, 20])
    # Crop the box (x0, y0, x1, y1) in edge coordinates and resize to 64 x 128 (h, w).
    box = (20.0, 30.0, 84.0, 62.0)
    Kc = crop_resize_intrinsics(K, box, (64, 128))
    sx, sy = 128 / 64, 64 / 32
    # The box's left edge x0 lands on the new image's left edge u = -0.5.
    expected = np.stack([(uv[:, 0] - 20) * sx - 0.5, (uv[:, 1] - 30) * sy - 0.5], -1)
    np.testing.assert_allclose(project(p, Kc), expected)
    # The whole image at the same size is the identity.
    np.testing.assert_allclose(crop_resize_intrinsics(K, (-0.5, -0.5, 223.5, 199.5), (200, 224)), K)


def test_flip_intrinsics_with_mirrored_points():
    p = _points()
    W = 224
    uv = project(p, K)
    uv_flip = project(p * MIRROR_POINTS, flip_intrinsics_x(K, W))
    np.testing.assert_allclose(uv_flip[:, 0], W - 1 - uv[:, 0])
    np.testing.assert_allclose(uv_flip[:, 1], uv[:, 1])


def test_weak_perspective_agrees_with_perspective_at_root():
    f, c = 500.0, np.array([112.0, 112.0])
    scale, trans = np.array([800.0]), np.array([[90.0, 130.0]])
    t = weak_perspective_to_translation(scale, trans, f, c)[0]
    Kp = np.array([[f, 0, c[0]], [0, f, c[1]], [0, 0, 1]])
    tiny = np.array([[0.0, 0.0, 0.0], [1e-4, -2e-4, 0.0]])
    persp = project(tiny + t, Kp)
    weak = weak_perspective_project(tiny[None], scale, trans)[0]
    np.testing.assert_allclose(persp, weak, atol=1e-3)
