"""Conventions written once: fingertip ids, mirroring, left shapedirs fix, camera axes."""

from __future__ import annotations

import numpy as np

from smhr.hand import conventions as C


def test_fingertip_sets_disagree_and_ours_is_freihand():
    sets = [C.FINGERTIPS_SMPLX, C.FINGERTIPS_FREIHAND, C.FINGERTIPS_MANOPTH]
    assert all(s.shape == (5,) and s.max() < C.MANO_NUM_VERTS for s in sets)
    assert not np.array_equal(sets[0], sets[1]) and not np.array_equal(sets[1], sets[2])
    np.testing.assert_array_equal(C.MANO_FINGERTIP_VERTEX_IDS, [744, 320, 443, 555, 672])


def test_fix_left_shapedirs_only_when_buggy():
    rng = np.random.default_rng(0)
    right = rng.normal(size=(20, 3, 10))
    buggy = right * np.array([1.0, -1.0, 1.0])[None, :, None]  # x equal to the right one: the bug
    fixed = C.fix_left_shapedirs(buggy, right)
    np.testing.assert_array_equal(fixed[:, 0], -right[:, 0])
    np.testing.assert_array_equal(C.fix_left_shapedirs(fixed, right), fixed)
    np.testing.assert_array_equal(C.fix_left_shapedirs(buggy)[:, 0], -buggy[:, 0])


def test_mirror_axis_angle_mirrors_rotations():
    rng = np.random.default_rng(1)
    aa = rng.normal(size=3)
    m = np.diag(C.MIRROR_POINTS)

    def rot(v):
        t = np.linalg.norm(v)
        k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]]) / t
        return np.eye(3) + np.sin(t) * k + (1 - np.cos(t)) * k @ k

    np.testing.assert_allclose(rot(C.mirror_axis_angle(aa)), m @ rot(aa) @ m, atol=1e-12)


def test_opengl_to_opencv_flips_y_and_z_and_is_an_involution():
    p = np.array([0.1, 0.2, -1.0])  # in front of an OpenGL camera (looks along -z)
    q = C.OPENGL_TO_OPENCV @ p
    assert q[2] > 0 and q[1] == -0.2
    np.testing.assert_array_equal(C.OPENGL_TO_OPENCV @ C.OPENGL_TO_OPENCV, np.eye(3))
