"""The CSV files beside a benchmark's metrics: the PCK curve and one row per image.

``<bench>_pck.csv``: ``threshold_mm,pck`` (what ``dvc plots`` draws); header only when the protocol
has no 3D curve (:attr:`smhr.eval.result.ProtocolResult.pck`).

``<bench>_per_sample.csv``: one row per image, in dataset order: ``image`` (its id in the
prediction file), ``source`` (the adapter's name of the sample), ``score`` (the top slot's score),
``detected`` (1 if a hand passes the model's threshold), then the protocol's per-sample columns
(``pa_mpjpe_mm`` ...). For multi-hand images, whose protocol gives one row per evaluated hand,
the row holds ``num_detected``, ``num_evaluated`` (matched hands), ``num_missed`` (labelled hands
not matched: the failures the mean over matched hands cannot show) and the mean of each column
over the image's evaluated hands. Values that do not exist are empty cells.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from smhr.benchmark.predictors import ImagePrediction
from smhr.eval.result import ProtocolResult

MM = 1000.0


def _cell(value: float | int | str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    value = float(value)
    return "" if math.isnan(value) else f"{value:.6f}"


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def pck_csv(result: ProtocolResult) -> str:
    """``threshold_mm,pck`` rows of the protocol's PCK curve (header only without one)."""
    rows = [["threshold_mm", "pck"]]
    if result.pck is not None:
        rows += [[f"{t * MM:.6f}", f"{p:.6f}"] for t, p in zip(result.pck.thresholds_m, result.pck.pck)]
    return _csv(rows)


def per_image_csv(result: ProtocolResult, ids: Sequence[str], sources: Sequence[str],
                  preds: Sequence[ImagePrediction], per_hand: bool, num_gt: dict[str, int] | None = None) -> str:
    """One row per image (see the module docstring).

    Args:
        result: the protocol's result on the written prediction file.
        ids: (N,) image ids, as the prediction file's keys (= ``result.sample_ids`` for
            per-image protocols; ``"<id>:<hand>"`` for multi-hand rows).
        sources: (N,) the samples' names.
        preds: (N,) the predictions.
        per_hand: the protocol gives one row per evaluated hand (multi-hand images).
        num_gt: labelled hands per image id (multi-hand images; gives ``num_missed``).
    """
    cols = sorted(result.per_sample)
    values: dict[str, dict[str, float]] = defaultdict(dict)
    counts: dict[str, int] = defaultdict(int)
    if per_hand:
        grouped: dict[str, list[int]] = defaultdict(list)
        for row, sid in enumerate(result.sample_ids):
            grouped[sid.rsplit(":", 1)[0]].append(row)
        for image_id, rows in grouped.items():
            counts[image_id] = len(rows)
            for c in cols:
                values[image_id][c] = float(np.mean(np.asarray(result.per_sample[c], np.float64)[rows]))
    else:
        for row, sid in enumerate(result.sample_ids):
            for c in cols:
                values[sid][c] = float(result.per_sample[c][row])
    head = (["image", "source", "score", "detected"]
            + (["num_detected", "num_evaluated", "num_missed"] if per_hand else []) + cols)
    lines = [head]
    for image_id, source, pred in zip(ids, sources, preds):
        score = pred.slots[0].score if pred.slots else math.nan
        line = [image_id, source, _cell(score), _cell(int(pred.detected))]
        if per_hand:
            missed = (num_gt or {}).get(image_id)
            line += [_cell(len(pred.hands)), _cell(counts[image_id]),
                     _cell(missed - counts[image_id]) if missed is not None else ""]
        line += [_cell(values[image_id].get(c, math.nan)) for c in cols]
        lines.append(line)
    return _csv(lines)
