"""Crops for the two-stage baseline: square boxes around hands, the image->crop pixel map, cutting.

A crop is an axis-aligned box ``[x0, y0, x1, y1]`` in the image's continuous pixel coordinates
(:mod:`smhr.geometry.camera`'s convention: pixel centres at integers, so the whole W x H image is
``(-0.5, -0.5, W - 0.5, H - 0.5)``), resized to ``c x c`` pixels. The map from image pixels to crop
pixels is the affine ``A`` of :func:`crop_transform`, ``u_crop = sx * u - sx * x0 - 0.5`` (exactly
:func:`smhr.geometry.camera.crop_resize_intrinsics`, as a matrix so it batches over crops and
inverts): the crop's intrinsics are ``A @ K``, so a hand decoded through the crop's camera lands in
the original camera frame, and crop pixels map back to the image with ``A^-1``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

CROP_MARGIN = 1.25
"""A crop's side is this times the longer side of the hand's box (context around the hand)."""


def square_boxes(box: torch.Tensor, margin: float = CROP_MARGIN) -> torch.Tensor:
    """Square boxes with the same centres, side ``margin`` x the longer side.

    Args:
        box: (..., 4) ``[x0, y0, x1, y1]`` px.
        margin: enlargement of the longer side.

    Returns:
        (..., 4) px; a degenerate box gets a side of at least 1 px.
    """
    center = (box[..., :2] + box[..., 2:]) / 2.0
    half = (margin * (box[..., 2:] - box[..., :2]).amax(-1, keepdim=True)).clamp(min=1.0) / 2.0
    return torch.cat([center - half, center + half], -1)


def crop_transform(box: torch.Tensor, crop_size: int) -> torch.Tensor:
    """The affine map from image pixels to the pixels of ``box`` resized to ``crop_size``.

    Args:
        box: (N, 4) crop boxes ``[x0, y0, x1, y1]`` px (edge coordinates).
        crop_size: c.

    Returns:
        (N, 3, 3) ``A`` with ``[u_c, v_c, 1] = A @ [u, v, 1]``; the crop's intrinsics are ``A @ K``.
    """
    x0, y0, x1, y1 = box.unbind(-1)
    sx, sy = crop_size / (x1 - x0), crop_size / (y1 - y0)
    A = torch.zeros(box.shape[:-1] + (3, 3), dtype=box.dtype, device=box.device)
    A[..., 0, 0], A[..., 0, 2] = sx, -sx * x0 - 0.5
    A[..., 1, 1], A[..., 1, 2] = sy, -sy * y0 - 0.5
    A[..., 2, 2] = 1.0
    return A


def apply_affine(A: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Maps (N, ..., 2) pixels with (N, 3, 3) affine maps (one per leading index)."""
    lin = A[:, None, :2, :2].reshape(A.shape[0], *([1] * (points.dim() - 2)), 2, 2)
    shift = A[:, :2, 2].reshape(A.shape[0], *([1] * (points.dim() - 2)), 2)
    return (lin @ points[..., None])[..., 0] + shift


def crop_images(images: torch.Tensor, image_index: torch.Tensor, box: torch.Tensor, crop_size: int) -> torch.Tensor:
    """Cuts boxes out of a batch of images and resizes them (bilinear, zeros outside the image).

    Crop pixel ``j`` samples the image at ``u = (j + 0.5) / sx + x0`` (the inverse of
    :func:`crop_transform`); zeros outside are the mean colour of ImageNet-normalised images.

    Args:
        images: (B, C, H, W).
        image_index: (N,) int64, which image each crop comes from.
        box: (N, 4) crop boxes px.
        crop_size: c.

    Returns:
        (N, C, c, c).
    """
    h, w = images.shape[-2:]
    x0, y0, x1, y1 = (t[:, None] for t in box.to(images.dtype).unbind(-1))
    j = torch.arange(crop_size, dtype=images.dtype, device=images.device) + 0.5
    u = x0 + j * (x1 - x0) / crop_size  # (N, c) image coordinate of each crop pixel centre
    v = y0 + j * (y1 - y0) / crop_size
    # grid_sample (align_corners=False) puts image pixel centre i at (2 i + 1) / W - 1
    gx = (2.0 * u + 1.0) / w - 1.0
    gy = (2.0 * v + 1.0) / h - 1.0
    n = box.shape[0]
    grid = torch.stack([gx[:, None, :].expand(n, crop_size, crop_size), gy[:, :, None].expand(n, crop_size, crop_size)], -1)
    return F.grid_sample(images[image_index], grid, mode="bilinear", padding_mode="zeros", align_corners=False)
