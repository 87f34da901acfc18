"""Crop maths of the two-stage baseline: the crop map agrees with the geometry module, cuts are exact."""

from __future__ import annotations

import torch
from torch.testing import assert_close

from smhr.geometry.camera import crop_resize_intrinsics, project
from smhr.model.crops import apply_affine, crop_images, crop_transform, square_boxes


def test_crop_transform_is_crop_resize_intrinsics() -> None:
    K = torch.tensor([[500.0, 0.0, 60.0], [0.0, 480.0, 70.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    boxes = torch.tensor([[10.5, -3.0, 50.5, 37.0], [-0.5, -0.5, 127.5, 127.5]], dtype=torch.float64)
    A = crop_transform(boxes, 32)
    for box, a in zip(boxes, A):
        assert_close(a @ K, crop_resize_intrinsics(K, tuple(box.tolist()), (32, 32)))
    # a point's crop pixel is its image pixel through A, and its projection with the crop's K
    pts = torch.tensor([[[0.01, -0.02, 0.5], [0.03, 0.01, 0.4]]], dtype=torch.float64).expand(2, 2, 3)
    assert_close(apply_affine(A, project(pts, K)), project(pts, A @ K))
    assert_close(apply_affine(torch.linalg.inv(A), apply_affine(A, project(pts, K))), project(pts, K))


def test_square_boxes_keep_centre_and_take_the_longer_side() -> None:
    box = torch.tensor([[10.0, 20.0, 30.0, 60.0]])
    assert_close(square_boxes(box, 1.5), torch.tensor([[-10.0, 10.0, 50.0, 70.0]]))


def test_crop_at_scale_one_copies_pixels_and_a_ramp_is_sampled_exactly() -> None:
    images = torch.arange(2 * 3 * 16 * 16, dtype=torch.float32).reshape(2, 3, 16, 16)
    # box edges on pixel edges, 8 px -> 8 px: an exact copy of image 1's pixels 4..11 x 2..9
    box = torch.tensor([[3.5, 1.5, 11.5, 9.5]])
    crop = crop_images(images, torch.tensor([1]), box, 8)
    assert_close(crop[0], images[1, :, 2:10, 4:12])
    # a linear ramp u + 10 v resampled at half the resolution: bilinear is exact inside the image
    v, u = torch.meshgrid(torch.arange(16.0), torch.arange(16.0), indexing="ij")
    ramp = (u + 10 * v)[None, None]
    box = torch.tensor([[1.5, 1.5, 13.5, 13.5]])
    crop = crop_images(ramp, torch.tensor([0]), box, 6)
    A_inv = torch.linalg.inv(crop_transform(box, 6))
    jj, ii = torch.meshgrid(torch.arange(6.0), torch.arange(6.0), indexing="ij")
    src = apply_affine(A_inv, torch.stack([ii, jj], -1)[None])  # image (u, v) of each crop pixel
    assert_close(crop[0, 0], src[0, ..., 0] + 10 * src[0, ..., 1])
