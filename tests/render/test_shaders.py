"""SoftRas coverage, silhouette and blending against hand-computed cases."""

from __future__ import annotations

import math

import torch

from smhr.render.shaders import coverage, soft_blend, soft_silhouette


def test_coverage_is_a_sigmoid_cut_at_the_threshold():
    dist = torch.tensor([[4.0, 0.0, -2.0, -12.0]], dtype=torch.float64)
    valid = torch.tensor([[True, True, True, False]])
    d = coverage(dist, valid, sigma=2.0)
    expected = torch.tensor([[1 / (1 + math.exp(-2.0)), 0.5, 1 / (1 + math.e), 0.0]], dtype=torch.float64)
    torch.testing.assert_close(d, expected)
    cut = coverage(dist, valid, sigma=2.0, threshold=0.3)  # sigmoid(-1) = 0.269 < 0.3
    torch.testing.assert_close(cut, expected * torch.tensor([[1.0, 1.0, 0.0, 0.0]], dtype=torch.float64))
    torch.testing.assert_close(soft_silhouette(d), 1 - (1 - expected).prod(-1))


def test_soft_blend_by_hand():
    gamma, eps, znear, zfar = 0.01, 0.001, 0.1, 10.0
    bg = torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)
    red, green = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]
    colors = torch.tensor([[red, green], [red, green]], dtype=torch.float64)
    d = torch.tensor([[0.8, 0.5], [0.0, 0.0]], dtype=torch.float64)
    zbuf = torch.tensor([[1.0, 1.05], [0.0, 0.0]], dtype=torch.float64)
    out = soft_blend(d, zbuf, colors, bg, gamma, eps, znear, zfar)
    zn = lambda z: (zfar - z) / (zfar - znear)  # noqa: E731
    w = torch.tensor([0.8 * math.exp(zn(1.0) / gamma), 0.5 * math.exp(zn(1.05) / gamma), math.exp(eps / gamma)], dtype=torch.float64)
    expected = (w[0] * colors[0, 0] + w[1] * colors[0, 1] + w[2] * bg) / w.sum()
    torch.testing.assert_close(out[0], expected)
    torch.testing.assert_close(out[1], bg)  # no face: background


def test_a_zero_coverage_face_does_not_swamp_the_blend():
    """A nearer face with zero coverage must neither colour the pixel nor underflow the others."""
    gamma, eps, znear, zfar = 1e-4, 1e-3, 0.01, 10.0
    colors = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    d = torch.tensor([[0.9, 0.0]])
    zbuf = torch.tensor([[0.6, 0.3]])  # the uncovered face is 30 cm nearer: exp(300) apart
    out = soft_blend(d, zbuf, colors, torch.zeros(3), gamma, eps, znear, zfar)
    torch.testing.assert_close(out[0], torch.tensor([1.0, 0.0, 0.0]))
