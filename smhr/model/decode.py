"""Decoding the head maps into hands: pure functions, CenterNet ``ctdet_decode`` style.

Inference (:func:`decode`): sigmoid of the centre logits; per cell the probability that either
side channel fires, ``1 - (1 - p_left)(1 - p_right)``, is the score and the larger channel is the
side (a cell holds one hand); max-pool NMS, top-K cells
and a score threshold, so an image yields 0..K hands and never sees ground truth. Training reads
the same per-hand decoding at ground-truth cells (:func:`hands_at`). Both gather per-cell
features with one helper, :func:`gather_at`.

Per hand (:func:`hands_at`):

* centre: ``(cell + offset + 0.5) * stride - 0.5`` px (:mod:`smhr.data.training.targets`' convention);
* hand parameters: rotations (6D -> matrix -> axis-angle, or axis-angle as is), betas; the
  hand model of the hand's side (left model for left hands) gives vertices and 21 joints;
* translation: the camera term gives the wrist's pixel and depth with the image's K
  (:mod:`smhr.model.camera`), and the mesh is moved so that its wrist joint lands there;
* ``joints2d`` and the box: ``joints3d`` and the vertices projected with K (the box is the
  extent of the projected vertices: no box head);
* local keypoints: the centre cell plus the regressed keypoint offsets. :func:`decode` then
  snaps each to the nearest keypoint-heatmap peak (NMS, score >= ``keypoint_threshold``) within
  ``keypoint_snap`` times the hand box's longer side, CenterNet's ``multi_pose`` decoding
  without its box-inside test; peaks sit at cell centres (there is no keypoint sub-cell head);
* appearance: a per-hand RGB albedo, uniform over the vertices,
  ``sigmoid(logit(albedo_mean) + a)``, and 27 SH coefficients ``sh_ambient() + s`` (9 x 3,
  :mod:`smhr.render.sh`).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from smhr.geometry.camera import project
from smhr.geometry.rotations import matrix_to_axis_angle, rot6d_to_matrix
from smhr.hand.layer import HandModel
from smhr.hand.joints import NUM_JOINTS
from smhr.model.camera import default_intrinsics, root_from_camera
from smhr.model.config import ModelConfig
from smhr.model.heads import NUM_ALBEDO, HeadMaps, params_layout
from smhr.model.outputs import HandPredictions
from smhr.render.sh import sh_ambient


class Centers(NamedTuple):
    """Top-K centre cells of a batch.

    Attributes:
        index: (B, K) int64 flat cell index ``y * w + x``.
        side: (B, K) int64, 0 left, 1 right.
        score: (B, K) float in [0, 1], decreasing along K.
        mask: (B, K) bool, ``score >= score_threshold``.
    """

    index: torch.Tensor
    side: torch.Tensor
    score: torch.Tensor
    mask: torch.Tensor


def gather_at(maps: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Per-cell features at given cells.

    Args:
        maps: (B, C, h, w).
        index: (B, K) int64 flat cell indices ``y * w + x``.

    Returns:
        (B, K, C).
    """
    b, c = maps.shape[:2]
    flat = maps.reshape(b, c, -1)
    return flat.gather(2, index[:, None, :].expand(b, c, index.shape[1])).transpose(1, 2)


def index_to_cell(index: torch.Tensor, width: int) -> torch.Tensor:
    """(...,) flat indices -> (..., 2) float cell coordinates (x, y)."""
    return torch.stack([index % width, torch.div(index, width, rounding_mode="floor")], -1).float()


def cell_to_pixel(cells: torch.Tensor, stride: int) -> torch.Tensor:
    """Cell coordinates -> pixels, ``(cell + 0.5) * stride - 0.5`` (pixel centres at integers)."""
    return (cells + 0.5) * stride - 0.5


