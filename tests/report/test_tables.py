"""Tables from the fake study tree: numbers checked against statistics computed here independently."""

from __future__ import annotations

import json
import logging
import math
import statistics
from pathlib import Path

import pytest
from scipy import stats

from smhr.report import aggregate, efficiency, load, tables, writers
from tests.report.conftest import BENCH, SEEDS, metric_value


def _stored(study: Path, method: str, seed: int, bench: str, key: str) -> float:
    return json.loads((study / "metrics" / method / f"seed{seed}" / f"{bench}.json").read_text())[key]


def test_tidy_frame_holds_every_number_and_no_strings(study: Path) -> None:
    frame = load.load_metrics(study / "metrics")
    assert list(frame.columns) == ["method", "seed", "benchmark", "metric", "value"]
    assert "protocol" not in set(frame["metric"]) and "mode" not in set(frame["metric"])
    row = frame[(frame.method == "full") & (frame.seed == 1) & (frame.benchmark == "synth") & (frame.metric == "f5")]
    assert row["value"].item() == metric_value("full", 1, "synth", "f5")
    assert list(dict.fromkeys(frame["method"])) == ["main", "full", "no_silhouette", "two_stage", "mean_hand"]
    null = frame[(frame.method == "mean_hand") & (frame.benchmark == "composed") & (frame.metric == "pa_mpvpe_mm")]
    assert math.isnan(null["value"].item())


def test_mean_std_over_seeds(study: Path) -> None:
    agg = aggregate.aggregate(load.load_metrics(study / "metrics"))
    for method in ("main", "no_silhouette"):
        values = [_stored(study, method, s, "synth", "pa_mpjpe_mm") for s in SEEDS[method]]
        rec = agg[(agg.method == method) & (agg.benchmark == "synth") & (agg.metric == "pa_mpjpe_mm")].iloc[0]
        assert rec["mean"] == pytest.approx(statistics.fmean(values), abs=1e-12)
        assert rec["std"] == pytest.approx(statistics.stdev(values), abs=1e-12)
        assert rec["n"] == len(values)
    table = tables.results_table(agg)
    row = dict(table.rows)["main"]
    header = [h for _, h in table.columns]
    values = [_stored(study, "main", s, "synth", "pa_mpjpe_mm") for s in SEEDS["main"]]
    assert row[header.index("PA-MPJPE [mm]")] == f"{statistics.fmean(values):.2f} ± {statistics.stdev(values):.2f}"
    assert row[0] == "3"
    mean_hand = dict(table.rows)["mean_hand"]
    assert mean_hand[header.index("PA-MPJPE [mm]")] == f"{_stored(study, 'mean_hand', 0, 'synth', 'pa_mpjpe_mm'):.2f}"
    assert dict(table.rows)["two_stage"][-1] == "n/a"  # no composed metrics for two_stage


def test_paired_deltas_against_main(study: Path) -> None:
    frame = load.load_metrics(study / "metrics")
    deltas = aggregate.paired_deltas(frame)
    assert "mean_hand" not in set(deltas["variant"]) and "main" not in set(deltas["variant"])
    for variant in ("full", "no_silhouette"):
        diffs = [_stored(study, variant, s, "composed", "ap") - _stored(study, "main", s, "composed", "ap")
                 for s in SEEDS[variant]]
        rec = deltas[(deltas.variant == variant) & (deltas.benchmark == "composed") & (deltas.metric == "ap")].iloc[0]
        assert rec["delta"] == pytest.approx(statistics.fmean(diffs), abs=1e-12)
        assert rec["std"] == pytest.approx(statistics.stdev(diffs), abs=1e-12)
        n = len(diffs)
        assert rec["ci95"] == pytest.approx(stats.t.ppf(0.975, n - 1) * statistics.stdev(diffs) / math.sqrt(n))
        assert rec["n"] == n and rec["seeds"] == ",".join(map(str, SEEDS[variant]))
    table = tables.ablation_table(deltas, aggregate.aggregate(frame))
    names = [name for name, _ in table.rows]
    assert names == ["main (reference)", "full", "no_silhouette", "two_stage"]
    diffs = [_stored(study, "full", s, "synth", "f15") - _stored(study, "main", s, "synth", "f15") for s in (0, 1, 2)]
    cell = dict(table.rows)["full"][[h for _, h in table.columns].index("F@15mm")]
    assert cell == f"{statistics.fmean(diffs):+.3f} ± {statistics.stdev(diffs):.3f}"


