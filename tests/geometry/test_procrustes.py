import numpy as np
from scipy.spatial.transform import Rotation

from smhr.geometry import similarity_align, similarity_transform


def _cloud(seed, n=21):
    return np.random.default_rng(seed).normal(size=(n, 3))


def test_recovers_known_similarity():
    src = _cloud(0)
    R = Rotation.from_rotvec([0.3, -1.2, 0.5]).as_matrix()
    dst = 2.5 * src @ R.T + [0.1, -0.4, 2.0]
    T = similarity_transform(src, dst)
    np.testing.assert_allclose(T.R, R, atol=1e-10)
    np.testing.assert_allclose(T.scale, 2.5)
    np.testing.assert_allclose(similarity_align(src, dst), dst, atol=1e-10)


def test_mirror_only_with_reflection():
    src = _cloud(1)
    dst = src * [-1.0, 1.0, 1.0]
    np.testing.assert_allclose(similarity_align(src, dst, allow_reflection=True), dst, atol=1e-10)
    strict = similarity_align(src, dst, allow_reflection=False)
    assert np.abs(strict - dst).max() > 0.1
    assert np.isclose(np.linalg.det(similarity_transform(src, dst).R), 1.0)


def test_batched_equals_loop():
    src = np.stack([_cloud(s) for s in range(5)])
    dst = np.stack([_cloud(s + 10) for s in range(5)])
    batched = similarity_align(src, dst)
    looped = np.stack([similarity_align(a, b) for a, b in zip(src, dst)])
    np.testing.assert_allclose(batched, looped, atol=1e-12)


def test_optimality_against_perturbation():
    src, dst = _cloud(3), _cloud(4)
    T = similarity_transform(src, dst)
    best = ((T.apply(src) - dst) ** 2).sum()
    rng = np.random.default_rng(5)
    for _ in range(20):
        dR = Rotation.from_rotvec(rng.normal(size=3) * 0.05).as_matrix()
        moved = T.scale * 1.02 * src @ (dR @ T.R).T + T.t
        assert ((moved - dst) ** 2).sum() >= best


def test_orthogonal_procrustes_is_scipys_batched():
    from scipy.linalg import orthogonal_procrustes as scipy_op

    from smhr.geometry.procrustes import orthogonal_procrustes

    a = np.stack([_cloud(s) for s in range(4)])
    b = np.stack([_cloud(s + 20) for s in range(3)] + [_cloud(0) * [-1.0, 1.0, 1.0]])  # the last is a mirror
    R, scale = orthogonal_procrustes(a, b)
    for k in range(4):
        R_ref, s_ref = scipy_op(a[k], b[k])
        np.testing.assert_allclose(R[k], R_ref, atol=1e-12)
        np.testing.assert_allclose(scale[k], s_ref, rtol=1e-12)
    assert np.isclose(np.linalg.det(R[3]), -1.0)
    R_strict, _ = orthogonal_procrustes(a, b, allow_reflection=False)
    np.testing.assert_allclose(np.linalg.det(R_strict), 1.0, atol=1e-12)
    proper = np.linalg.det(R) > 0
    assert proper.any() and not proper.all()
    np.testing.assert_allclose(R_strict[proper], R[proper], atol=1e-12)  # proper solutions are unchanged


def test_similarity_is_built_on_the_same_rotation():
    """One implementation: the similarity's rotation is the transposed Procrustes rotation of the centred sets."""
    from smhr.geometry.procrustes import orthogonal_procrustes

    src, dst = _cloud(6), _cloud(7)
    T = similarity_transform(src, dst)
    R, _ = orthogonal_procrustes(src - src.mean(0), dst - dst.mean(0), allow_reflection=False)
    np.testing.assert_allclose(T.R, R.T, atol=1e-12)
