"""Decoding on hand-built maps: peaks, threshold, sides, offsets, NMS, empty maps, hand models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from smhr.data.synth.backgrounds import ProceduralBackgrounds
from smhr.data.training.dataset import DatasetConfig, HandDataset, collate_hands
from smhr.data.compose.paste import PasteConfig, compose_image
from smhr.data.datasets.toy import toy_sample
from smhr.model.camera import camera_from_root
from smhr.model.config import ModelConfig
from smhr.model.decode import decode, gather_at, heatmap_nms, snap_keypoints, top_centers
from smhr.model.heads import HeadMaps, num_params, params_layout, params_rest

H = W = 16
STRIDE = 4
CFG = ModelConfig(width=0.25, input_size=H * STRIDE, max_hands=5, score_threshold=0.3)


def logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def blank_maps(b: int = 1, rotation: str = "rot6d") -> HeadMaps:
    """Maps of a network that sees nothing: low centre scores, rest parameters everywhere."""
    params = params_rest(rotation)[None, :, None, None].expand(b, num_params(rotation), H, W).clone()
    return HeadMaps(
        center=torch.full((b, 2, H, W), -8.0), center_offset=torch.zeros(b, 2, H, W), params=params,
        keypoint_heatmap=torch.full((b, 21, H, W), -8.0), keypoint_offset=torch.zeros(b, 42, H, W),
        appearance=torch.zeros(b, 30, H, W),
    )


def test_gather_at_reads_the_cells() -> None:
    maps = torch.randn(2, 5, H, W)
    index = torch.tensor([[0, 17, 255], [3, 3, 100]])
    got = gather_at(maps, index)
    assert got.shape == (2, 3, 5)
    for b in range(2):
        for k in range(3):
            y, x = divmod(int(index[b, k]), W)
            assert_close(got[b, k], maps[b, :, y, x])


def test_peaks_sides_threshold_and_order(hand_models) -> None:
    maps = blank_maps()
    maps.center[0, 1, 4, 6] = logit(0.9)   # right hand at (x=6, y=4)
    maps.center[0, 0, 11, 2] = logit(0.6)  # left hand at (x=2, y=11)
    maps.center[0, 1, 8, 13] = logit(0.2)  # below the threshold
    pred = decode(maps, hand_models[::-1], CFG)
    assert pred.mask.tolist() == [[True, True, False, False, False]]
    background = torch.sigmoid(torch.tensor(-8.0))  # the other side's channel at those cells
    assert_close(pred.score[0, :2], 1 - (1 - torch.tensor([0.9, 0.6])) * (1 - background))
    assert pred.side[0, :2].tolist() == [1, 0]
    # A lower threshold admits the third peak; top_k caps the count.
    assert int(decode(maps, hand_models[::-1], CFG, score_threshold=0.1).mask.sum()) == 3
    assert int(decode(maps, hand_models[::-1], CFG, score_threshold=0.1, top_k=2).mask.sum()) == 2
    assert_close(pred.center[0, 0], torch.tensor([6.0, 4.0]) * STRIDE + 1.5)


def test_offsets_move_the_centre(hand_models) -> None:
    maps = blank_maps()
    maps.center[0, 0, 5, 9] = 3.0
    maps.center_offset[0, :, 5, 9] = torch.tensor([0.25, -0.4])
    pred = decode(maps, hand_models[::-1], CFG)
    u = (9 + 0.25 + 0.5) * STRIDE - 0.5
    v = (5 - 0.4 + 0.5) * STRIDE - 0.5
    assert_close(pred.center[0, 0], torch.tensor([u, v]))


def test_nms_suppresses_a_neighbour_but_not_a_distant_peak() -> None:
    heat = torch.zeros(1, 2, H, W)
    heat[0, 1, 6, 6] = 0.9
    heat[0, 1, 6, 7] = 0.8    # neighbour of the first: suppressed
    heat[0, 0, 7, 6] = 0.85   # the other side's channel, adjacent cell: also suppressed (one hand per place)
    heat[0, 1, 6, 9] = 0.7    # two cells away: kept
    logits = torch.logit(heat.clamp(1e-6, 1 - 1e-6))
    centers = top_centers(logits, top_k=4, score_threshold=0.5, nms_kernel=3)
    assert centers.mask.tolist() == [[True, True, False, False]]
    assert centers.index[0, :2].tolist() == [6 * W + 6, 6 * W + 9]
    kept = heatmap_nms(heat[:, 1:], 3)
    assert kept[0, 0, 6, 7] == 0 and kept[0, 0, 6, 6] == pytest.approx(0.9)


def test_a_hand_of_uncertain_side_scores_as_either_channel_firing() -> None:
    """Score 1 - (1 - p_left)(1 - p_right); side = the larger channel; a lone channel scores itself."""
    heat = torch.full((1, 2, H, W), 1e-6)
    heat[0, 0, 3, 3], heat[0, 1, 3, 3] = 0.2, 0.25   # unsure: right by a little
    heat[0, 0, 3, 9] = 0.6                             # sure: left
    centers = top_centers(torch.logit(heat), top_k=2, score_threshold=0.3, nms_kernel=3)
    assert centers.index[0].tolist() == [3 * W + 9, 3 * W + 3]
    assert centers.side[0].tolist() == [0, 1]
    assert_close(centers.score[0], torch.tensor([0.6, 1 - 0.8 * 0.75]), atol=1e-5, rtol=0)
    assert centers.mask[0].tolist() == [True, True]


def test_empty_heatmap_gives_zero_hands(hand_models) -> None:
    pred = decode(blank_maps(b=2), hand_models[::-1], CFG)
    assert not pred.mask.any()
    assert pred.per_image() == [[], []]
    assert not pred.vertices.any() and not pred.score.any()


@pytest.mark.parametrize("rotation", ["rot6d", "axis_angle"])
def test_each_side_goes_through_its_own_model(hand_models, rotation: str) -> None:
    right, left = hand_models
    torch.manual_seed(1)
    cfg = ModelConfig(width=0.25, input_size=H * STRIDE, rotation=rotation)
    maps = blank_maps(rotation=rotation)
    maps.center[0, 0, 4, 4] = 3.0   # left
    maps.center[0, 1, 10, 10] = 2.0  # right
    maps.params[0, :, 4, 4] += 0.2 * torch.randn(num_params(rotation))
    maps.params[0, :, 10, 10] += 0.2 * torch.randn(num_params(rotation))
    pred = decode(maps, (left, right), cfg)
    assert pred.side[0, :2].tolist() == [0, 1]
    for k, model in ((0, left), (1, right)):
        out = model(global_orient=pred.global_orient[0, k:k + 1], hand_pose=pred.hand_pose[0, k:k + 1],
                    betas=pred.betas[0, k:k + 1], transl=pred.transl[0, k:k + 1])
        assert_close(pred.vertices[0, k], out.vertices[0], atol=1e-5, rtol=0)
        assert_close(pred.joints3d[0, k], out.joints[0], atol=1e-5, rtol=0)
    # the other model gives another mesh: the test can tell the sides apart
    wrong = right(global_orient=pred.global_orient[0, :1], hand_pose=pred.hand_pose[0, :1],
                  betas=pred.betas[0, :1], transl=pred.transl[0, :1])
    assert (wrong.vertices[0] - pred.vertices[0, 0]).abs().max() > 1e-3
    # rotations decode as given: 6D rest -> identity, plus the perturbation
    lay = params_layout(rotation)
    if rotation == "axis_angle":
        assert_close(pred.global_orient[0, 0], maps.params[0, lay["global_orient"], 4, 4])


def test_box_is_the_mesh_extent_at_the_detected_centre_and_joints2d_projections(hand_models) -> None:
    maps = blank_maps()
    maps.center[0, 1, 8, 8] = 3.0
    maps.center_offset[0, :, 8, 8] = torch.tensor([0.3, -0.2])
    # the wrist (camera term) 6 px right of the cell: the mesh's own box centre is elsewhere
    cam = params_layout(CFG.rotation)["camera"]
    maps.params[0, cam.start:cam.start + 2, 8, 8] = 6.0 / (CFG.root_offset_scale * CFG.ref_size(64))
    K = torch.tensor([[[90.0, 0.0, 30.0], [0.0, 95.0, 33.0], [0.0, 0.0, 1.0]]])
    pred = decode(maps, hand_models[::-1], CFG, K=K)
    v, j = pred.vertices[0, 0], pred.joints3d[0, 0]
    uv = (v @ K[0].T)[:, :2] / v[:, 2:]
    lo, hi = uv.min(0).values, uv.max(0).values
    center = (torch.tensor([8.3, 7.8]) + 0.5) * STRIDE - 0.5
    assert_close(pred.center[0, 0], center)
    assert_close(pred.box[0, 0], torch.cat([center - (hi - lo) / 2, center + (hi - lo) / 2]))
    assert float((pred.box[0, 0, :2] - lo).abs().max()) > 1.0  # not the mesh's own box
    assert_close(pred.joints2d[0, 0], (j @ K[0].T)[:, :2] / j[:, 2:])
    assert_close(pred.K, K)


def test_local_keypoints_regressed_then_snapped(hand_models) -> None:
    maps = blank_maps()
    maps.center[0, 1, 8, 8] = 3.0
    offsets = torch.zeros(21, 2)
    offsets[:, 0] = torch.linspace(-3, 3, 21)
    offsets[:, 1] = 1.0
    maps.keypoint_offset[0, :, 8, 8] = offsets.flatten()
    regressed = ((torch.tensor([8.0, 8.0]) + offsets + 0.5) * STRIDE - 0.5)
    pred = decode(maps, hand_models[::-1], CFG)
    assert_close(pred.keypoints2d[0, 0], regressed)
    # a confident peak one cell from joint 5's regressed place pulls it there; one far away does not
    cx, cy = int(round(8 + float(offsets[5, 0]))) + 1, 9
    maps.keypoint_heatmap[0, 5, cy, cx] = 3.0
    maps.keypoint_heatmap[0, 6, 0, 0] = 3.0
    snapped = decode(maps, hand_models[::-1], CFG).keypoints2d[0, 0]
    assert_close(snapped[5], torch.tensor([cx, cy]) * STRIDE + 1.5)
    assert_close(snapped[6], regressed[6])
    assert_close(snapped[:5], regressed[:5])
    # the radius counts: with a tiny radius joint 5 stays
    box = torch.tensor([[[0.0, 0.0, 10.0, 10.0]]])
    kept = snap_keypoints(regressed[None, None], box, maps.keypoint_heatmap, STRIDE, 0.1, 0.1, 3)
    assert_close(kept[0, 0], regressed)


def test_hands_at_ground_truth_centres_of_dataset_items(hand_models, tiny_model) -> None:
    rng = np.random.default_rng(0)
    sources = [toy_sample(rng, side="left" if i % 3 == 2 else "right") for i in range(6)]
    paste = PasteConfig(image_size=96, hands_per_image=(0.0, 0.5, 0.5), max_overlap_iou=0.2)
    samples = [compose_image(sources, np.random.default_rng(i), paste, ProceduralBackgrounds()).sample
               for i in range(4)]
    data = HandDataset(samples, DatasetConfig(image_size=64, max_hands=3), train=False)
    batch = collate_hands([data[i] for i in range(len(data))])
    with torch.no_grad():
        maps = tiny_model(batch.image)
    # Write the ground truth into the maps at the centre cells: offsets and the camera term.
    K = batch.K[:, 0]
    b_idx, h_idx = torch.nonzero(batch.center_valid, as_tuple=True)
    cell = torch.stack([batch.center_index % 16, batch.center_index // 16], -1).float()
    cell_px = (cell + 0.5) * 4 - 0.5
    wrist = batch.joints3d[:, :, 0]
    cam = camera_from_root(wrist, cell_px, K[:, None].expand(-1, wrist.shape[1], 3, 3), tiny_model.cfg.ref_size(64),
                           tiny_model.cfg.root_offset_scale, tiny_model.cfg.depth_ref)
    lay = params_layout(tiny_model.cfg.rotation)
    for b, k in zip(b_idx.tolist(), h_idx.tolist()):
        y, x = divmod(int(batch.center_index[b, k]), 16)
        maps.center_offset[b, :, y, x] = batch.center_offset[b, k]
        maps.params[b, lay["camera"], y, x] = cam[b, k]
    pred = tiny_model.hands_at(maps, batch.center_index, batch.side, K, mask=batch.hand_mask)
    assert pred.mask.shape == batch.hand_mask.shape and pred.side.equal(batch.side)
    valid = batch.center_valid
    assert int(valid.sum()) >= 5 and set(batch.side[valid].tolist()) == {0, 1}
    box_center = (batch.bbox[..., :2] + batch.bbox[..., 2:]) / 2
    assert_close(pred.center[valid], box_center[valid], atol=1e-4, rtol=0)
    assert_close(pred.joints3d[valid][:, 0], wrist[valid], atol=1e-5, rtol=0)
    # gradients reach the parameter head through the gathered cells
    maps = tiny_model.train()(batch.image)
    tiny_model.hands_at(maps, batch.center_index, batch.side, K, mask=batch.hand_mask).joints2d[valid].sum().backward()
    grad = tiny_model.heads.towers["params"][-1].weight.grad
    assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_padded_slots_of_an_image_without_hands_stay_finite(tiny_model) -> None:
    # Collated batches give an image without hands a zero K; its padded slots must not leak NaN.
    x = torch.randn(2, 3, 64, 64)
    maps = tiny_model.train()(x)
    K = torch.zeros(2, 3, 3)
    K[0] = torch.tensor([[80.0, 0.0, 32.0], [0.0, 80.0, 32.0], [0.0, 0.0, 1.0]])
    index = torch.tensor([[40, 0], [0, 0]])
    side = torch.tensor([[1, 0], [0, 0]])
    mask = torch.tensor([[True, False], [False, False]])
    pred = tiny_model.hands_at(maps, index, side, K, mask=mask)
    assert torch.isfinite(pred.joints2d).all() and torch.isfinite(pred.vertices).all()
    assert not pred.vertices[~mask].any() and pred.vertices[0, 0].abs().sum() > 0
    pred.joints2d[mask].sum().backward()
    grads = [p.grad for p in tiny_model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
