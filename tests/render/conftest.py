"""Mesh fixtures of the renderer tests: icospheres, boxes, random triangles, posed hands."""

from __future__ import annotations

import math

import pytest
import torch

from smhr.hand.layer import HandModel
from smhr.hand.procedural import ProceduralConfig, build_models


def icosphere(subdivisions: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit icosphere, faces wound counter-clockwise seen from outside.

    Returns:
        verts (V, 3) float64, faces (F, 3) long; F = 20 * 4**subdivisions.
    """
    t = (1.0 + math.sqrt(5.0)) / 2.0
    v = torch.tensor([(-1, t, 0), (1, t, 0), (-1, -t, 0), (1, -t, 0), (0, -1, t), (0, 1, t),
                      (0, -1, -t), (0, 1, -t), (t, 0, -1), (t, 0, 1), (-t, 0, -1), (-t, 0, 1)], dtype=torch.float64)
    f = torch.tensor([(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4),
                      (11, 10, 2), (10, 7, 6), (7, 1, 8), (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8),
                      (3, 8, 9), (4, 9, 5), (2, 4, 11), (6, 2, 10), (8, 6, 7), (9, 8, 1)])
    v = v / v.norm(dim=1, keepdim=True)
    for _ in range(subdivisions):
        edges = torch.cat([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]).sort(1).values
        unique, inverse = torch.unique(edges, dim=0, return_inverse=True)
        mid = v[unique].mean(1)
        mid = mid / mid.norm(dim=1, keepdim=True)
        m = inverse.view(3, -1).T + len(v)
        v = torch.cat([v, mid])
        a, b, c = f.T
        ab, bc, ca = m.T
        f = torch.stack([torch.stack([a, ab, ca], 1), torch.stack([b, bc, ab], 1),
                         torch.stack([c, ca, bc], 1), torch.stack([ab, bc, ca], 1)], 1).reshape(-1, 3)
    return v, f


def box() -> tuple[torch.Tensor, torch.Tensor]:
    """Unit cube [-1, 1]^3 as 12 outward-wound triangles: verts (8, 3) float64, faces (12, 3)."""
    v = torch.tensor([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=torch.float64)
    f = torch.tensor([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                      [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]])
    return v, f


def tiny_box_scene() -> tuple[torch.Tensor, ...]:
    """A rotated 4 cm box 0.3 m away in a 10x10 image, with albedo and SH (float64, CPU).

    Returns:
        verts (1, 1, 8, 3), faces (12, 3), K (1, 1, 3, 3), colors (1, 1, 8, 3), sh (1, 1, 9, 3).
    """
    v, f = box()
    gen = torch.Generator().manual_seed(3)
    rot = torch.linalg.qr(torch.randn(3, 3, generator=gen, dtype=torch.float64))[0]
    verts = (0.02 * v @ rot.T + torch.tensor([0.003, -0.002, 0.3], dtype=v.dtype))[None, None]
    K = intrinsics(60.0, (10, 10)).expand(1, 1, 3, 3)
    colors = torch.rand(1, 1, 8, 3, generator=gen, dtype=v.dtype)
    sh = 0.5 * torch.randn(1, 1, 9, 3, generator=gen, dtype=v.dtype)
    sh[..., 0, :] += 3.0
    return verts, f, K, colors, sh


def intrinsics(focal: float, size: tuple[int, int], dtype=torch.float64) -> torch.Tensor:
    """(3, 3) pinhole intrinsics with the principal point at the image centre."""
    h, w = size
    return torch.tensor([[focal, 0.0, (w - 1) / 2], [0.0, focal, (h - 1) / 2], [0.0, 0.0, 1.0]], dtype=dtype)


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=[
    pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")])])
def device(request) -> torch.device:
    """Every renderer test runs on CPU, and on CUDA when there is one."""
    return torch.device(request.param)


@pytest.fixture(scope="session")
def hand_models() -> tuple[HandModel, HandModel]:
    """(right, left) procedural hand layers, float64 (a small pose PCA keeps this fast)."""
    right, left = build_models(ProceduralConfig(pose_samples=400))
    return HandModel(right).double(), HandModel(left).double()


@pytest.fixture(scope="session")
def posed_hands(hand_models) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Four random posed hands, two images of two hands, placed to overlap in the image.

    Returns:
        verts (2, 2, V, 3) float64, faces (F, 3), K (2, 2, 3, 3) for a 96x96 image
        (different focal lengths per hand).
    """
    right, _ = hand_models
    gen = torch.Generator().manual_seed(0)
    pose = 0.4 * torch.randn(4, 45, generator=gen, dtype=torch.float64)
    orient = 0.6 * torch.randn(4, 3, generator=gen, dtype=torch.float64)
    transl = torch.tensor([[-0.04, -0.03, 0.45], [0.0, 0.0, 0.5], [0.02, -0.02, 0.42], [-0.03, 0.01, 0.47]], dtype=torch.float64)
    with torch.no_grad():
        out = right(global_orient=orient, hand_pose=pose, transl=transl)
    verts = out.vertices.view(2, 2, -1, 3)
    # centre each hand's bounding box where we want it
    verts = verts - verts.mean(2, keepdim=True) + transl.view(2, 2, 1, 3)
    focal = torch.tensor([[190.0, 210.0], [200.0, 180.0]], dtype=torch.float64)
    K = intrinsics(1.0, (96, 96)).expand(2, 2, 3, 3).clone()
    K[..., 0, 0] = focal
    K[..., 1, 1] = focal
    return verts, right.faces, K
