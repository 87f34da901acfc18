"""Each loss: zero (or minimal) at the truth, smaller after a gradient step from a perturbed
prediction, and blind to padded hand slots and invisible joints whatever they hold."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from smhr.hand.joints import NUM_JOINTS
from smhr.hand.prior import JOINT_LIMITS
from smhr.train import losses as L

B, H, J = 2, 3, NUM_JOINTS
HAND_MASK = torch.tensor([[True, True, False], [True, False, False]])


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _joints2d(g):
    return 40 + 80 * torch.rand(B, H, J, 2, generator=g, dtype=torch.float64)


def _visible(g):
    vis = torch.rand(B, H, J, generator=g) > 0.2
    vis[0, 0, 5] = False  # a known invisible joint of a real hand
    return vis


def _bbox(j2d):
    return torch.cat([j2d.amin(-2) - 5, j2d.amax(-2) + 5], -1)


def _rotation_frames(g):
    q, _ = torch.linalg.qr(torch.randn(2, 15, 3, 3, generator=g, dtype=torch.float64))
    return q


class Case:
    """A loss as a function of one prediction tensor, with the truth and the masked-out places."""

    def __init__(self, name, truth, fn, masked, minimum_is_zero=True):
        self.name, self.truth, self.fn, self.masked, self.minimum_is_zero = name, truth, fn, masked, minimum_is_zero


def _cases() -> list[Case]:
    g = _gen(1)
    j2d, vis = _joints2d(g), _visible(g)
    bbox = _bbox(j2d)
    # places a prediction may hold anything without changing the loss: padded slots, invisible joints
    pad_hand = ~HAND_MASK
    kp_masked = pad_hand[..., None, None].expand(B, H, J, 2) | (~vis)[..., None].expand(B, H, J, 2)
    cases = [
        Case("keypoint", j2d, lambda p: L.keypoint_loss(p, j2d, vis, HAND_MASK, L.box_size(bbox)), kp_masked),
        Case("reprojection", j2d, lambda p: L.reprojection_loss(p, j2d, vis, HAND_MASK, bbox), kp_masked),
        Case("apparent_size", j2d, lambda p: L.apparent_size_loss(p, j2d, vis, HAND_MASK), kp_masked),
        Case("bone_direction", j2d, lambda p: L.bone_direction_loss(p, j2d, vis, HAND_MASK),
             pad_hand[..., None, None].expand(B, H, J, 2) | ((~vis)[..., None].expand(B, H, J, 2) & _isolated(vis))),
        Case("consistency", j2d, lambda p: L.consistency_loss(p, j2d, HAND_MASK, bbox), pad_hand[..., None, None].expand(B, H, J, 2)),
    ]
    offs = torch.rand(B, H, 2, generator=g, dtype=torch.float64) - 0.5
    valid = HAND_MASK.clone()
    cases.append(Case("offset", offs, lambda p: L.offset_loss(p, offs, valid), (~valid)[..., None].expand(B, H, 2)))
    ref = 32.0
    log_wh = torch.log((bbox[..., 2:] - bbox[..., :2]) / ref)  # the prediction that is exactly the box
    cases.append(Case("box_size", log_wh, lambda p: L.box_size_loss(p, bbox, ref, valid),
                      (~valid)[..., None].expand(B, H, 2)))
    betas = torch.zeros(B, H, 10, dtype=torch.float64)
    cases.append(Case("shape", betas, lambda p: L.shape_loss(p, HAND_MASK), pad_hand[..., None].expand(B, H, 10)))
    frames = _rotation_frames(g)
    side = torch.tensor([[0, 1, 1], [1, 0, 0]])
    at_limit = torch.tensor(JOINT_LIMITS[..., 1])  # (15, 3) on the upper limits: any push outward costs
    pose_ok = torch.einsum("jk,bhjkd->bhjd", at_limit, frames[side]).reshape(B, H, 45)
    limits = torch.tensor(JOINT_LIMITS)
    cases.append(Case("pose_limit", pose_ok, lambda p: L.pose_limit_loss(p, side, HAND_MASK, frames, limits),
                      pad_hand[..., None].expand(B, H, 45)))
    j3d = torch.randn(B, H, J, 3, generator=g, dtype=torch.float64) * 0.03 + torch.tensor([0, 0, 0.5], dtype=torch.float64)
    valid3d = torch.rand(B, H, J, generator=g) > 0.1
    valid3d[..., 0] = True
    valid3d[0, 0, 7] = False
    cases.append(Case("joints3d", j3d, lambda p: L.joints3d_loss(p, j3d, valid3d, HAND_MASK),
                      pad_hand[..., None, None].expand(B, H, J, 3) | (~valid3d)[..., None].expand(B, H, J, 3)))
    V = 12
    verts = torch.randn(B, H, V, 3, generator=g, dtype=torch.float64) * 0.05
    root = verts[..., 0, :].clone()
    has = HAND_MASK.clone()
    has[0, 1] = False  # a real hand without labelled vertices
    cases.append(Case("vertex", verts, lambda p: L.vertex_loss(p, verts, root, root, has), (~has)[..., None, None].expand(B, H, V, 3)))
    pose48 = torch.randn(B, H, 48, generator=g, dtype=torch.float64) * 0.5
    b10 = torch.randn(B, H, 10, generator=g, dtype=torch.float64)
    cases.append(Case("mano_pose", pose48, lambda p: L.mano_param_loss(p, pose48, b10, b10, HAND_MASK)[0],
                      pad_hand[..., None].expand(B, H, 48)))
    cases.append(Case("mano_betas", b10, lambda p: L.mano_param_loss(pose48, pose48, p, b10, HAND_MASK)[1],
                      pad_hand[..., None].expand(B, H, 10)))
    mask = (torch.rand(B, 16, 16, generator=g) > 0.5).double()
    img_valid = torch.tensor([True, False])
    cases.append(Case("silhouette", mask, lambda p: L.silhouette_loss(p.clamp(0, 1), mask, img_valid),
                      torch.zeros(B, 16, 16, dtype=torch.bool).index_fill_(0, torch.tensor([1]), True)))
    image = torch.rand(B, 16, 16, 3, generator=g, dtype=torch.float64)
    region = mask.clone()
    cases.append(Case("photometric", image, lambda p: L.photometric_loss(p, image, region),
                      (region == 0)[..., None].expand(B, 16, 16, 3)))
    return cases


def _isolated(vis):
    """Joints whose every bone has an invisible end anyway (changing them cannot matter)."""
    from smhr.hand.joints import OPENPOSE_BONES

    counted = torch.zeros_like(vis)
    for p, c in OPENPOSE_BONES:
        both = vis[..., p] & vis[..., c]
        counted[..., p] |= both
        counted[..., c] |= both
    return (~counted)[..., None].expand(*vis.shape, 2)


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_zero_at_the_truth(case):
    value = case.fn(case.truth)
    assert value.dim() == 0 and torch.isfinite(value)
    assert abs(float(value)) < 1e-9


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_gradient_step_from_a_perturbed_prediction_lowers_it(case):
    g = _gen(7)
    pred = (case.truth + 0.1 * case.truth.abs().mean().clamp(min=0.05) * torch.randn(case.truth.shape, generator=g, dtype=case.truth.dtype))
    pred = pred.clone().requires_grad_(True)
    before = case.fn(pred)
    assert float(before.detach()) > 1e-6, "the perturbation must change the loss"
    (grad,) = torch.autograd.grad(before, pred)
    assert torch.isfinite(grad).all()
    step = 1e-3 * float(before.detach()) / grad.pow(2).sum().clamp(min=1e-30)
    after = case.fn(pred.detach() - step * grad)
    assert float(after) < float(before.detach())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_masked_places_do_not_change_it(case):
    g = _gen(3)
    pred = case.truth + 0.05 * torch.randn(case.truth.shape, generator=g, dtype=case.truth.dtype)
    base = case.fn(pred)
    junk = torch.where(case.masked, torch.full_like(pred, 1e3) * torch.randn(pred.shape, generator=g, dtype=pred.dtype), pred)
    torch.testing.assert_close(case.fn(junk), base)
    nan = torch.where(case.masked, torch.full_like(pred, math.nan), pred)
    if case.name not in ("silhouette",):  # the silhouette case clamps its input first; NaN survives clamp
        torch.testing.assert_close(case.fn(nan), base)
    assert case.masked.any() and (~case.masked).any()


def test_nothing_counted_gives_zero_with_a_gradient_path():
    pred = torch.randn(1, 2, J, 2, requires_grad=True)
    loss = L.keypoint_loss(pred, torch.zeros(1, 2, J, 2), torch.ones(1, 2, J, dtype=torch.bool),
                           torch.zeros(1, 2, dtype=torch.bool), torch.ones(1, 2))
    assert float(loss.detach()) == 0.0
    loss.backward()
    assert torch.equal(pred.grad, torch.zeros_like(pred))


def test_apparent_size_is_the_log_ratio_of_spreads_whatever_the_placement():
    """Shifting the prediction costs nothing; scaling it by k about any point costs |log k|."""
    g = _gen(5)
    j2d, vis = _joints2d(g), _visible(g)
    for k in (0.25, 0.5, 2.0):
        pred = (j2d - 17.0) * k + torch.tensor([300.0, -40.0], dtype=j2d.dtype)
        torch.testing.assert_close(L.apparent_size_loss(pred, j2d, vis, HAND_MASK),
                                   torch.tensor(abs(math.log(k)), dtype=j2d.dtype))


def test_apparent_size_of_a_hand_with_one_visible_joint_has_a_finite_gradient():
    """Zero spread (one visible joint): not counted, and no NaN from the square root's derivative at 0."""
    g = _gen(8)
    j2d = _joints2d(g)
    vis = torch.ones(B, H, J, dtype=torch.bool)
    vis[0, 1] = False
    vis[0, 1, 4] = True
    pred = j2d.clone().requires_grad_(True)
    loss = L.apparent_size_loss(pred * 1.5, j2d, vis, HAND_MASK)
    loss.backward()
    assert torch.isfinite(pred.grad).all() and torch.equal(pred.grad[0, 1], torch.zeros_like(pred.grad[0, 1]))
    torch.testing.assert_close(loss, torch.tensor(math.log(1.5), dtype=j2d.dtype))