def test_efficiency_table_reads_the_benchmark_file(study: Path) -> None:
    data = efficiency.read_bench(study / "reports" / "bench" / "model.json")
    table = tables.efficiency_table(efficiency.summary(data))
    rows = dict(table.rows)
    header = [h for _, h in table.columns]
    two = BENCH["profiles"]["cpu"]["two_stage"]
    assert rows["cpu two-stage"][header.index("t8/t1")] == f"{two['ratio_t8_t1']:.3f}"
    assert rows["cpu two-stage"][header.index("8 hands [ms]")] == f"{two['latency_ms']['8']:.2f}"
    assert list(rows) == ["cpu single-stage", "cpu two-stage", "paper single-stage"]
    lat = efficiency.latency(data)
    assert lat[(lat.profile == "cpu") & (lat.architecture == "single_stage")]["hands"].tolist() == [1, 2, 4, 8]


def test_latex_is_booktabs_and_escaped(study: Path) -> None:
    agg = aggregate.aggregate(load.load_metrics(study / "metrics"))
    tex = writers.to_latex(tables.results_table(agg))
    lines = tex.splitlines()
    assert lines[0].startswith(r"\begin{tabular}{l") and lines[1] == r"\toprule"
    assert r"\midrule" in lines and lines[-2:] == [r"\bottomrule", r"\end{tabular}"]
    assert r"\hline" not in tex
    assert r"no\_silhouette" in tex and r"$\pm$" in tex and "±" not in tex
    assert r"\multicolumn{5}{c}{synth}" in tex and r"\cmidrule(lr){3-7}" in tex
    body = [l for l in lines if l.endswith(r"\\")]
    assert len({l.count("&") for l in body if r"\multicolumn" not in l}) == 1  # every row has every column


def test_outputs_byte_identical_twice(study: Path, tmp_path: Path) -> None:
    from smhr.report import figures

    def build(out: Path) -> dict[str, bytes]:
        frame = load.load_metrics(study / "metrics")
        agg = aggregate.aggregate(frame)
        writers.write_table(tables.results_table(agg), out, "results")
        writers.write_table(tables.ablation_table(aggregate.paired_deltas(frame), agg), out, "ablations")
        figures.save_figure(figures.pck_figure(load.load_pck(study / "metrics")), out / "figures" / "results_pck.png")
        data = efficiency.read_bench(study / "reports" / "bench" / "model.json")
        figures.save_figure(figures.efficiency_figure(efficiency.latency(data), efficiency.summary(data)),
                            out / "figures" / "efficiency_latency.png")
        return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}

    first, second = build(tmp_path / "a"), build(tmp_path / "b")
    assert sorted(first) == ["figures/efficiency_latency.png", "figures/results_pck.png", "tables/ablations.csv",
                             "tables/ablations.md", "tables/ablations.tex", "tables/results.csv", "tables/results.md",
                             "tables/results.tex"]
    assert first == second


def test_missing_methods_and_benchmarks_are_left_out_with_a_log_line(study: Path, caplog) -> None:
    import shutil

    shutil.rmtree(study / "metrics" / "full")
    with caplog.at_level(logging.INFO, logger="smhr.report.load"):
        frame = load.load_metrics(study / "metrics")
    assert "full" not in set(frame["method"])
    lines = [r.getMessage() for r in caplog.records]
    assert sum("/full: no metrics" in m for m in lines) == 1
    assert sum("benchmark rhd" in m for m in lines) == 1
    table = tables.results_table(aggregate.aggregate(frame))
    assert [n for n, _ in table.rows] == ["main", "no_silhouette", "two_stage", "mean_hand"]


def test_empty_or_absent_tree_gives_empty_tables(tmp_path: Path) -> None:
    frame = load.load_metrics(tmp_path / "nothing")
    assert frame.empty
    table = tables.results_table(aggregate.aggregate(frame))
    assert table.rows == [] and writers.to_latex(table).startswith(r"\begin{tabular}")
    assert tables.ablation_table(aggregate.paired_deltas(frame), aggregate.aggregate(frame)).rows == []
    assert efficiency.read_bench(tmp_path / "model.json") is None


def test_corrupt_metrics_file_names_the_file(study: Path) -> None:
    bad = study / "metrics" / "main" / "seed0" / "synth.json"
    bad.write_text("{not json")
    with pytest.raises(load.ReportError, match="seed0/synth.json"):
        load.load_metrics(study / "metrics")


def test_cell_with_fewer_seeds_says_so(study: Path) -> None:
    (study / "metrics" / "main" / "seed2" / "composed.json").unlink()
    table = tables.results_table(aggregate.aggregate(load.load_metrics(study / "metrics")))
    header = [h for g, h in table.columns if g == "composed"]
    row = dict(table.rows)["main"]
    assert row[0] == "3" and row[len(table.columns) - len(header)].endswith("(n=2)")
