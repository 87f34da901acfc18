"""Alignments used by the official hand benchmarks, batched over samples (NumPy, float64).

Each function is a vectorised port of one official routine; the docstring names the file and
function it reproduces and the quirk it keeps. The rotation itself is
:func:`smhr.geometry.procrustes.orthogonal_procrustes` (one implementation); only the official
normalisation and transfer quirks live here. All inputs are (N, P, 3) in metres: N samples,
P points (J joints or V vertices); ``gt`` is the target, ``pred`` is moved.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from smhr.geometry.procrustes import orthogonal_procrustes, similarity_transform

EPS_NORM = 1e-8
"""Added to each Frobenius norm by the official ``align_w_scale`` (FreiHAND and HO3D ``eval.py``)."""


class OfficialTrafo(NamedTuple):
    """The tuple ``align_w_scale(..., return_trafo=True)`` returns, batched.

    Attributes:
        R: (N, 3, 3) orthogonal matrices (``orthogonal_procrustes`` semantics: A @ R ~ B).
        s: (N,) sum of singular values (the scale between the normalised sets).
        s1: (N,) Frobenius norm of the centred ground truth plus 1e-8.
        t: (N, 3) ground-truth centroid minus prediction centroid.
    """

    R: np.ndarray
    s: np.ndarray
    s1: np.ndarray
    t: np.ndarray


def _as64(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _normalised(gt: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, ...]:
    """The official normalisation: centre both sets, divide each by its Frobenius norm + 1e-8.

    Returns:
        ``(a, b, s1, t1, t2)``: (N, P, 3) normalised gt and pred, (N,) gt norm, (N, 3) centroids.
    """
    gt, pred = _as64(gt), _as64(pred)
    t1, t2 = gt.mean(1), pred.mean(1)
    a, b = gt - t1[:, None], pred - t2[:, None]
    s1 = np.linalg.norm(a, axis=(1, 2)) + EPS_NORM
    s2 = np.linalg.norm(b, axis=(1, 2)) + EPS_NORM
    return a / s1[:, None, None], b / s2[:, None, None], s1, t1, t2


def procrustes_trafo(gt: np.ndarray, pred: np.ndarray, allow_reflection: bool = True) -> OfficialTrafo:
    """The similarity of FreiHAND/HO3D ``eval.py:align_w_scale`` (``return_trafo=True``), batched.

    Centre both sets, divide each by its Frobenius norm + 1e-8, orthogonal Procrustes between
    them (:func:`smhr.geometry.procrustes.orthogonal_procrustes`). With ``allow_reflection`` (the
    official behaviour) mirror solutions are accepted.

    Args:
        gt: (N, P, 3) ground truth ("mtx1").
        pred: (N, P, 3) prediction ("mtx2").
        allow_reflection: False gives the strict variant (proper rotation, det +1).

    Returns:
        An :class:`OfficialTrafo`.
    """
    a, b, s1, t1, t2 = _normalised(gt, pred)
    R, s = orthogonal_procrustes(a, b, allow_reflection)
    return OfficialTrafo(R=R, s=s, s1=s1, t=t1 - t2)


def align_w_scale(gt: np.ndarray, pred: np.ndarray, allow_reflection: bool = True) -> np.ndarray:
    """``pred`` aligned to ``gt`` as FreiHAND/HO3D ``eval.py:align_w_scale`` does it, batched.

    ``((pred - mean) / (|pred - mean|_F + 1e-8)) @ R.T * s * s1 + mean(gt)``.

    Args:
        gt: (N, P, 3) ground truth.
        pred: (N, P, 3) prediction.
        allow_reflection: True = official (orthogonal R, mirror allowed); False = strict (det +1).

    Returns:
        (N, P, 3) aligned prediction.
    """
    a, b, s1, t1, _ = _normalised(gt, pred)
    R, s = orthogonal_procrustes(a, b, allow_reflection)
    return np.einsum("npj,nij->npi", b, R) * (s * s1)[:, None, None] + t1[:, None]


def align_by_trafo_official(pred: np.ndarray, trafo: OfficialTrafo) -> np.ndarray:
    """FreiHAND/HO3D ``eval.py:align_by_trafo``: applies a keypoint trafo to non-MANO vertices.

    Quirk kept: the centred vertices are *not* divided by the prediction's norm ``s2`` and the
    translation adds the vertex centroid back (``R, s, s1, t1 = trafo``;
    ``(v - mean v) @ R.T * s * s1 + t1 + mean v``). Only used when predicted meshes do not
    have the ground truth's vertex count.

    Args:
        pred: (N, V, 3) predicted vertices.
        trafo: from :func:`procrustes_trafo` on the keypoints.

    Returns:
        (N, V, 3).
    """
    pred = _as64(pred)
    t2 = pred.mean(1)
    centred = pred - t2[:, None]
    scale = (trafo.s * trafo.s1)[:, None, None]
    return np.einsum("npj,nij->npi", centred, trafo.R) * scale + (trafo.t + t2)[:, None]


def align_by_trafo_strict(pred: np.ndarray, pred_joints: np.ndarray, gt_joints: np.ndarray) -> np.ndarray:
    """The mathematically consistent transfer: the joints' strict similarity applied to vertices.

    This is :func:`smhr.geometry.procrustes.similarity_transform` (proper rotation) estimated on
    the joints and applied to the vertices; no official quirk is involved.

    Args:
        pred: (N, V, 3) predicted vertices.
        pred_joints: (N, J, 3) predicted joints the similarity was estimated from.
        gt_joints: (N, J, 3) ground-truth joints.

    Returns:
        (N, V, 3) vertices moved by the similarity that maps ``pred_joints`` onto ``gt_joints``.
    """
    return similarity_transform(pred_joints, gt_joints, allow_reflection=False).apply(_as64(pred))


def align_sc_tr(gt: np.ndarray, pred: np.ndarray, root: int, ref: int) -> np.ndarray:
    """HO3D ``eval.py:align_sc_tr``: scale by the root->ref bone, then move the root onto gt's.

    Quirk kept: the prediction is divided by its bone length only when that length is > 0
    (all-zero predictions stay zero), exactly as the official ``if s > 0``.

    Args:
        gt: (N, J, 3) ground-truth joints.
        pred: (N, J, 3) predicted joints.
        root: index of the root joint (the wrist; HO3D order index 0).
        ref: index of the joint whose distance to the root sets the scale (HO3D index 4,
            the middle finger's MCP).

    Returns:
        (N, J, 3) aligned prediction.
    """
    gt, pred = _as64(gt), _as64(pred)
    s = np.sqrt(np.sum(np.square(pred[:, ref] - pred[:, root]), axis=-1))
    safe = np.where(s > 0, s, 1.0)
    pred = pred / safe[:, None, None]
    s_gt = np.sqrt(np.sum(np.square(gt[:, ref] - gt[:, root]), axis=-1))
    pred = pred * s_gt[:, None, None]
    return pred - pred[:, root : root + 1] + gt[:, root : root + 1]