def test_apparent_size_keeps_a_collapsing_hand_from_paying_off():
    """A wrongly rotated hand: reprojection alone is lower for a hand shrunk to its root, this term is not."""
    g = _gen(6)
    j2d, vis = _joints2d(g), torch.ones(B, H, J, dtype=torch.bool)
    bbox = _bbox(j2d)
    wrong = j2d[..., 0:1, :] - (j2d - j2d[..., 0:1, :]).flip(-1)  # the hand turned about its root
    shrunk = j2d[..., 0:1, :] + 0.05 * (wrong - j2d[..., 0:1, :])
    reproj = [float(L.reprojection_loss(p, j2d, vis, HAND_MASK, bbox)) for p in (wrong, shrunk)]
    size = [float(L.apparent_size_loss(p, j2d, vis, HAND_MASK)) for p in (wrong, shrunk)]
    assert reproj[1] < reproj[0] and size[1] > size[0] + 2.0


def test_focal_loss_prefers_the_target_and_normalises_by_peaks():
    target = torch.zeros(1, 2, 8, 8)
    target[0, 1, 3, 4] = 1.0
    target[0, 1, 2, 4] = target[0, 1, 4, 4] = 0.6
    good = torch.where(target == 1, torch.tensor(6.0), torch.tensor(-6.0))
    bad = -good
    assert float(L.focal_heatmap_loss(good, target)) < 0.01 < float(L.focal_heatmap_loss(bad, target))
    # wrong channel (left instead of right) costs as much as a miss
    swapped = good.flip(1)
    assert float(L.focal_heatmap_loss(swapped, target)) > 1.0
    # two identical images: same normalised loss as one
    torch.testing.assert_close(L.focal_heatmap_loss(bad.repeat(2, 1, 1, 1), target.repeat(2, 1, 1, 1)),
                               L.focal_heatmap_loss(bad, target))
    logits = good.clone().requires_grad_(True)
    before = L.focal_heatmap_loss(logits + torch.randn_like(logits), target)
    assert torch.isfinite(before)


