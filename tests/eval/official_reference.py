"""Slow, literal transliterations of the official evaluation scripts, for side-by-side tests.

Written independently of ``smhr.eval``: per-sample Python loops, ``scipy.linalg.
orthogonal_procrustes``, ``scipy.spatial.cKDTree`` in place of open3d's point-cloud distance,
and an ``EvalUtil`` class kept as the official one (lists per keypoint). Sources:
lmb-freiburg/freihand ``eval.py`` + ``utils/eval_util.py``; shreyashampali/ho3d ``eval.py``;
facebookresearch/InterHand2.6M ``data/InterHand2.6M/dataset.py:evaluate``; lmb-freiburg/hand3d
``eval2d.py``, ``eval3d.py``, ``data/BinaryDbReader.py``.

One change to the FreiHAND/HO3D loop: the official script sizes its mesh accumulators
``EvalUtil(num_kp=778)``; here they take the ground truth's vertex count, so the port also
covers the procedural hand's 756-vertex meshes (identical for 778).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import orthogonal_procrustes
from scipy.spatial import cKDTree


class EvalUtil:
    """The official accumulator: one list of distances per keypoint."""

    def __init__(self, num_kp: int = 21):
        self.data = [[] for _ in range(num_kp)]
        self.num_kp = num_kp

    def feed(self, keypoint_gt, keypoint_vis, keypoint_pred):
        keypoint_gt = np.squeeze(keypoint_gt)
        keypoint_pred = np.squeeze(keypoint_pred)
        keypoint_vis = np.squeeze(keypoint_vis).astype("bool")
        diff = keypoint_gt - keypoint_pred
        euclidean_dist = np.sqrt(np.sum(np.square(diff), axis=1))
        for i in range(keypoint_gt.shape[0]):
            if keypoint_vis[i]:
                self.data[i].append(euclidean_dist[i])

    def _get_pck(self, kp_id, threshold):
        if len(self.data[kp_id]) == 0:
            return None
        data = np.array(self.data[kp_id])
        return np.mean((data <= threshold).astype("float"))

    def _get_epe(self, kp_id):
        if len(self.data[kp_id]) == 0:
            return None, None
        data = np.array(self.data[kp_id])
        return np.mean(data), np.median(data)

    def get_measures(self, val_min, val_max, steps):
        thresholds = np.array(np.linspace(val_min, val_max, steps))
        norm_factor = np.trapezoid(np.ones_like(thresholds), thresholds)
        epe_mean_all, epe_median_all, auc_all, pck_curve_all = [], [], [], []
        for part_id in range(self.num_kp):
            mean, median = self._get_epe(part_id)
            if mean is None:
                continue
            epe_mean_all.append(mean)
            epe_median_all.append(median)
            pck_curve = np.array([self._get_pck(part_id, t) for t in thresholds])
            pck_curve_all.append(pck_curve)
            auc_all.append(np.trapezoid(pck_curve, thresholds) / norm_factor)
        return (
            np.mean(np.array(epe_mean_all)),
            np.mean(np.array(epe_median_all)),
            np.mean(np.array(auc_all)),
            np.mean(np.array(pck_curve_all), 0),
            thresholds,
        )


def calculate_fscore(gt, pr, th=0.01):
    d1 = cKDTree(pr).query(gt)[0]  # closest dist for each gt point
    d2 = cKDTree(gt).query(pr)[0]  # closest dist for each pred point
    if len(d1) and len(d2):
        recall = float(sum(d < th for d in d2)) / float(len(d2))
        precision = float(sum(d < th for d in d1)) / float(len(d1))
        if recall + precision > 0:
            return 2 * recall * precision / (recall + precision)
    return 0


def align_w_scale(mtx1, mtx2, return_trafo=False):
    t1 = mtx1.mean(0)
    t2 = mtx2.mean(0)
    mtx1_t = mtx1 - t1
    mtx2_t = mtx2 - t2
    s1 = np.linalg.norm(mtx1_t) + 1e-8
    mtx1_t /= s1
    s2 = np.linalg.norm(mtx2_t) + 1e-8
    mtx2_t /= s2
    R, s = orthogonal_procrustes(mtx1_t, mtx2_t)
    mtx2_t = np.dot(mtx2_t, R.T) * s
    mtx2_t = mtx2_t * s1 + t1
    if return_trafo:
        return R, s, s1, t1 - t2
    return mtx2_t


def align_by_trafo(mtx, trafo):
    t2 = mtx.mean(0)
    mtx_t = mtx - t2
    R, s, s1, t1 = trafo
    return np.dot(mtx_t, R.T) * s * s1 + t1 + t2


def align_sc_tr(mtx1, mtx2):
    pred_curr = mtx2.copy()
    s = np.sqrt(np.sum(np.square(pred_curr[4] - pred_curr[0])))
    if s > 0:
        pred_curr = pred_curr / s
    s_gt = np.sqrt(np.sum(np.square(mtx1[4] - mtx1[0])))
    pred_curr = pred_curr * s_gt
    pred_rel = pred_curr - pred_curr[0:1, :]
    return pred_rel + mtx1[0:1, :]


def freihand_ho3d_eval(xyz_list, verts_list, pred, ho3d=False):
    """The main loop of FreiHAND/HO3D ``eval.py``; returns the numbers it writes to scores.txt (metres)."""
    eval_xyz, eval_xyz_al, eval_xyz_st = EvalUtil(), EvalUtil(), EvalUtil()
    num_verts = len(verts_list[0])
    eval_mesh, eval_mesh_al = EvalUtil(num_kp=num_verts), EvalUtil(num_kp=num_verts)
    f_score, f_score_aligned = [], []
    f_threshs = [0.005, 0.015]
    shape_is_mano = None
    for idx in range(len(xyz_list)):
        xyz, verts = [np.array(x) for x in [xyz_list[idx], verts_list[idx]]]
        xyz_pred, verts_pred = [np.array(x) for x in [pred[0][idx], pred[1][idx]]]
        eval_xyz.feed(xyz, np.ones_like(xyz[:, 0]), xyz_pred)
        if shape_is_mano is None:
            shape_is_mano = verts_pred.shape[0] == verts.shape[0]
        if shape_is_mano:
            eval_mesh.feed(verts, np.ones_like(verts[:, 0]), verts_pred)
        if ho3d:
            eval_xyz_st.feed(xyz, np.ones_like(xyz[:, 0]), align_sc_tr(xyz, xyz_pred))
        xyz_pred_aligned = align_w_scale(xyz, xyz_pred)
        if shape_is_mano:
            verts_pred_aligned = align_w_scale(verts, verts_pred)
        else:
            verts_pred_aligned = align_by_trafo(verts_pred, align_w_scale(xyz, xyz_pred, return_trafo=True))
        eval_xyz_al.feed(xyz, np.ones_like(xyz[:, 0]), xyz_pred_aligned)
        if shape_is_mano:
            eval_mesh_al.feed(verts, np.ones_like(verts[:, 0]), verts_pred_aligned)
        f_score.append([calculate_fscore(verts, verts_pred, t) for t in f_threshs])
        f_score_aligned.append([calculate_fscore(verts, verts_pred_aligned, t) for t in f_threshs])
    out = {}
    for name, util in (("xyz", eval_xyz), ("xyz_al", eval_xyz_al)) + ((("xyz_st", eval_xyz_st),) if ho3d else ()):
        mean, median, auc, _, _ = util.get_measures(0.0, 0.05, 100)
        out[name] = (mean, median, auc)
    if shape_is_mano:
        for name, util in (("mesh", eval_mesh), ("mesh_al", eval_mesh_al)):
            mean, median, auc, _, _ = util.get_measures(0.0, 0.05, 100)
            out[name] = (mean, median, auc)
    f_score, f_score_aligned = np.array(f_score).T, np.array(f_score_aligned).T
    out["f"] = (f_score[0].mean(), f_score[1].mean())
    out["f_al"] = (f_score_aligned[0].mean(), f_score_aligned[1].mean())
    out["f_per_sample"] = f_score_aligned
    return out


def interhand_evaluate(gt_joints, joint_valid, gt_hand_type, hand_type_valid, pred_joints, pred_hand_type):
    """The loop of InterHand2.6M ``Dataset.evaluate`` on camera-frame predictions (any unit)."""
    root = {"right": 20, "left": 41}
    joint_type = {"right": np.arange(0, 21), "left": np.arange(21, 42)}
    mpjpe_sh = [[] for _ in range(42)]
    mpjpe_ih = [[] for _ in range(42)]
    mrrpe = []
    acc_hand_cls = 0
    hand_cls_cnt = 0
    for n in range(len(gt_joints)):
        gt = gt_joints[n].copy()
        pred = pred_joints[n].copy()
        valid = joint_valid[n]
        if gt_hand_type[n] == "interacting" and valid[root["left"]] and valid[root["right"]]:
            pred_rel_root = pred[root["left"]] - pred[root["right"]]
            gt_rel_root = gt[root["left"]] - gt[root["right"]]
            mrrpe.append(float(np.sqrt(np.sum((pred_rel_root - gt_rel_root) ** 2))))
        for h in ("right", "left"):
            pred[joint_type[h]] = pred[joint_type[h]] - pred[root[h], None, :]
            gt[joint_type[h]] = gt[joint_type[h]] - gt[root[h], None, :]
        for j in range(42):
            if valid[j]:
                e = np.sqrt(np.sum((pred[j] - gt[j]) ** 2))
                (mpjpe_sh if gt_hand_type[n] in ("right", "left") else mpjpe_ih)[j].append(e)
        if hand_type_valid[n]:
            p = pred_hand_type[n]
            t = gt_hand_type[n]
            if t == "right" and p[0] > 0.5 and p[1] < 0.5:
                acc_hand_cls += 1
            elif t == "left" and p[0] < 0.5 and p[1] > 0.5:
                acc_hand_cls += 1
            elif t == "interacting" and p[0] > 0.5 and p[1] > 0.5:
                acc_hand_cls += 1
            hand_cls_cnt += 1
    tot = [np.mean(np.concatenate((np.stack(mpjpe_sh[j]), np.stack(mpjpe_ih[j])))) for j in range(42)]
    sh = [np.mean(np.stack(mpjpe_sh[j])) for j in range(42)]
    ih = [np.mean(np.stack(mpjpe_ih[j])) for j in range(42)]
    return {
        "all": np.mean(tot),
        "single": np.mean(sh),
        "interacting": np.mean(ih),
        "mrrpe": sum(mrrpe) / len(mrrpe),
        "handedness": acc_hand_cls / hand_cls_cnt,
    }


def rhd_eval3d(gt_xyz21_palm, pred_xyz21_palm, val_min=0.0, val_max=0.050, steps=20):
    """hand3d ``eval3d.py``: gt centred at the palm, prediction normalised and scaled by gt's bone.

    The official script calls ``get_measures(0.0, 0.050, 20)``; other ranges (the papers'
    20-50 mm) are the same accumulator read with other arguments.
    """
    util = EvalUtil()
    for gt, pred in zip(gt_xyz21_palm, pred_xyz21_palm):
        rel = gt - gt[0, :]
        scale = np.sqrt(np.sum(np.square(rel[12, :] - rel[11, :])))
        p = pred - pred[0, :]
        p = p / np.sqrt(np.sum(np.square(p[12, :] - p[11, :])))
        util.feed(rel, np.ones_like(rel[:, 0]), p * scale)
    return util.get_measures(val_min, val_max, steps)


def rhd_binary_reader_uv21(uv_vis42, hand_parts_mask, use_wrist_coord=False, scale_to_size=False):
    """The 2D part of hand3d ``BinaryDbReader.get`` for one record (no crop, no noise).

    uv stored as float32 and cast to int32 (truncation), palm coordinates unless
    ``use_wrist_coord``, the dominant hand from the part mask (left if it has more pixels),
    and with ``scale_to_size`` the record resized from 320 x 320 to 240 x 320 (v scaled by 0.75).
    """
    num_kp = 42
    keypoint_uv = np.asarray(uv_vis42[:, :2], np.float32).reshape(num_kp, 2).astype(np.int32).astype(np.float32)
    if not use_wrist_coord:
        palm_coord_uv_l = np.expand_dims(0.5 * (keypoint_uv[0, :] + keypoint_uv[12, :]), 0)
        palm_coord_uv_r = np.expand_dims(0.5 * (keypoint_uv[21, :] + keypoint_uv[33, :]), 0)
        keypoint_uv = np.concatenate([palm_coord_uv_l, keypoint_uv[1:21, :], palm_coord_uv_r, keypoint_uv[-20:, :]], 0)
    keypoint_vis = np.asarray(uv_vis42[:, 2]).astype(np.uint8).astype(bool)
    if not use_wrist_coord:
        palm_vis_l = np.expand_dims(np.logical_or(keypoint_vis[0], keypoint_vis[12]), 0)
        palm_vis_r = np.expand_dims(np.logical_or(keypoint_vis[21], keypoint_vis[33]), 0)
        keypoint_vis = np.concatenate([palm_vis_l, keypoint_vis[1:21], palm_vis_r, keypoint_vis[-20:]], 0)
    hand_parts_mask = np.asarray(hand_parts_mask).astype(np.int32)
    one_map, zero_map = np.ones_like(hand_parts_mask), np.zeros_like(hand_parts_mask)
    cond_l = np.logical_and(np.greater(hand_parts_mask, one_map), np.less(hand_parts_mask, one_map * 18))
    cond_r = np.greater(hand_parts_mask, one_map * 17)
    num_px_left_hand = np.sum(np.where(cond_l, one_map, zero_map))
    num_px_right_hand = np.sum(np.where(cond_r, one_map, zero_map))
    cond_left = num_px_left_hand > num_px_right_hand
    keypoint_vis21 = keypoint_vis[:21] if cond_left else keypoint_vis[-21:]
    keypoint_uv21 = keypoint_uv[:21, :] if cond_left else keypoint_uv[-21:, :]
    if scale_to_size:
        s = hand_parts_mask.shape
        scale = (240 / float(s[0]), 320 / float(s[1]))
        keypoint_uv21 = np.stack([keypoint_uv21[:, 0] * scale[1], keypoint_uv21[:, 1] * scale[0]], 1)
    return keypoint_uv21, keypoint_vis21


def rhd_eval2d(uv_vis42_list, masks, pred_uv21_list, use_wrist_coord=False, scale_to_size=False):
    """hand3d ``eval2d.py``'s loop: feed each record's (uv21, vis21) and the predicted 21 points
    (RHD order, in the reader's frame), then ``get_measures(0.0, 30.0, 20)``.

    ``eval2d.py`` runs the reader with ``use_wrist_coord=True, scale_to_size=True``; the defaults
    here are the setting its docstring calls correct (palm, RHD's own 320 x 320 frame).
    """
    util = EvalUtil()
    for uv_vis42, mask, coord_uv_pred in zip(uv_vis42_list, masks, pred_uv21_list):
        kp_uv21_gt, kp_vis = rhd_binary_reader_uv21(uv_vis42, mask, use_wrist_coord, scale_to_size)
        kp_uv21_gt = np.squeeze(kp_uv21_gt)
        kp_vis = np.squeeze(kp_vis)
        scale2orig_res = 1.0
        util.feed(kp_uv21_gt / scale2orig_res, kp_vis, np.asarray(coord_uv_pred) / scale2orig_res)
    return util.get_measures(0.0, 30.0, 20)
