"""The camera term of the parameter head: the hand root's pixel and depth, read with the image's K.

Per hand the head predicts ``(dx, dy, t_z)`` at its centre cell. With ``R`` the camera's reference
size in pixels (``model.camera_ref_size``, 128 by default), ``c`` the centre cell's pixel
(``(cell + 0.5) * stride - 0.5``) and ``f`` the image's focal length (mean of ``fx, fy``):

* the root (wrist, joint 0) projects to ``u = c + (dx, dy) * root_offset_scale * R`` pixels;
* its depth is ``z = exp(t_z) * depth_ref * f / R`` metres.

``t_z`` thus predicts the hand's *apparent size in pixels* (``z * R / f``, what the image shows),
and K turns it into metres; zero outputs put the wrist of a mean hand (about 0.18 m long) at the
cell, spanning about ``0.45 R`` pixels. ``R`` is a fixed number of pixels, not the input size ``S``:
a convolutional head sees a hand's size in pixels, so a 60-pixel hand gets the same ``t_z`` in a
96-pixel single-hand crop and in a 192-pixel multi-hand image (with ``R = S`` the same output meant
twice the pixels at twice the input, and a network trained on one size misread the other).
Checkpoints written before ``camera_ref_size`` existed decode with ``R = S``. The translation follows
by unprojecting ``u`` at depth ``z`` with K (:func:`root_from_camera`); :func:`camera_from_root` is
its inverse (training targets, tests).

Images without K get :func:`default_intrinsics`: principal point at the image centre and the
focal length of :func:`default_focal`.
"""

from __future__ import annotations

import math

import torch

from smhr.geometry.camera import unproject

DEFAULT_FOV_DEG = 60.0
"""Field of view (degrees, across the image side) assumed for an image given without K."""


def default_focal(image_size: int | float) -> float:
    """Focal length in pixels of a camera with a :data:`DEFAULT_FOV_DEG` field of view.

    ``f = S / (2 tan(fov / 2))`` (about ``0.866 S`` for 60 degrees). Only metric depth depends on
    it: projections to the image do not.

    Args:
        image_size: S, the side of the (square) network input in pixels.
    """
    return float(image_size) / (2.0 * math.tan(math.radians(DEFAULT_FOV_DEG) / 2.0))


def default_intrinsics(image_size: int, batch: int = 1, dtype: torch.dtype = torch.float32,
                       device: torch.device | str | None = None) -> torch.Tensor:
    """K of an S x S input with :func:`default_focal` and the principal point at the centre.

    Returns:
        (batch, 3, 3); the centre is ``(S - 1) / 2`` (pixel centres at integers).
    """
    f = default_focal(image_size)
    c = (image_size - 1) / 2.0
    K = torch.tensor([[f, 0.0, c], [0.0, f, c], [0.0, 0.0, 1.0]], dtype=dtype, device=device)
    return K.expand(batch, 3, 3).clone()


def _focal(K: torch.Tensor) -> torch.Tensor:
    return (K[..., 0, 0] + K[..., 1, 1]) / 2.0


def root_from_camera(camera: torch.Tensor, cell_px: torch.Tensor, K: torch.Tensor, ref_size: int,
                     root_offset_scale: float, depth_ref: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Decodes the camera term into the root's pixel and its camera-frame position.

    Args:
        camera: (..., 3) ``(dx, dy, t_z)``.
        cell_px: (..., 2) pixel of the centre cell.
        K: (..., 3, 3) the image's intrinsics.
        ref_size: R, the camera's reference size in pixels (``model.camera_ref_size``).
        root_offset_scale: see :class:`~smhr.model.config.ModelConfig`.
        depth_ref: metres.

    Returns:
        ``(root_px (..., 2), root (..., 3) metres)``.
    """
    root_px = cell_px + camera[..., :2] * (root_offset_scale * ref_size)
    z = torch.exp(camera[..., 2]) * depth_ref * _focal(K) / ref_size
    root = unproject(root_px[..., None, :], z[..., None], K)[..., 0, :]
    return root_px, root


def camera_from_root(root: torch.Tensor, cell_px: torch.Tensor, K: torch.Tensor, ref_size: int,
                     root_offset_scale: float, depth_ref: float) -> torch.Tensor:
    """Inverse of :func:`root_from_camera`: the camera term that puts the root at ``root``.

    Args:
        root: (..., 3) metres, camera frame (z > 0).
        cell_px: (..., 2) pixel of the centre cell.
        K: (..., 3, 3) (zero skew, as :func:`~smhr.geometry.camera.unproject`).
        ref_size: R, the camera's reference size in pixels (``model.camera_ref_size``).
        root_offset_scale: see :class:`~smhr.model.config.ModelConfig`.
        depth_ref: metres.

    Returns:
        (..., 3) ``(dx, dy, t_z)``.
    """
    z = root[..., 2]
    u = K[..., 0, 0] * root[..., 0] / z + K[..., 0, 2]
    v = K[..., 1, 1] * root[..., 1] / z + K[..., 1, 2]
    d = (torch.stack([u, v], -1) - cell_px) / (root_offset_scale * ref_size)
    t_z = torch.log(z * ref_size / (depth_ref * _focal(K)))
    return torch.cat([d, t_z[..., None]], -1)
