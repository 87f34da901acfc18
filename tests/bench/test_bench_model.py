"""smhr bench model: the forced centre map gives exactly n hands; the report keeps the layout contract."""

from __future__ import annotations

import json

import pytest
import torch

from smhr.bench.model import HANDS, forced_centers, write_report
from smhr.commands.bench import BENCHMARKS
from smhr.model.decode import top_centers


@pytest.mark.parametrize("n", HANDS)
def test_forced_centers_decode_to_exactly_n_hands(n) -> None:
    centers = top_centers(forced_centers(2, n, 32), top_k=10, score_threshold=0.3, nms_kernel=3)
    assert centers.mask.sum(1).tolist() == [n, n]
    assert centers.side[centers.mask].tolist().count(0) == 2 * ((n + 1) // 2)  # sides alternate, 2 images


def test_report_schema(tmp_path) -> None:
    case = {"latency_ms": {str(n): float(n) for n in HANDS}, "ratio_t8_t1": 8.0, "params_m": 1.0, "gflops": 1.0,
            "throughput_img_per_s": 2.0, "peak_memory_mb": 3.0, "wall": {"latency_ms": {str(n): 1.0 for n in HANDS}}}
    cfg = dict(backbone="resnet18", width=0.5, input_size=128, neck_channels=32, head_channels=32, crop_size=128)
    result = {"profiles": {"cpu": {"single_stage": case, "two_stage": case}}, "threads": 1, "configs": {"cpu": cfg},
              "repeats": {"cpu": 3}, "batch_size": {"cpu": 8}, "command": "smhr bench model", "note": "test."}
    write_report(result, tmp_path)
    data = json.loads((tmp_path / "model.json").read_text())
    assert set(data["profiles"]["cpu"]) == {"single_stage", "two_stage"} and data["threads"] == 1
    assert set(data["profiles"]["cpu"]["two_stage"]["latency_ms"]) == {"1", "2", "4", "8"}
    assert "| single_stage |" in (tmp_path / "model.md").read_text()
    assert "model" in BENCHMARKS
