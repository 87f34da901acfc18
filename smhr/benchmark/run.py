"""One benchmark end to end: predict, write the prediction file, score it, write the outputs together.

The metrics come from :func:`smhr.eval.protocols.evaluate_files` run on the prediction file as
written, i.e. the code path of ``smhr evaluate --pred <bench>_pred.json``, so the two can never
differ. Files written into the output folder (all staged and renamed together, or none)::

    <bench>.json              the protocol's metrics (+ protocol, mode), num_images and, for
                              single-hand protocols, num_no_detection, for multi-hand ones
                              centre_ap and centre_recall (smhr.benchmark.centre_ap: the detected
                              centres alone, not a protocol metric); sorted keys
    <bench>_pck.csv           threshold_mm,pck  (smhr.benchmark.tables)
    <bench>_per_sample.csv    one row per image
    <bench>_pred.json         the prediction file (the input of smhr evaluate --pred)
    <bench>_gt.json           only for the composed set: its multi-hand ground truth (--gt)
"""

from __future__ import annotations

import dataclasses

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from smhr.benchmark import predfiles, tables
from smhr.benchmark.centre_ap import centre_metrics
from smhr.benchmark.predictors import ImagePrediction, Predictor, predict_dataset
from smhr.benchmark.registry import Benchmark, Source
from smhr.errors import DatasetError
from smhr.eval.protocols import EvalOptions, evaluate_files, expected_size_note
from smhr.eval.result import write_metrics
from smhr.outputs import staged_files

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    """Options of a benchmark run.

    Attributes:
        batch_size: images per forward pass.
        evaluation: the protocols' options (``params.yaml:evaluate``, as ``smhr evaluate --params``).
        progress: show a progress bar.
    """

    batch_size: int = 8
    evaluation: EvalOptions = field(default_factory=EvalOptions)
    progress: bool = False


@dataclass
class Outcome:
    """What one benchmark gave.

    Attributes:
        name: the benchmark.
        metrics: the metrics as written (JSON values).
        seconds: wall time of the benchmark (prediction, files and scoring).
        files: the files written.
    """

    name: str
    metrics: dict[str, float | int | str | None]
    seconds: float
    files: list[Path]


def prediction_text(bench: Benchmark, source: Source, preds: list[ImagePrediction], gt_has_verts: bool) -> str:
    """The prediction file of ``bench`` for ``preds`` (:mod:`smhr.benchmark.predfiles`)."""
    if bench.prediction in ("mesh", "ho3d"):
        return predfiles.mesh_pred(preds, ho3d=bench.prediction == "ho3d")
    if bench.prediction == "rhd":
        return predfiles.rhd_pred(preds)
    if bench.prediction == "interhand":
        return predfiles.interhand_pred(preds, source.image_ids)
    return predfiles.multihand_pred(preds, source.image_ids, with_verts=gt_has_verts)


def _hands_per_image(gt: Path) -> dict[str, int]:
    """Labelled hands per image id of a multi-hand ground-truth file."""
    from smhr.eval.multihand import read_hands

    return {image: len(hands) for image, hands in read_hands(gt, is_pred=False).items()}


def run_benchmark(bench: Benchmark, source: Source, predictor: Predictor, out_dir: str | Path,
                  options: RunOptions = RunOptions()) -> Outcome:
    """Runs ``predictor`` on one benchmark and writes its files into ``out_dir`` (see the module docstring).

    Args:
        bench: the benchmark.
        source: it, opened (:attr:`Benchmark.open`).
        predictor: a network or the mean hand (:mod:`smhr.benchmark.predictors`).
        out_dir: the output folder (created).
        options: see :class:`RunOptions`.

    Returns:
        An :class:`Outcome`.

    Raises:
        DatasetError: an empty dataset, or bad ground truth (from the protocol).
        PredictionError: a prediction file the protocol refuses (a bug: reported, never hidden).
    """
    start = time.perf_counter()
    out_dir = Path(out_dir)
    if len(source.dataset) == 0:
        raise DatasetError(f"{bench.name}: the dataset has no images; check its root in params.yaml:benchmark")
    preds = predict_dataset(predictor, source.dataset, bench.gt_camera, options.batch_size, options.progress,
                            bench.name, all_slots=source.protocol == "multihand")
    name = bench.name
    with staged_files() as staged:
        gt, gt_has_verts = source.gt, False
        if gt is None:
            text, gt_has_verts = predfiles.multihand_gt(source.dataset, source.image_ids)
            gt = staged.path(out_dir / f"{name}_gt.json")
            gt.write_text(text)
        pred_path = staged.path(out_dir / f"{name}_pred.json")
        pred_path.write_text(prediction_text(bench, source, preds, gt_has_verts))
        evaluation = options.evaluation
        if source.protocol == "multihand" and preds:  # per-hand metrics at the model's operating point
            evaluation = dataclasses.replace(evaluation, min_score=max(evaluation.min_score, preds[0].threshold))
        result = evaluate_files(source.protocol, pred_path, gt, evaluation)
        note = expected_size_note(source.protocol, int(result.metrics.get("num_samples", 0)))
        if note:
            log.warning("%s: %s", name, note)
        result.metrics["num_images"] = len(preds)
        if source.protocol == "multihand":  # the detected centres alone (smhr.benchmark.centre_ap)
            from smhr.eval.multihand import read_hands

            result.metrics.update(centre_metrics(read_hands(gt, is_pred=False), read_hands(pred_path, is_pred=True)))
        if bench.one_hand:
            result.metrics["num_no_detection"] = sum(not p.detected for p in preds)
        metrics_path = out_dir / f"{name}.json"
        write_metrics(result, staged.path(metrics_path),
                      extra={"protocol": source.protocol, "mode": evaluation.mode}
                      | ({"min_score": evaluation.min_score} if source.protocol == "multihand" else {}))
        staged.path(out_dir / f"{name}_pck.csv").write_text(tables.pck_csv(result))
        staged.path(out_dir / f"{name}_per_sample.csv").write_text(
            tables.per_image_csv(result, source.image_ids, [p.source for p in preds], preds,
                                 per_hand=source.protocol == "multihand",
                                 num_gt=_hands_per_image(gt) if source.protocol == "multihand" else None))
        files = [metrics_path, *(out_dir / f"{name}{s}" for s in ("_pck.csv", "_per_sample.csv", "_pred.json"))]
        if source.gt is None:
            files.append(out_dir / f"{name}_gt.json")
    return Outcome(name, json.loads(metrics_path.read_text()), time.perf_counter() - start, files)
