"""``smhr bench``: the dispatcher passes options through (``all`` included) or refuses them clearly."""

from __future__ import annotations

import importlib
import json

import pytest

from smhr.cli import main
from smhr.commands.bench import BENCHMARKS


@pytest.fixture
def calls(monkeypatch):
    """Replaces every benchmark's ``main`` with a recorder: ``[(name, argv), ...]`` in call order."""
    seen = []
    for name, module_name in BENCHMARKS.items():
        module = importlib.import_module(module_name)
        monkeypatch.setattr(module, "main", lambda argv, name=name: seen.append((name, argv)) or 0)
    return seen


def test_all_passes_its_options_to_every_benchmark(calls, tmp_path):
    assert main(["bench", "all", "--out", str(tmp_path)]) == 0
    assert calls == [(name, ["--out", str(tmp_path)]) for name in sorted(BENCHMARKS)]


def test_one_benchmark_gets_its_options(calls):
    assert main(["bench", "render", "--batch", "1", "--dense-sizes"]) == 0
    assert calls == [("render", ["--batch", "1", "--dense-sizes"])]


def test_all_refuses_an_option_some_benchmark_lacks_before_running_any(calls, capsys):
    assert main(["bench", "all", "--out", "x", "--seed", "3"]) == 1
    err = capsys.readouterr().err
    assert calls == []
    assert "--seed (not taken by data, synth)" in err and "--out" not in err.split("apply to all:")[1]
    assert "Traceback" not in err


def test_all_help_names_the_shared_option_and_runs_nothing(calls, capsys):
    assert main(["bench", "all", "--help"]) == 0
    assert calls == [] and "--out" in capsys.readouterr().out


def test_benchmarks_write_under_out(tmp_path):
    """Every benchmark's --out is the folder of ``<name>.json``, so ``all --out`` keeps them together."""
    for name, module_name in BENCHMARKS.items():
        args = importlib.import_module(module_name).build_parser().parse_args(["--out", str(tmp_path)])
        assert args.out == tmp_path, name


def test_eval_benchmark_tiny_real_run(tmp_path):
    """The cheapest benchmark end to end through the CLI: sorted, parseable JSON and a table."""
    assert main(["bench", "eval", "--out", str(tmp_path), "--sets", "freihand", "--scale", "0.001"]) == 0
    text = (tmp_path / "eval.json").read_text()
    report = json.loads(text)
    assert text == json.dumps(report, indent=2, sort_keys=True) + "\n"
    result = report["results"]["freihand"]
    assert result["num_samples"] == 4 and result["peak_rss_mib_so_far"] > 0 and result["pa_mpjpe_mm"] > 0
    assert "| freihand | 4 |" in (tmp_path / "eval.md").read_text()
