"""One entry point per benchmark: read the official files, check them, score them.

``evaluate_files(protocol, pred, gt, options)`` is what ``smhr evaluate`` calls; the per-format
readers and the pure scoring functions are importable on their own for use on arrays.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from smhr.errors import ConfigError, DatasetError
from smhr.eval import interhand, multihand, rhd
from smhr.eval.io import FREIHAND_EVAL_SIZE, HO3D_EVAL_SIZES, check_ho3d_axes, read_mesh_gt, read_mesh_pred
from smhr.eval.mesh_benchmarks import evaluate_mesh_benchmark
from smhr.eval.result import MODES, Mode, ProtocolResult

log = logging.getLogger(__name__)

PROTOCOLS: tuple[str, ...] = ("freihand", "ho3d-v2", "ho3d-v3", "interhand", "rhd", "multihand")


@dataclass(frozen=True)
class EvalOptions:
    """Options of one evaluation run.

    Attributes:
        mode: ``official`` (reproduce the official script, quirks included) or ``strict``
            (proper rotations, consistent transfers).
        match: multi-hand matching criterion, ``iou`` or ``centre``.
        match_threshold: IoU in (0, 1] (for ``iou``) or pixels > 0 (for ``centre``), finite.
        min_score: multi-hand predictions below this score (in [0, 1]) are ignored for
            per-hand metrics.
        progress: show progress bars.
    """

    mode: Mode = "official"
    match: multihand.Criterion = "iou"
    match_threshold: float = 0.5
    min_score: float = 0.0
    progress: bool = False

    def __post_init__(self) -> None:
        """Refuses options that would produce meaningless numbers (the CLI and the API alike).

        Raises:
            ConfigError: unknown mode or criterion, a non-finite or out-of-range threshold or
                ``min_score`` (see :func:`smhr.eval.multihand.check_match_options`).
        """
        if self.mode not in MODES:
            raise ConfigError(f"mode (--mode): {self.mode!r} is not an evaluation mode; use one of {MODES}")
        multihand.check_match_options(self.match, self.match_threshold, self.min_score)


def _interhand_gt_files(gt: Path) -> tuple[Path, Path, Path]:
    if not gt.is_dir():
        raise DatasetError(f"{gt}: pass the directory holding InterHand2.6M_<split>_data.json, _camera.json, _joint_3d.json")
    found = sorted(gt.glob("*_data.json"))
    if len(found) != 1:
        raise DatasetError(f"{gt}: expected exactly one *_data.json, found {len(found)}; keep one split per directory")
    stem = found[0].name[: -len("_data.json")]
    return found[0], gt / f"{stem}_camera.json", gt / f"{stem}_joint_3d.json"


def evaluate_files(protocol: str, pred: str | Path, gt: str | Path, options: EvalOptions = EvalOptions()) -> ProtocolResult:
    """Evaluates a prediction file against a benchmark's ground truth.

    Args:
        protocol: one of :data:`PROTOCOLS`.
        pred: prediction file (``pred.json`` or a CodaLab ``pred.zip`` for FreiHAND/HO3D).
        gt: ground truth: the directory with ``evaluation_xyz.json``/``evaluation_verts.json``
            (FreiHAND, HO3D), the InterHand2.6M annotation directory, RHD's ``evaluation``
            directory, or the multi-hand ground-truth JSON.
        options: see :class:`EvalOptions`.
    """
    pred, gt = Path(pred), Path(gt)
    if protocol in ("freihand", "ho3d-v2", "ho3d-v3"):
        gt_set = read_mesh_gt(gt)
        pred_set = read_mesh_pred(pred, len(gt_set.joints))
        if protocol != "freihand":
            check_ho3d_axes(pred_set, gt_set, pred)
        gt_v, pred_v = gt_set.verts.shape[1], pred_set.verts.shape[1]
        if pred_v != gt_v:
            log.warning(
                "%s: %d vertices per mesh, the ground truth's hand model has %d: mesh errors are reported as -1 "
                "and vertices aligned by the joints' trafo (the official rule for other topologies)", pred, pred_v, gt_v,
            )
        return evaluate_mesh_benchmark(
            gt_set.joints, gt_set.verts, pred_set.joints, pred_set.verts, mode=options.mode,
            scale_translation=protocol != "freihand", progress=options.progress,
        )
    if protocol == "interhand":
        ih_gt = interhand.read_gt(*_interhand_gt_files(gt))
        joints, hand_type = interhand.read_pred(pred, ih_gt.annot_ids)
        return interhand.evaluate(ih_gt, joints, hand_type)
    if protocol == "rhd":
        rhd_gt = rhd.read_gt(gt)
        xyz, uv = rhd.read_pred(pred, len(rhd_gt.ids), rhd_gt.ids)
        return rhd.evaluate(rhd_gt, xyz, uv, mode=options.mode)
    if protocol == "multihand":
        return multihand.evaluate(
            multihand.read_hands(gt, is_pred=False), multihand.read_hands(pred, is_pred=True),
            criterion=options.match, threshold=options.match_threshold, min_score=options.min_score, mode=options.mode,
        )
    raise ValueError(f"unknown protocol {protocol!r}; choose one of {PROTOCOLS}")


def expected_size_note(protocol: str, n: int) -> str:
    """A warning text when a FreiHAND/HO3D ground truth is not the full official split ('' if it is)."""
    full = FREIHAND_EVAL_SIZE if protocol == "freihand" else HO3D_EVAL_SIZES.get(protocol)
    if full is None or n == full:
        return ""
    return f"{n} samples evaluated; the official {protocol} evaluation split has {full}"
