"""``reports/bench/model.json`` (written by ``smhr bench model``) as tidy frames.

Schema (the study's contract)::

    {"profiles": {"cpu" | "paper": {"single_stage" | "two_stage": {
        "latency_ms": {"1": ms, "2": ms, "4": ms, "8": ms}, "ratio_t8_t1": r, "params_m": p,
        "gflops": g, "throughput_img_per_s": t, "peak_memory_mb": m}}}, "threads": n, ...}
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import pandas as pd

from smhr.report.load import ReportError

log = logging.getLogger(__name__)

PROFILES: tuple[str, ...] = ("cpu", "paper")
ARCHITECTURES: tuple[str, ...] = ("single_stage", "two_stage")
SCALARS: tuple[str, ...] = ("params_m", "gflops", "ratio_t8_t1", "throughput_img_per_s", "peak_memory_mb")


def read_bench(path: str | Path) -> dict | None:
    """The parsed file, or None (one log line) when it does not exist.

    Raises:
        ReportError: the file exists but is not JSON with a ``profiles`` object.
    """
    path = Path(path)
    if not path.is_file():
        log.warning("%s: no model benchmark; the efficiency report is left out (run `smhr bench model`)", path)
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ReportError(f"{path}: not readable JSON ({err}); re-run `smhr bench model`") from err
    if not isinstance(data, dict) or not isinstance(data.get("profiles"), dict):
        raise ReportError(f"{path}: no 'profiles' object; re-run `smhr bench model` (schema in docs/study.md)")
    return data


def _entries(data: dict) -> list[tuple[str, str, dict]]:
    out = []
    for profile in sorted(data["profiles"], key=lambda p: (PROFILES.index(p) if p in PROFILES else len(PROFILES), p)):
        archs = data["profiles"][profile]
        for arch in sorted(archs, key=lambda a: (ARCHITECTURES.index(a) if a in ARCHITECTURES else 9, a)):
            if isinstance(archs[arch], dict):
                out.append((profile, arch, archs[arch]))
    return out


def _float(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def latency(data: dict) -> pd.DataFrame:
    """Latency per image against hands per image: columns ``profile, architecture, hands, latency_ms``."""
    rows = []
    for profile, arch, entry in _entries(data):
        for hands, ms in sorted((entry.get("latency_ms") or {}).items(), key=lambda kv: int(kv[0])):
            rows.append((profile, arch, int(hands), _float(ms)))
    return pd.DataFrame(rows, columns=["profile", "architecture", "hands", "latency_ms"])


def summary(data: dict) -> pd.DataFrame:
    """One row per profile and architecture: the scalar fields, ``latency_1_ms`` and ``latency_8_ms``."""
    rows = []
    for profile, arch, entry in _entries(data):
        lat = entry.get("latency_ms") or {}
        row = {"profile": profile, "architecture": arch,
               "latency_1_ms": _float(lat.get("1")), "latency_8_ms": _float(lat.get("8"))}
        row.update({key: _float(entry.get(key)) for key in SCALARS})
        rows.append(row)
    return pd.DataFrame(rows, columns=["profile", "architecture", "latency_1_ms", "latency_8_ms", *SCALARS])
