"""Keypoint snapping over the top NMS peaks gives what the search over every cell gave."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from smhr.model.decode import cell_to_pixel, heatmap_nms, index_to_cell, snap_keypoints


def snap_all_cells(keypoints2d, box, keypoint_logits, stride, threshold, radius, nms_kernel):
    """The former implementation: distances to every heatmap cell (the reference)."""
    b, j, h, w = keypoint_logits.shape
    heat = heatmap_nms(torch.sigmoid(keypoint_logits), nms_kernel).reshape(b, j, -1)
    peaks = cell_to_pixel(index_to_cell(torch.arange(h * w), w).to(keypoints2d.dtype), stride)
    dist = (keypoints2d[..., None, :] - peaks).norm(dim=-1)
    reach = radius * (box[..., 2:] - box[..., :2]).amax(-1)
    ok = (heat[:, None] >= threshold) & (dist <= reach[..., None, None])
    best, arg = dist.masked_fill(~ok, float("inf")).min(-1)
    return torch.where(torch.isfinite(best)[..., None], peaks[arg], keypoints2d)


def random_case(seed: int, peaks_per_channel: int, b: int = 2, k: int = 5, size: int = 24):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(b, 21, size, size, generator=g) - 6.0  # background far below the threshold
    for _ in range(peaks_per_channel):
        y, x = torch.randint(0, size, (2, b, 21), generator=g)
        logits[torch.arange(b)[:, None], torch.arange(21), y, x] = torch.rand(b, 21, generator=g) * 4.0 - 1.0
    kp = torch.rand(b, k, 21, 2, generator=g) * 4 * size
    lo = torch.rand(b, k, 2, generator=g) * 2 * size
    box = torch.cat([lo, lo + 10 + torch.rand(b, k, 2, generator=g) * 2 * size], -1)
    return kp, box, logits


@pytest.mark.parametrize("seed", range(6))
def test_top_peaks_equal_every_cell_when_few_peaks(seed) -> None:
    kp, box, logits = random_case(seed, peaks_per_channel=8)
    args = (4, 0.1, 0.3, 3)
    new, old = snap_keypoints(kp, box, logits, *args), snap_all_cells(kp, box, logits, *args)
    assert_close(new, old)
    assert (new != kp).any()  # some keypoints were snapped: the case is not trivial


def test_many_peaks_equal_with_enough_candidates() -> None:
    g = torch.Generator().manual_seed(7)
    logits = torch.randn(1, 21, 16, 16, generator=g)  # dozens of peaks over the threshold per channel
    kp = torch.rand(1, 3, 21, 2, generator=g) * 64
    box = torch.tensor([[[0.0, 0.0, 40.0, 40.0]]]).expand(1, 3, 4)
    args = (4, 0.1, 0.3, 3)
    assert_close(snap_keypoints(kp, box, logits, *args, max_peaks=16 * 16), snap_all_cells(kp, box, logits, *args))
