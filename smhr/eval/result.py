"""What every protocol returns, and how it is written: metrics JSON and per-sample CSV.

Both files are deterministic (sorted keys, fixed float formatting, no timestamps) and written
to a temporary path first, then renamed, so a failed run never leaves a file that looks valid.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np

from smhr.outputs import atomic_write

Mode = Literal["official", "strict"]
MODES: tuple[str, str] = ("official", "strict")


class PckCurve(NamedTuple):
    """A protocol's headline 3D PCK curve (what its AUC integrates, or its closest analogue).

    Attributes:
        thresholds_m: (T,) error thresholds in metres, increasing.
        pck: (T,) fraction of keypoints with an error ``<=`` each threshold, in [0, 1].
        error: which error it counts, e.g. ``"pa_mpjpe"`` (Procrustes-aligned joints).
    """

    thresholds_m: np.ndarray
    pck: np.ndarray
    error: str


@dataclass
class ProtocolResult:
    """Metrics of one evaluation run.

    Attributes:
        metrics: metric name -> value; names carry units (``pa_mpjpe_mm``), F-scores, AUCs,
            accuracies and APs are fractions in [0, 1]; counts are integers.
        per_sample: column name -> (N,) array, one row per evaluated sample (or hand).
        sample_ids: (N,) identifiers of the rows (dataset index, annotation id, image id...).
        pck: the 3D PCK curve, or None when the inputs have no 3D to give one.
    """

    metrics: dict[str, float | int]
    per_sample: dict[str, np.ndarray] = field(default_factory=dict)
    sample_ids: list[str] = field(default_factory=list)
    pck: PckCurve | None = None


def _clean(value: float | int) -> float | int | None:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    value = float(value)
    return None if math.isnan(value) else value


def write_metrics(result: ProtocolResult, path: str | Path, extra: dict[str, str] | None = None) -> None:
    """Writes ``result.metrics`` (plus string fields ``extra``) as sorted-key JSON; NaN -> null."""
    data: dict[str, object] = {k: _clean(v) for k, v in result.metrics.items()}
    data.update(extra or {})
    atomic_write(Path(path), json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_per_sample_csv(result: ProtocolResult, path: str | Path) -> None:
    """Writes one row per sample: ``sample_id`` then the per-sample columns in sorted order."""
    cols = sorted(result.per_sample)
    lines: list[list[str]] = [["sample_id", *cols]]
    for i, sid in enumerate(result.sample_ids):
        lines.append([sid, *(f"{float(result.per_sample[c][i]):.6f}" for c in cols)])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(lines)
    atomic_write(Path(path), buffer.getvalue())
