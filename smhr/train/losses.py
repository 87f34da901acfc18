"""SMHR's training losses: small pure functions of per-hand predictions, targets and explicit masks.

Every loss returns a scalar tensor and is **masked**: padded hand slots (``hand_mask`` False) and
invisible or invalid joints contribute nothing, whatever values they hold (the official code
regresses padded slots toward zero; we never do). Each is normalised by the number of terms that
count, so its scale does not depend on how many hands or joints a batch happens to have; a batch
where nothing counts gives exactly 0 (with a gradient path, so DDP sees every parameter used).

Units: pixels for 2D, metres for 3D, radians for angles. Letters: B images, H hand slots, J = 21
joints (OpenPose order, :mod:`smhr.hand.joints`), V vertices, h x w heatmap or image cells.

Which losses read what (the weak/full separation): only the functions under "Full supervision"
read 3D ground truth (``joints3d``, ``verts3d``, MANO parameters). Everything above them reads 2D
labels, masks or the image, which is what a weak variant may use.
"""

from __future__ import annotations

import torch

from smhr.geometry.rotations import axis_angle_to_matrix
from smhr.hand.joints import OPENPOSE_BONES, WRIST

_BONE_PARENT = torch.tensor([p for p, _ in OPENPOSE_BONES])
_BONE_CHILD = torch.tensor([c for _, c in OPENPOSE_BONES])


