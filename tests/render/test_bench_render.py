"""``smhr bench render`` end to end on a tiny case: both renderers timed, dense skipped above its cap."""

from __future__ import annotations

import json

import pytest

from smhr.bench.render import main


@pytest.mark.slow
def test_bench_render_runs_and_skips_the_dense_reference_above_its_cap(tmp_path):
    common = ["--batch", "1", "--hands", "1", "--sizes", "16", "--modes", "soft", "--repeats", "1", "--threads", "1"]
    assert main([*common, "--dense-sizes", "16", "--out", str(tmp_path / "run")]) == 0
    text = (tmp_path / "run" / "render.json").read_text()
    case = json.loads(text)["b1_h1_16px_soft"]
    assert list(case) == sorted(case)  # sorted keys, no timestamps
    assert case["dense_reference"] == "run"
    for key in ("forward_ms", "forward_backward_ms", "dense_forward_ms", "dense_forward_backward_ms", "dense_pairs_per_s"):
        assert case[key] > 0, key
    assert case["speedup_forward_backward"] == case["dense_forward_backward_ms"] / case["forward_backward_ms"]
    assert "| b1_h1_16px_soft |" in (tmp_path / "run" / "render.md").read_text()

    assert main([*common, "--dense-sizes", "16", "--dense-max-seconds", "0", "--out", str(tmp_path / "capped")]) == 0
    capped = json.loads((tmp_path / "capped" / "render.json").read_text())["b1_h1_16px_soft"]
    assert capped["dense_reference"].startswith("skipped: estimated")
    assert capped["dense_forward_ms"] is None and capped["dense_estimated_forward_backward_ms"] > 0
    assert not list(tmp_path.glob("*/tmp*")), "no half-written temporary files are left"