def test_focal_loss_gradient_step_lowers_it():
    g = _gen(5)
    target = torch.zeros(2, 2, 8, 8)
    target[0, 0, 4, 4] = target[1, 1, 2, 6] = 1.0
    logits = torch.randn(2, 2, 8, 8, generator=g).requires_grad_(True)
    before = L.focal_heatmap_loss(logits, target)
    before.backward()
    after = L.focal_heatmap_loss(logits.detach() - 0.1 * logits.grad, target)
    assert float(after) < float(before.detach())


def test_consistency_sends_the_gradient_where_asked():
    g = _gen(2)
    glob = _joints2d(g).requires_grad_(True)
    loc = (_joints2d(g)).requires_grad_(True)
    bbox = _bbox(glob.detach())
    for grad_to, want_g, want_l in (("global", True, False), ("local", False, True), ("both", True, True)):
        glob.grad = loc.grad = None
        L.consistency_loss(glob, loc, HAND_MASK, bbox, grad_to=grad_to).backward()
        assert (glob.grad is not None and glob.grad.abs().sum() > 0) == want_g
        assert (loc.grad is not None and loc.grad.abs().sum() > 0) == want_l
    with pytest.raises(ValueError, match="grad_to"):
        L.consistency_loss(glob, loc, HAND_MASK, bbox, grad_to="nowhere")