def _masked_mean(values: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``sum(w * v) / max(sum(w), 1)``; ``values`` and ``weight`` broadcast to the same shape.

    Masked-out entries are zeroed with ``where`` (not multiplied) so a NaN in a padded slot cannot
    leak into the result or its gradient.
    """
    weight = weight.to(values.dtype).expand_as(values)
    kept = torch.where(weight > 0, values, torch.zeros_like(values))
    return (kept * weight).sum() / weight.sum().clamp(min=1.0)


# --- Localisation: centres, handedness, local keypoints -------------------------------------


def focal_heatmap_loss(logits: torch.Tensor, target: torch.Tensor, alpha: float = 2.0, beta: float = 4.0) -> torch.Tensor:
    """CenterNet's penalty-reduced pixel-wise focal loss (Zhou et al. 2019, eq. 1).

    Used for the 2-channel centre heatmap (left, right: handedness is the channel) and for the
    21 keypoint heatmaps.

    Args:
        logits: (B, C, h, w) raw scores (sigmoid inside, computed stably with ``logsigmoid``).
        target: (B, C, h, w) Gaussian-splatted targets in [0, 1], exactly 1 at each peak.
        alpha: focusing exponent.
        beta: penalty reduction near peaks, ``(1 - target) ** beta``.

    Returns:
        Scalar: the summed loss divided by the number of peaks (at least 1).
    """
    pos = target.eq(1.0).to(logits.dtype)
    log_p = torch.nn.functional.logsigmoid(logits)
    log_not_p = torch.nn.functional.logsigmoid(-logits)
    p = log_p.exp()
    pos_loss = -((1.0 - p) ** alpha) * log_p * pos
    neg_loss = -((1.0 - target) ** beta) * (p ** alpha) * log_not_p * (1.0 - pos)
    return (pos_loss.sum() + neg_loss.sum()) / pos.sum().clamp(min=1.0)


def offset_loss(pred: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """L1 of the sub-cell centre offset at each hand's centre cell.

    Args:
        pred: (B, H, 2) predicted offsets in output cells (gathered at the centre cells).
        target: (B, H, 2) ``HandBatch.center_offset``.
        valid: (B, H) bool, ``HandBatch.center_valid`` (real hands whose centre is on the grid).

    Returns:
        Scalar: mean absolute error per valid coordinate, in cells.
    """
    return _masked_mean((pred - target).abs(), valid[..., None])


def box_size_loss(pred_log: torch.Tensor, bbox: torch.Tensor, ref_px: float, valid: torch.Tensor) -> torch.Tensor:
    """L1 of the log box size at each hand's centre cell (the two-stage baseline's detector).

    In log space, so that a box 10 % too large costs the same on a small hand as on a large one
    (CenterNet's size loss is L1 in pixels, which favours large hands).

    Args:
        pred_log: (B, H, 2) predicted log box size ``v``, with ``(w, h) = exp(v) * ref_px`` px
            (gathered at the centre cells).
        bbox: (B, H, 4) ground-truth boxes ``[x0, y0, x1, y1]`` px.
        ref_px: the box side of a zero output, px.
        valid: (B, H) bool, real hands whose centre is on the grid.

    Returns:
        Scalar: mean absolute log-size error per valid coordinate (0.1 = about 10 %).
    """
    wh = (bbox[..., 2:] - bbox[..., :2]).clamp(min=1.0)
    return _masked_mean((pred_log - torch.log(wh / ref_px)).abs(), valid[..., None])


def keypoint_loss(pred: torch.Tensor, target: torch.Tensor, visible: torch.Tensor, hand_mask: torch.Tensor,
                  scale: torch.Tensor) -> torch.Tensor:
    """L1 between 2D keypoints, relative to each hand's size.

    Serves the local keypoint offsets (centre + offset vs ``joints2d``) and the 2D reprojection of
    the hand model's joints through the predicted camera (:func:`reprojection_loss`). Dividing by
    the hand's size makes a 5 px error on a 40 px hand weigh what 20 px weigh on a 160 px hand.

    Args:
        pred: (B, H, J, 2) predicted keypoints, px.
        target: (B, H, J, 2) ``joints2d``, px.
        visible: (B, H, J) bool, annotated and visible joints.
        hand_mask: (B, H) bool, real hands.
        scale: (B, H) hand size in px (e.g. the longer side of ``bbox``); clamped at 1 px.

    Returns:
        Scalar: mean of ``|pred - target| / scale`` over visible joints of real hands and both axes.
    """
    weight = (visible & hand_mask[..., None])[..., None]
    err = (pred - target).abs() / scale.clamp(min=1.0)[..., None, None]
    return _masked_mean(err, weight)


def box_size(bbox: torch.Tensor) -> torch.Tensor:
    """(..., 4) ``[x0, y0, x1, y1]`` -> (...) the longer side, px (the normaliser of 2D losses)."""
    return torch.maximum(bbox[..., 2] - bbox[..., 0], bbox[..., 3] - bbox[..., 1])


# --- Weak supervision through the hand model -------------------------------------------------


def reprojection_loss(joints2d_pred: torch.Tensor, joints2d: torch.Tensor, visible: torch.Tensor,
                      hand_mask: torch.Tensor, bbox: torch.Tensor) -> torch.Tensor:
    """2D reprojection: the hand model's 21 joints projected with the predicted camera vs ``joints2d``.

    Args:
        joints2d_pred: (B, H, J, 2) ``project(joints3d_pred, K)``, px.
        joints2d: (B, H, J, 2) labels, px.
        visible: (B, H, J) bool.
        hand_mask: (B, H) bool.
        bbox: (B, H, 4) ground-truth boxes, px (their longer side normalises the error).

    Returns:
        Scalar, see :func:`keypoint_loss`.
    """
    return keypoint_loss(joints2d_pred, joints2d, visible, hand_mask, box_size(bbox))


def apparent_size_loss(joints2d_pred: torch.Tensor, joints2d: torch.Tensor, visible: torch.Tensor,
                       hand_mask: torch.Tensor, min_radius_px: float = 1.0) -> torch.Tensor:
    """Apparent 2D size: ``|log r_pred - log r_label|``, r the RMS distance of the visible joints from their mean.

    Why it exists: while the global rotation is still wrong, :func:`reprojection_loss` (any
    per-joint distance) is smallest for a hand shrunk to a point at its root, so on its own it
    drives the camera depth away (measured: the mean hand's root ends 67x too far after the
    cpu profile's ``reproject`` stage) and, the projected hand being tiny, starves the rotation of
    gradient. The joint cloud's spread is observable from 2D labels alone and, in log, is a
    well-conditioned target for the depth term ``t_z`` (``d log r / d t_z = -1``) whatever the
    rotation; it moves the rotation only through foreshortening. Both radii use the same visible
    joints, so an invisible joint's value changes nothing; a hand with a single visible joint (zero
    spread) does not count and sends no NaN back (the variance is clamped before its square root).

    Args:
        joints2d_pred: (B, H, J, 2) px, the hand model's joints through the predicted camera.
        joints2d: (B, H, J, 2) labels, px.
        visible: (B, H, J) bool.
        hand_mask: (B, H) bool.
        min_radius_px: hands whose labelled radius is smaller (fewer than two distinct visible
            joints) do not count.

    Returns:
        Scalar: mean over counted hands of the absolute log-ratio of the radii.
    """
    w = (visible & hand_mask[..., None]).to(joints2d.dtype)[..., None]
    count = w.sum(-2, keepdim=True).clamp(min=1.0)

    def radius(points: torch.Tensor) -> torch.Tensor:
        points = torch.where(w > 0, points, torch.zeros_like(points))
        centre = (points * w).sum(-2, keepdim=True) / count
        variance = ((points - centre).square().sum(-1, keepdim=True) * w).sum(-2) / count[..., 0, :]
        return variance.clamp(min=1e-6).sqrt()[..., 0]

    r_gt = radius(joints2d)
    counted = hand_mask & (r_gt >= min_radius_px)
    r_pred = radius(joints2d_pred)
    err = (r_pred.log() - r_gt.clamp(min=min_radius_px).log()).abs()
    return _masked_mean(err, counted)


def bone_direction_loss(joints2d_pred: torch.Tensor, joints2d: torch.Tensor, visible: torch.Tensor,
                        hand_mask: torch.Tensor, min_length_px: float = 1.0) -> torch.Tensor:
    """Squared distance between predicted and labelled 2D unit bone directions.

    Scale- and translation-free, so it shapes the finger pose even where the camera is still off.
    A bone counts when both of its joints are visible and its labelled length is at least
    ``min_length_px`` (a zero-length bone has no direction).

    Args:
        joints2d_pred: (B, H, J, 2) px.
        joints2d: (B, H, J, 2) px.
        visible: (B, H, J) bool.
        hand_mask: (B, H) bool.
        min_length_px: shorter labelled bones are ignored.

    Returns:
        Scalar in [0, 4]: mean of ``|u_pred - u_label|^2`` over counted bones.
    """
    parent, child = _BONE_PARENT.to(joints2d.device), _BONE_CHILD.to(joints2d.device)
    bone_pred = joints2d_pred[..., child, :] - joints2d_pred[..., parent, :]
    bone_gt = joints2d[..., child, :] - joints2d[..., parent, :]
    len_gt = bone_gt.norm(dim=-1)
    counted = visible[..., child] & visible[..., parent] & hand_mask[..., None] & (len_gt >= min_length_px)
    u_pred = bone_pred / bone_pred.norm(dim=-1, keepdim=True).clamp(min=1e-6)
    u_gt = bone_gt / len_gt[..., None].clamp(min=1e-6)
    return _masked_mean(((u_pred - u_gt) ** 2).sum(-1), counted)


def pose_limit_loss(finger_pose: torch.Tensor, side: torch.Tensor, hand_mask: torch.Tensor,
                    frames: torch.Tensor, limits: torch.Tensor) -> torch.Tensor:
    """Squared hinge on anatomical joint angles outside their limits (the pose prior).

    Angles are the axis-angle of each finger joint expressed in that joint's anatomical frame
    (flexion, abduction, twist; :func:`smhr.hand.prior.joint_frames`, derived from each model
    file's rest skeleton, so one table of limits serves MANO and the procedural hand, left and
    right). Limits are :data:`smhr.hand.prior.JOINT_LIMITS`, on the *full* pose (hands_mean added).

    Args:
        finger_pose: (B, H, 45) full finger axis-angle (``HandModel.finger_pose``), radians.
        side: (B, H) int64, 0 left, 1 right.
        hand_mask: (B, H) bool.
        frames: (2, 15, 3, 3) joint frames of the left and right model (SIDES order).
        limits: (15, 3, 2) ``[lo, hi]`` radians.

    Returns:
        Scalar: mean over the 45 angles of real hands of ``relu(lo - a)^2 + relu(a - hi)^2``.
    """
    f = frames.to(finger_pose)[side]  # (B, H, 15, 3, 3)
    angles = torch.einsum("bhjd,bhjkd->bhjk", finger_pose.reshape(*finger_pose.shape[:-1], 15, 3), f)
    lo, hi = limits.to(finger_pose)[..., 0], limits.to(finger_pose)[..., 1]
    excess = torch.relu(lo - angles) ** 2 + torch.relu(angles - hi) ** 2
    return _masked_mean(excess, hand_mask[..., None, None])


def pose_regulariser_loss(finger_pose: torch.Tensor, hand_mask: torch.Tensor) -> torch.Tensor:
    """Pose regulariser: mean squared finger rotation away from the hand model's mean pose, rad^2.

    The limits of :func:`pose_limit_loss` leave every anatomically possible pose free; while the
    global rotation is still wrong, 2D reprojection then bends the fingers to absorb it (measured
    on the cpu profile: PA-MPJPE 12.5 -> 31 mm over the ``reproject`` stage once the hand keeps
    its size). This pulls toward the mean so that the fingers move only as far as the 2D
    evidence pays for, the role of the official code's pose regulariser.

    Args:
        finger_pose: (B, H, 45) axis-angle of the 15 finger joints relative to the model's
            ``hands_mean`` (the decoder's ``hand_pose``).
        hand_mask: (B, H) bool.

    Returns:
        Scalar.
    """
    return _masked_mean(finger_pose ** 2, hand_mask[..., None])


def shape_loss(betas: torch.Tensor, hand_mask: torch.Tensor) -> torch.Tensor:
    """Shape regulariser: mean squared shape coefficient of real hands (betas are unit-variance).

    Args:
        betas: (B, H, 10).
        hand_mask: (B, H) bool.

    Returns:
        Scalar.
    """
    return _masked_mean(betas ** 2, hand_mask[..., None])


# --- Weak supervision through the renderer ---------------------------------------------------


def silhouette_loss(alpha: torch.Tensor, mask: torch.Tensor, valid: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Soft-IoU loss between the rendered silhouette and the hands' mask, **with gradient**.

    The official code computes this term on a detached rendering, so it trains nothing; here the
    gradient reaches the vertices through the soft rasteriser (SoftRas, Liu et al. 2019, whose
    IoU loss this is).

    Args:
        alpha: (B, h, w) soft coverage of all predicted hands of each image, in [0, 1].
        mask: (B, h, w) union of the labelled hands' masks in [0, 1] (at the same resolution).
        valid: (B,) bool, images whose every hand has a mask (an unmasked hand would be a false
            "background" for the rendered one).
        eps: guards empty images.

    Returns:
        Scalar: mean over valid images of ``1 - (sum(a m) + eps) / (sum(a + m - a m) + eps)``.
    """
    inter = (alpha * mask).flatten(1).sum(1)
    union = (alpha + mask - alpha * mask).flatten(1).sum(1)
    return _masked_mean(1.0 - (inter + eps) / (union + eps), valid)


def photometric_loss(rgb: torch.Tensor, image: torch.Tensor, region: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """Robust colour difference between the rendering and the image inside the hands' mask.

    The per-pixel norm is Charbonnier's ``sqrt(|d|^2 + eps^2) - eps`` of the RGB difference (an
    L2,1 norm made smooth at 0, robust to specularities and mask errors; zero at the truth).

    Args:
        rgb: (B, h, w, 3) rendered albedo x SH shading, in [0, 1].
        image: (B, h, w, 3) the input image in [0, 1] (before normalisation).
        region: (B, h, w) weights in [0, 1]: the labelled hand masks (times the rendered coverage
            if only pixels the prediction covers should count).
        eps: Charbonnier's smoothing, in colour units.

    Returns:
        Scalar: weighted mean over pixels.
    """
    diff = ((rgb - image) ** 2).sum(-1)
    per_pixel = torch.sqrt(diff + eps * eps) - eps
    return _masked_mean(per_pixel, region)


# --- Consistency between local and global evidence -------------------------------------------


def consistency_loss(global2d: torch.Tensor, local2d: torch.Tensor, hand_mask: torch.Tensor, bbox: torch.Tensor,
                     weight: torch.Tensor | None = None, grad_to: str = "global") -> torch.Tensor:
    """The paper's feature-consistency constraint: local keypoints agree with the re-projected global ones.

    ``local2d`` comes from local features (keypoint heatmaps and per-hand offsets), ``global2d``
    from the hand's global parameters (MANO pose, shape and camera) projected to the image. By
    default the gradient reaches only the global branch (``grad_to="global"``): the local head is
    supervised directly by 2D labels and localises joints better, so it acts as a teacher that
    needs no label, which is what lets the constraint help on joints and hands without 2D labels.
    ``"local"`` reverses it, ``"both"`` lets each pull the other.

    Args:
        global2d: (B, H, J, 2) px, the hand model's joints through the predicted camera.
        local2d: (B, H, J, 2) px, from the local keypoint head.
        hand_mask: (B, H) bool.
        bbox: (B, H, 4) px, boxes whose longer side normalises the error (ground truth in
            training, predicted boxes on unlabelled images).
        weight: (B, H, J) optional per-joint weights (e.g. the local heatmap's confidence).
        grad_to: ``"global"``, ``"local"`` or ``"both"``.

    Returns:
        Scalar, see :func:`keypoint_loss`.
    """
    if grad_to == "global":
        local2d = local2d.detach()
    elif grad_to == "local":
        global2d = global2d.detach()
    elif grad_to != "both":
        raise ValueError(f"consistency_loss: grad_to must be 'global', 'local' or 'both', got {grad_to!r}")
    visible = torch.ones(global2d.shape[:-1], dtype=torch.bool, device=global2d.device)
    if weight is None:
        return keypoint_loss(global2d, local2d, visible, hand_mask, box_size(bbox))
    err = (global2d - local2d).abs() / box_size(bbox).clamp(min=1.0)[..., None, None]
    return _masked_mean(err, (weight * hand_mask[..., None])[..., None])


# --- Full supervision (reads 3D ground truth; never used by a weak variant) -----------------


def joints3d_loss(pred: torch.Tensor, target: torch.Tensor, valid: torch.Tensor, hand_mask: torch.Tensor,
                  root: int = WRIST) -> torch.Tensor:
    """L1 between root-relative 3D joints, metres.

    Root-relative because composed images paste hands from different cameras: only the hand's
    shape and articulation are comparable across them, not its absolute position.

    Args:
        pred: (B, H, J, 3) metres, camera frame.
        target: (B, H, J, 3) ``HandBatch.joints3d``.
        valid: (B, H, J) bool, ``joints3d_valid`` (False where absent; the root must be valid).
        hand_mask: (B, H) bool.
        root: joint subtracted from both.

    Returns:
        Scalar: mean absolute error per valid coordinate, metres.
    """
    rel_pred = pred - pred[..., root: root + 1, :]
    rel_gt = target - target[..., root: root + 1, :]
    weight = valid & valid[..., root: root + 1] & hand_mask[..., None]
    return _masked_mean((rel_pred - rel_gt).abs(), weight[..., None])


def vertex_loss(pred: torch.Tensor, target: torch.Tensor, pred_root: torch.Tensor, target_root: torch.Tensor,
                has_verts: torch.Tensor) -> torch.Tensor:
    """L1 between root-relative mesh vertices, metres.

    Args:
        pred: (B, H, V, 3) metres.
        target: (B, H, V, 3) metres.
        pred_root: (B, H, 3) the predicted root joint.
        target_root: (B, H, 3) the labelled root joint.
        has_verts: (B, H) bool, real hands with labelled vertices.

    Returns:
        Scalar: mean absolute error per coordinate of counted hands, metres.
    """
    diff = (pred - pred_root[..., None, :]) - (target - target_root[..., None, :])
    return _masked_mean(diff.abs(), has_verts[..., None, None])


def mano_param_loss(pose_pred: torch.Tensor, pose: torch.Tensor, betas_pred: torch.Tensor, betas: torch.Tensor,
                    has_mano: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Parameter supervision: rotations compared as matrices (axis-angle is ambiguous), betas as L2.

    Args:
        pose_pred: (B, H, 48) axis-angle (global orientation + 15 finger joints).
        pose: (B, H, 48) labels, same convention.
        betas_pred: (B, H, 10).
        betas: (B, H, 10).
        has_mano: (B, H) bool, real hands with MANO labels.

    Returns:
        (pose_loss, betas_loss): mean squared rotation-matrix entry difference over the 16 joints,
        and mean squared beta difference, over counted hands.
    """
    R_pred = axis_angle_to_matrix(pose_pred.reshape(*pose_pred.shape[:-1], 16, 3))
    R_gt = axis_angle_to_matrix(pose.reshape(*pose.shape[:-1], 16, 3))
    pose_loss = _masked_mean((R_pred - R_gt) ** 2, has_mano[..., None, None, None])
    betas_loss = _masked_mean((betas_pred - betas) ** 2, has_mano[..., None])
    return pose_loss, betas_loss
