"""FreiHAND and HO3D (v2, v3): joints + meshes, as their official ``eval.py`` scores them.

The ground truth's vertex count V is its hand model's (778 for MANO; smhr's procedural hand has
its own): predictions with V vertices are meshes of the same topology, compared vertex to vertex,
exactly as the official script compares MANO's 778 with 778.

Official mode reproduces, per sample and then over the set:

* unaligned and Procrustes-aligned joint and vertex errors fed to ``EvalUtil`` (per-point means,
  then the mean over points; PCK ``<=`` over ``np.linspace(0, 0.05, 100)``, AUC by
  ``np.trapz`` normalised by the range);
* ``align_w_scale`` for joints and vertices *separately* (mirror solutions allowed);
* when predicted meshes do not have the ground truth's vertex count, ``align_by_trafo`` with the
  joints' trafo (its quirks kept) and mesh errors reported as -1, as the official script;
* F-scores at 5 and 15 mm between the meshes, unaligned and aligned (strict ``<``);
* HO3D only: ``align_sc_tr`` (scale from wrist -> middle MCP, translation of the wrist).

Strict mode differs only in the alignment: proper rotations (det +1) and a consistent transfer
of the joints' similarity to non-MANO vertices.
"""

from __future__ import annotations

import numpy as np
from tqdm import tqdm

from smhr.eval import align
from smhr.eval.metrics import eval_util_measures, fscores, point_errors
from smhr.eval.result import Mode, PckCurve, ProtocolResult

AUC_MIN_M, AUC_MAX_M, AUC_STEPS = 0.0, 0.05, 100
"""Thresholds of every PCK curve in FreiHAND/HO3D ``eval.py``: ``get_measures(0.0, 0.05, 100)``."""
F_THRESHOLDS_M: tuple[float, float] = (0.005, 0.015)
"""F-score thresholds (5 mm and 15 mm) of FreiHAND/HO3D ``eval.py``."""
HO3D_ROOT, HO3D_SCALE_REF = 0, 4
"""``align_sc_tr`` indices in HO3D order: the wrist and the middle finger's MCP."""
MM = 1000.0


def _fscores(gt: np.ndarray, pred: np.ndarray, chunk: int, progress: bool, label: str) -> np.ndarray:
    out = np.empty((gt.shape[0], len(F_THRESHOLDS_M)))
    for lo in tqdm(range(0, gt.shape[0], chunk), desc=label, disable=not progress, unit="chunk"):
        out[lo : lo + chunk] = fscores(gt[lo : lo + chunk], pred[lo : lo + chunk], F_THRESHOLDS_M)
    return out


def evaluate_mesh_benchmark(
    gt_joints: np.ndarray,
    gt_verts: np.ndarray,
    pred_joints: np.ndarray,
    pred_verts: np.ndarray,
    mode: Mode = "official",
    scale_translation: bool = False,
    chunk: int = 4096,
    progress: bool = False,
) -> ProtocolResult:
    """Scores joints and meshes as FreiHAND's (and, with ``scale_translation``, HO3D's) ``eval.py``.

    Args:
        gt_joints: (N, J, 3) metres.
        gt_verts: (N, V, 3) metres.
        pred_joints: (N, J, 3) metres, same joint order as ``gt_joints``.
        pred_verts: (N, W, 3) metres; W == V is the ground truth's topology, otherwise the joints'
            trafo is used (official rule).
        mode: ``"official"`` (mirror-allowing alignment, official quirks) or ``"strict"``.
        scale_translation: also report HO3D's scale+translation aligned joint error (joints in
            HO3D order: index 0 wrist, 4 middle MCP).
        chunk: samples per nearest-neighbour search (memory ~ chunk * V * 200 bytes).
        progress: show tqdm progress bars.

    Returns:
        A :class:`ProtocolResult`; errors in mm (``mpjpe_mm``, ``pa_mpjpe_mm``, ``mpvpe_mm``,
        ``pa_mpvpe_mm``, medians), AUCs over 0-50 mm, F-scores ``f5``/``f15`` on aligned meshes
        (what papers report) and ``f5_unaligned``/``f15_unaligned``; ``pck`` is the curve of the
        Procrustes-aligned joints (``auc_pa_0_50mm``).
    """
    reflect = mode == "official"
    gt_joints, gt_verts = np.asarray(gt_joints, np.float64), np.asarray(gt_verts, np.float64)
    pred_joints, pred_verts = np.asarray(pred_joints, np.float64), np.asarray(pred_verts, np.float64)
    same_topology = pred_verts.shape[1] == gt_verts.shape[1]

    joints_al = align.align_w_scale(gt_joints, pred_joints, allow_reflection=reflect)
    if same_topology:
        verts_al = align.align_w_scale(gt_verts, pred_verts, allow_reflection=reflect)
    elif reflect:
        trafo = align.procrustes_trafo(gt_joints, pred_joints, allow_reflection=True)
        verts_al = align.align_by_trafo_official(pred_verts, trafo)
    else:
        verts_al = align.align_by_trafo_strict(pred_verts, pred_joints, gt_joints)

    metrics: dict[str, float | int] = {"num_samples": int(gt_joints.shape[0])}
    per_sample: dict[str, np.ndarray] = {}
    pck = None
    sets = [("", gt_joints, pred_joints, "mpjpe"), ("pa_", gt_joints, joints_al, "mpjpe")]
    if same_topology:
        sets += [("", gt_verts, pred_verts, "mpvpe"), ("pa_", gt_verts, verts_al, "mpvpe")]
    if scale_translation:
        st = align.align_sc_tr(gt_joints, pred_joints, HO3D_ROOT, HO3D_SCALE_REF)
        sets.append(("st_", gt_joints, st, "mpjpe"))
    for prefix, gt, pred, what in sets:
        err = point_errors(gt, pred)
        m = eval_util_measures(err, None, AUC_MIN_M, AUC_MAX_M, AUC_STEPS)
        metrics[f"{prefix}{what}_mm"] = m.epe_mean * MM
        metrics[f"{prefix}{what}_median_mm"] = m.epe_median * MM
        kind = "" if what == "mpjpe" else "mesh_"
        metrics[f"auc_{prefix}{kind}0_50mm"] = m.auc
        per_sample[f"{prefix}{what}_mm"] = err.mean(1) * MM
        if prefix == "pa_" and what == "mpjpe":
            pck = PckCurve(m.thresholds, m.pck_curve, "pa_mpjpe")
    if not same_topology:
        for prefix in ("", "pa_"):
            metrics[f"{prefix}mpvpe_mm"] = -1.0
            metrics[f"{prefix}mpvpe_median_mm"] = -1.0
            metrics[f"auc_{prefix}mesh_0_50mm"] = -1.0

    for suffix, pred in (("_unaligned", pred_verts), ("", verts_al)):
        scores = _fscores(gt_verts, pred, chunk, progress, "F-score " + (suffix.strip("_") or "aligned"))
        for k, t in enumerate(F_THRESHOLDS_M):
            name = f"f{round(t * MM)}{suffix}"
            metrics[name] = float(np.mean(scores[:, k]))
            per_sample[name] = scores[:, k]
    return ProtocolResult(metrics=metrics, per_sample=per_sample, sample_ids=[str(i) for i in range(len(gt_joints))],
                          pck=pck)