def test_pose_limit_is_zero_inside_and_grows_outside():
    frames = torch.eye(3, dtype=torch.float64).expand(2, 15, 3, 3)
    limits = torch.tensor(JOINT_LIMITS)
    side = torch.ones(1, 1, dtype=torch.long)
    mask = torch.ones(1, 1, dtype=torch.bool)
    inside = limits.mean(-1).reshape(1, 1, 45)
    assert float(L.pose_limit_loss(inside, side, mask, frames, limits)) == 0.0
    over = inside.clone()
    over[0, 0, 0] = limits[0, 0, 1] + 0.2  # index MCP flexion 0.2 rad past its limit
    np.testing.assert_allclose(float(L.pose_limit_loss(over, side, mask, frames, limits)), 0.04 / 45)


def test_silhouette_loss_has_a_gradient_through_the_renderer():
    """The official code detaches its silhouette term; ours must move the vertices."""
    from smhr.render import render_hands

    verts = torch.tensor([[[[-0.05, -0.05, 0.5], [0.05, -0.05, 0.5], [0.0, 0.05, 0.5]]]], requires_grad=True)
    faces = torch.tensor([[0, 1, 2]])
    K = torch.tensor([[[[100.0, 0, 16], [0, 100.0, 16], [0, 0, 1]]]])
    mask = torch.zeros(1, 32, 32)
    mask[:, 4:28, 4:28] = 1.0
    out = render_hands(verts, faces, K, torch.ones(1, 1, dtype=torch.bool), (32, 32), mode="soft")
    loss = L.silhouette_loss(out.alpha, mask, torch.ones(1, dtype=torch.bool))
    loss.backward()
    assert verts.grad is not None and verts.grad.abs().sum() > 0


def test_full_supervision_is_root_relative():
    g = _gen(4)
    j3d = torch.randn(B, H, J, 3, generator=g)
    shifted = j3d + torch.tensor([0.3, -0.2, 1.0])
    valid = torch.ones(B, H, J, dtype=torch.bool)
    assert float(L.joints3d_loss(shifted, j3d, valid, HAND_MASK)) < 1e-6
