"""Second-order spherical-harmonics lighting of Lambertian surfaces, and vertex normals.

Convention (Ramamoorthi & Hanrahan, "An Efficient Representation for Irradiance Environment
Maps", SIGGRAPH 2001). The distant lighting's radiance is ``L(w) = sum_lm L_lm Y_lm(w)`` with
the 9 real SH basis functions of a unit direction ``n = (x, y, z)``:

==========  ================================
index       ``Y_lm(n)``
==========  ================================
0  (0, 0)   0.282095
1  (1,-1)   0.488603 * y
2  (1, 0)   0.488603 * z
3  (1, 1)   0.488603 * x
4  (2,-2)   1.092548 * x * y
5  (2,-1)   1.092548 * y * z
6  (2, 0)   0.315392 * (3 z^2 - 1)
7  (2, 1)   1.092548 * x * z
8  (2, 2)   0.546274 * (x^2 - y^2)
==========  ================================

The irradiance at normal ``n`` is ``E(n) = sum_lm A_l L_lm Y_lm(n)`` with the Lambertian
convolution constants ``A_0 = pi, A_1 = 2 pi / 3, A_2 = pi / 4``, and a surface of albedo
``rho`` reflects ``rho * E(n) / pi``. So uniform unit radiance (``L_00 = 2 sqrt(pi)``, see
:func:`sh_ambient`) reproduces the albedo exactly. Directions are in the camera frame (OpenCV
axes: x right, y down, z forward), so a light "from above" has a negative ``L_1-1``.
No clamping: negative irradiance from a poor SH fit stays negative.
"""

from __future__ import annotations

import math

import torch

SH_CONSTANTS: tuple[float, ...] = (
    0.5 / math.sqrt(math.pi),  # 0.282095
    math.sqrt(3.0 / (4.0 * math.pi)),  # 0.488603
    0.5 * math.sqrt(15.0 / math.pi),  # 1.092548
    0.25 * math.sqrt(5.0 / math.pi),  # 0.315392
    0.25 * math.sqrt(15.0 / math.pi),  # 0.546274
)
"""Normalisation constants of the real SH basis (see the module table)."""

LAMBERT_BANDS: tuple[float, float, float] = (math.pi, 2.0 * math.pi / 3.0, math.pi / 4.0)
"""Lambertian convolution constants A_0, A_1, A_2."""


def sh_basis(normals: torch.Tensor) -> torch.Tensor:
    """The 9 real SH basis functions at unit directions.

    Args:
        normals: (..., 3) unit vectors.

    Returns:
        (..., 9) ``Y_lm(n)`` in the module's order.
    """
    x, y, z = normals.unbind(-1)
    c0, c1, c2, c3, c4 = SH_CONSTANTS
    return torch.stack([
        torch.full_like(x, c0), c1 * y, c1 * z, c1 * x,
        c2 * x * y, c2 * y * z, c3 * (3.0 * z * z - 1.0), c2 * x * z, c4 * (x * x - y * y),
    ], -1)


def _band_weights(ref: torch.Tensor) -> torch.Tensor:
    a0, a1, a2 = (a / math.pi for a in LAMBERT_BANDS)
    return ref.new_tensor([a0, a1, a1, a1, a2, a2, a2, a2, a2])


def sh_shading(normals: torch.Tensor, coefficients: torch.Tensor) -> torch.Tensor:
    """Lambertian shading factor ``E(n) / pi`` per colour channel.

    Args:
        normals: (..., 3) unit normals.
        coefficients: (..., 9, 3) lighting ``L_lm`` per colour channel, broadcast against
            ``normals``' leading dimensions.

    Returns:
        (..., 3) factor the albedo is multiplied by.
    """
    basis = sh_basis(normals) * _band_weights(normals)
    return (basis[..., :, None] * coefficients).sum(-2)


def sh_ambient(dtype: torch.dtype = torch.float32, device: torch.device | str | None = None) -> torch.Tensor:
    """Coefficients of uniform unit radiance, whose shading factor is 1 everywhere.

    Returns:
        (9, 3) with ``L_00 = 2 sqrt(pi)`` and zeros elsewhere.
    """
    out = torch.zeros(9, 3, dtype=dtype, device=device)
    out[0] = 2.0 * math.sqrt(math.pi)
    return out


def vertex_normals(verts: torch.Tensor, faces: torch.Tensor, flip_winding: torch.Tensor | None = None) -> torch.Tensor:
    """Area-weighted unit vertex normals, outward for counter-clockwise winding.

    A face ``(i, j, k)`` has normal ``(v_j - v_i) x (v_k - v_i)``; meshes whose winding is
    mirrored (left hands built by mirroring a right-hand model without reordering faces) pass
    ``flip_winding`` True and get their normals negated.

    Args:
        verts: (B, H, V, 3).
        faces: (F, 3) long or (B, H, F, 3).
        flip_winding: (B, H) bool or None (no flip).

    Returns:
        (B, H, V, 3) unit normals (zero for vertices in no face).
    """
    B, H, V, _ = verts.shape
    if faces.dim() == 2:
        faces = faces.expand(B, H, *faces.shape)
    flat = verts.reshape(B * H * V, 3)
    index = (faces + (torch.arange(B * H, device=verts.device) * V).view(B, H, 1, 1)).reshape(-1, 3)
    v0, v1, v2 = flat[index].unbind(1)
    face_normal = torch.linalg.cross(v1 - v0, v2 - v0)
    normals = torch.zeros_like(flat)
    for corner in range(3):
        normals = normals.index_add(0, index[:, corner], face_normal)
    normals = normals.reshape(B, H, V, 3)
    if flip_winding is not None:
        normals = torch.where(flip_winding[:, :, None, None], -normals, normals)
    return normals / normals.norm(dim=-1, keepdim=True).clamp(min=1e-12)