def heatmap_nms(heat: torch.Tensor, kernel: int) -> torch.Tensor:
    """Keeps the cells that are the maximum of their ``kernel x kernel`` window, zeros the rest.

    Args:
        heat: (B, C, h, w) scores.
        kernel: odd window size.

    Returns:
        (B, C, h, w).
    """
    hmax = F.max_pool2d(heat, kernel, stride=1, padding=kernel // 2)
    return heat * (hmax == heat).to(heat.dtype)


def top_centers(center_logits: torch.Tensor, top_k: int, score_threshold: float, nms_kernel: int) -> Centers:
    """The K best centre cells of each image.

    Args:
        center_logits: (B, 2, h, w) left/right centre logits.
        top_k: K (at most h * w slots are returned).
        score_threshold: slots scoring below it have ``mask`` False.
        nms_kernel: NMS window.

    Returns:
        :class:`Centers` with K = min(top_k, h * w).
    """
    b, _, h, w = center_logits.shape
    prob = torch.sigmoid(center_logits)
    side = prob.argmax(1)
    # "a hand of either side is here": a network unsure of the side splits one hand's evidence
    # between the channels (0.2 + 0.2 scores 0.36, where the larger channel alone gives 0.2); a
    # confident one scores as its winning channel (0.9 and 0.01 give 0.901)
    score = 1.0 - (1.0 - prob[:, 0]) * (1.0 - prob[:, 1])
    score = heatmap_nms(score[:, None], nms_kernel)[:, 0].reshape(b, -1)
    k = min(top_k, h * w)
    top, index = score.topk(k, dim=1)
    return Centers(index=index, side=side.reshape(b, -1).gather(1, index), score=top,
                   mask=top >= score_threshold)


def rotations_to_axis_angle(rot: torch.Tensor, rotation: str) -> torch.Tensor:
    """(..., n * r) rotations in ``rotation`` representation -> (..., n * 3) axis-angle."""
    if rotation == "axis_angle":
        return rot
    r6 = rot.reshape(rot.shape[:-1] + (-1, 6))
    return matrix_to_axis_angle(rot6d_to_matrix(r6)).flatten(-2)


def split_params(params: torch.Tensor, rotation: str) -> dict[str, torch.Tensor]:
    """Per-hand parameter vectors -> named, rotations as axis-angle.

    Args:
        params: (..., P) gathered ``params`` map.
        rotation: ``rot6d`` or ``axis_angle``.

    Returns:
        ``global_orient (..., 3)``, ``hand_pose (..., 45)``, ``betas (..., 10)``, ``camera (..., 3)``.
    """
    lay = params_layout(rotation)
    return {
        "global_orient": rotations_to_axis_angle(params[..., lay["global_orient"]], rotation),
        "hand_pose": rotations_to_axis_angle(params[..., lay["hand_pose"]], rotation),
        "betas": params[..., lay["betas"]],
        "camera": params[..., lay["camera"]],
    }


def decode_appearance(appearance: torch.Tensor, albedo_mean: tuple[float, float, float],
                      num_verts: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-hand appearance vectors -> per-vertex albedo and SH lighting.

    Args:
        appearance: (..., 30) gathered ``appearance`` map.
        albedo_mean: RGB albedo at a zero output.
        num_verts: V.

    Returns:
        ``albedo (..., V, 3)`` in (0, 1) (uniform over vertices), ``sh (..., 9, 3)``.
    """
    mean = torch.tensor(albedo_mean, dtype=appearance.dtype, device=appearance.device)
    rgb = torch.sigmoid(torch.logit(mean) + appearance[..., :NUM_ALBEDO])
    albedo = rgb[..., None, :].expand(rgb.shape[:-1] + (num_verts, 3))
    sh = sh_ambient(appearance.dtype, appearance.device) + appearance[..., NUM_ALBEDO:].unflatten(-1, (9, 3))
    return albedo, sh


def run_hand_models(hand_models: tuple[HandModel, HandModel] | torch.nn.ModuleList, side: torch.Tensor,
                    mask: torch.Tensor, global_orient: torch.Tensor, hand_pose: torch.Tensor,
                    betas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Poses each hand with the model of its side (no translation); zeros where ``mask`` is False.

    Args:
        hand_models: (left, right).
        side: (B, K) 0 left, 1 right.
        mask: (B, K) bool, which slots to compute.
        global_orient: (B, K, 3); hand_pose: (B, K, 45); betas: (B, K, 10).

    Returns:
        ``vertices (B, K, V, 3)``, ``joints (B, K, 21, 3)`` metres, model frame.
    """
    b, k = side.shape
    v = hand_models[0].num_verts
    verts = global_orient.new_zeros(b * k, v, 3)
    joints = global_orient.new_zeros(b * k, NUM_JOINTS, 3)
    flat_side, flat_mask = side.reshape(-1), mask.reshape(-1)
    for s, model in enumerate(hand_models):
        sel = torch.nonzero((flat_side == s) & flat_mask)[:, 0]
        if sel.numel() == 0:
            continue
        out = model(global_orient=global_orient.reshape(-1, 3)[sel], hand_pose=hand_pose.reshape(-1, 45)[sel],
                    betas=betas.reshape(-1, betas.shape[-1])[sel])
        verts = verts.index_copy(0, sel, out.vertices.to(verts.dtype))
        joints = joints.index_copy(0, sel, out.joints.to(joints.dtype))
    return verts.reshape(b, k, v, 3), joints.reshape(b, k, NUM_JOINTS, 3)


def hands_at(maps: HeadMaps, index: torch.Tensor, side: torch.Tensor, K: torch.Tensor,
             hand_models: tuple[HandModel, HandModel] | torch.nn.ModuleList, cfg: ModelConfig,
             score: torch.Tensor | None = None, mask: torch.Tensor | None = None) -> HandPredictions:
    """Decodes the hands at given cells (ground-truth centres in training, decoded ones at test).

    Args:
        maps: the network's raw maps.
        index: (B, H) int64 flat centre-cell indices (``HandBatch.center_index``).
        side: (B, H) int64, 0 left, 1 right: which hand model each slot goes through.
        K: (B, 3, 3) intrinsics of the network input image.
        hand_models: (left, right) hand models.
        cfg: the model config (rotation, camera constants, albedo mean).
        score: (B, H) scores to report; default: the centre heatmap at the cell, channel ``side``.
        mask: (B, H) bool, the real slots (only those go through the hand model); default all.

    Returns:
        :class:`HandPredictions` with local keypoints *not* snapped (see :func:`decode`);
        slots where ``mask`` is False are zeros.
    """
    w = maps.center.shape[-1]
    if score is None:
        score = torch.sigmoid(gather_at(maps.center, index).gather(2, side[..., None])[..., 0])
    cell = index_to_cell(index, w).to(maps.params.dtype)
    center = cell_to_pixel(cell + gather_at(maps.center_offset, index), cfg.stride)
    return decode_hands(cell, center, gather_at(maps.params, index), gather_at(maps.keypoint_offset, index),
                        gather_at(maps.appearance, index), side, score, K, hand_models, cfg, w * cfg.stride, mask)


def decode_hands(cell: torch.Tensor, center: torch.Tensor, params: torch.Tensor, keypoint_offset: torch.Tensor,
                 appearance: torch.Tensor, side: torch.Tensor, score: torch.Tensor, K: torch.Tensor,
                 hand_models: tuple[HandModel, HandModel] | torch.nn.ModuleList, cfg: ModelConfig,
                 image_size: int, mask: torch.Tensor | None = None) -> HandPredictions:
    """Per-hand head vectors -> hands (the part of :func:`hands_at` after the gather).

    Args:
        cell: (B, H, 2) float cell (x, y) the vectors were read at.
        center: (B, H, 2) px, the centres to report.
        params: (B, H, P) ``params`` vectors; keypoint_offset: (B, H, 42); appearance: (B, H, 30).
        side: (B, H) int64, 0 left, 1 right.
        score: (B, H) scores to report.
        K: (B, 3, 3) the image's intrinsics, or (B, H, 3, 3) one per slot (the two-stage
            baseline's crops).
        hand_models: (left, right); cfg: the model config.
        image_size: S of the image the cells tile (the camera term's scale when
            ``cfg.camera_ref_size`` is None).
        mask: (B, H) bool real slots; default all.

    Returns:
        :class:`HandPredictions`; ``K`` is returned as given.
    """
    b, n = side.shape
    stride = cfg.stride
    K = K.to(params.dtype)
    if mask is None:
        mask = torch.ones_like(side, dtype=torch.bool)
    p = split_params(params, cfg.rotation)
    # Padded slots read an identity camera: an image without hands may come with a zero K, and a
    # division by zero there would leak NaN into the gradients of the real slots.
    eye = torch.eye(3, dtype=K.dtype, device=K.device)
    Kslot = K if K.dim() == 4 else K[:, None].expand(b, n, 3, 3)
    Kh = torch.where(mask[..., None, None], Kslot, eye)
    _, root = root_from_camera(p["camera"], cell_to_pixel(cell, stride), Kh, cfg.ref_size(image_size),
                               cfg.root_offset_scale, cfg.depth_ref)
    verts, joints = run_hand_models(hand_models, side, mask, p["global_orient"], p["hand_pose"], p["betas"])
    transl = root - joints[..., 0, :]
    verts = verts + transl[..., None, :]
    joints = joints + transl[..., None, :]
    box = detection_box(project(verts, Kh), center)
    kp_off = keypoint_offset.unflatten(-1, (NUM_JOINTS, 2))
    albedo, sh = decode_appearance(appearance, cfg.albedo_mean, verts.shape[-2])
    albedo = (albedo[..., :1, :] * mask[..., None, None]).expand_as(albedo)  # zero padded slots, still a view
    return _zero_padded(HandPredictions(
        mask=mask, score=score, side=side, center=center, box=box,
        global_orient=p["global_orient"], hand_pose=p["hand_pose"], betas=p["betas"], transl=transl,
        vertices=verts, joints3d=joints, joints2d=project(joints, Kh),
        keypoints2d=cell_to_pixel(cell[..., None, :] + kp_off, stride), K=K, albedo=albedo, sh=sh,
    ))


def detection_box(verts2d: torch.Tensor, center: torch.Tensor) -> torch.Tensor:
    """A detected hand's box: the projected mesh's width and height, centred on the detected centre.

    The centre head (+ its sub-cell offset) is trained on the labelled box centre, so it is the
    network's direct estimate of where the box is; the projected mesh's own centre is derived
    through the camera term, the rotation and the pose, and is further off while those are poorly
    learned (docs/model.md, "Boxes"). The mesh gives the extent, which no head predicts.

    Args:
        verts2d: (..., V, 2) px, the projected vertices.
        center: (..., 2) px, the detected centres.

    Returns:
        (..., 4) ``[x0, y0, x1, y1]`` px.
    """
    half = (verts2d.amax(-2) - verts2d.amin(-2)) / 2
    return torch.cat([center - half, center + half], -1)


PEAKS_PER_SLOT = 4
"""Snapping looks at the ``PEAKS_PER_SLOT * K`` best NMS peaks of each keypoint channel (K slots)."""


def snap_keypoints(keypoints2d: torch.Tensor, box: torch.Tensor, keypoint_logits: torch.Tensor, stride: int,
                   threshold: float, radius: float, nms_kernel: int, max_peaks: int | None = None) -> torch.Tensor:
    """Moves each regressed keypoint to the nearest keypoint-heatmap peak within a radius.

    Only the ``max_peaks`` highest NMS peaks of each channel are candidates (max-pool NMS, then
    top-k), so the cost does not grow with the heatmap's area. The result equals a search over
    every cell whenever each channel has at most ``max_peaks`` peaks scoring >= ``threshold``
    (and ``threshold > 0``): a trained heatmap has about one per hand. Equal distances go to the
    lower cell index.

    Args:
        keypoints2d: (B, K, 21, 2) px, centre-regressed keypoints.
        box: (B, K, 4) px, each hand's box (sets the radius).
        keypoint_logits: (B, 21, h, w).
        stride: output stride.
        threshold: peaks scoring below it are ignored.
        radius: snapping radius as a fraction of the box's longer side.
        nms_kernel: NMS window of the keypoint heatmaps.
        max_peaks: candidates per channel; default ``PEAKS_PER_SLOT * K``.

    Returns:
        (B, K, 21, 2) px; keypoints without a peak in reach are unchanged.
    """
    b, j, h, w = keypoint_logits.shape
    k = keypoints2d.shape[1]
    heat = heatmap_nms(torch.sigmoid(keypoint_logits), nms_kernel).reshape(b, j, -1)
    p = min(h * w, max_peaks if max_peaks is not None else PEAKS_PER_SLOT * max(k, 1))
    score, index = heat.topk(p, dim=-1, sorted=False)
    index, order = index.sort(-1)  # ascending cell index: ties resolve as in a search over all cells
    score = score.gather(-1, order)
    peaks = cell_to_pixel(index_to_cell(index, w), stride).to(keypoints2d.dtype)  # (B, 21, P, 2)
    dist = (keypoints2d[..., None, :] - peaks[:, None]).norm(dim=-1)  # (B, K, 21, P)
    reach = radius * (box[..., 2:] - box[..., :2]).amax(-1)  # (B, K)
    ok = (score[:, None] >= threshold) & (dist <= reach[..., None, None])
    best, arg = dist.masked_fill(~ok, float("inf")).min(-1)  # (B, K, 21)
    snapped = peaks[:, None].expand(b, k, j, p, 2).gather(3, arg[..., None, None].expand(b, k, j, 1, 2))[..., 0, :]
    return torch.where(torch.isfinite(best)[..., None], snapped, keypoints2d)


def decode(maps: HeadMaps, hand_models: tuple[HandModel, HandModel] | torch.nn.ModuleList, cfg: ModelConfig,
           K: torch.Tensor | None = None, score_threshold: float | None = None,
           top_k: int | None = None) -> HandPredictions:
    """Every hand of each image, from the maps alone.

    Args:
        maps: the network's raw maps (B images).
        hand_models: (left, right).
        cfg: the model config (defaults of the three options below).
        K: (B, 3, 3) intrinsics of the network input; default :func:`default_intrinsics`.
        score_threshold: default ``cfg.score_threshold``.
        top_k: default ``cfg.max_hands``.

    Returns:
        :class:`HandPredictions` with K = min(top_k, h * w) slots, ``mask`` marking the 0..K
        hands that pass the threshold; padded slots are zeros.
    """
    b, _, _, w = maps.center.shape
    thr = cfg.score_threshold if score_threshold is None else score_threshold
    centers = top_centers(maps.center, cfg.max_hands if top_k is None else top_k, thr, cfg.nms_kernel)
    if K is None:
        K = default_intrinsics(w * cfg.stride, b, maps.params.dtype, maps.params.device)
    pred = hands_at(maps, centers.index, centers.side, K, hand_models, cfg, score=centers.score, mask=centers.mask)
    snapped = snap_keypoints(pred.keypoints2d, pred.box, maps.keypoint_heatmap, cfg.stride,
                             cfg.keypoint_threshold, cfg.keypoint_snap, cfg.nms_kernel)
    pred.keypoints2d = torch.where(pred.mask[..., None, None], snapped, torch.zeros_like(snapped))
    return pred


def _zero_padded(pred: HandPredictions) -> HandPredictions:
    """Zeros every per-slot field where ``mask`` is False.

    ``albedo`` is skipped: :func:`decode_hands` zeros it per hand before expanding it over the
    vertices (a view; a ``where`` here would materialise (B, K, V, 3)).
    """
    keep = pred.mask
    for name in ("score", "side", "center", "box", "global_orient", "hand_pose", "betas", "transl",
                 "vertices", "joints3d", "joints2d", "keypoints2d", "sh"):
        t = getattr(pred, name)
        if t is None:
            continue
        m = keep.reshape(keep.shape + (1,) * (t.dim() - 2))
        setattr(pred, name, torch.where(m, t, torch.zeros_like(t)))
    return pred
