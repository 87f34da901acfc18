"""``smhr report notebook``: parameters, errors, and notebooks executed end to end on the fake tree."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from smhr.cli import main
from smhr.report import notebook

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CONTRACT = {"metrics_root": "metrics", "models_root": "models", "bench_json": "reports/bench/model.json",
            "out_root": "reports"}


@pytest.mark.parametrize("name", ["results", "ablations", "efficiency", "qualitative"])
def test_every_notebook_declares_the_contract_literals(name: str) -> None:
    declared = notebook.declared_parameters(NOTEBOOKS / f"{name}.py")
    assert {k: declared[k] for k in CONTRACT} == CONTRACT


def test_params_file_overrides_shared_and_own_keys(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("report:\n  out_root: elsewhere\n  unused_by_all: 1\n  qualitative:\n    seed: 2\n")
    declared = notebook.declared_parameters(NOTEBOOKS / "qualitative.py")
    names = {"results", "qualitative"}
    assert notebook.resolve_parameters("qualitative", declared, params, names) == {"out_root": "elsewhere", "seed": 2}
    assert notebook.resolve_parameters("results", notebook.declared_parameters(NOTEBOOKS / "results.py"), params,
                                       names) == {"out_root": "elsewhere"}
    params.write_text("report:\n  qualitative:\n    sed: 2\n")
    with pytest.raises(notebook.UsageError, match=r"report.qualitative.sed is not a parameter"):
        notebook.resolve_parameters("qualitative", declared, params, names)


def test_unknown_notebook_is_a_usage_error(study: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(study)
    assert main(["report", "notebook", "nope", "--notebooks", str(NOTEBOOKS)]) == 2
    err = capsys.readouterr().err
    assert "NAME nope" in err and "results" in err and "Traceback" not in err


def test_failing_cell_names_the_notebook_and_cell_and_leaves_nothing(tmp_path: Path, monkeypatch, capsys) -> None:
    books = tmp_path / "books"
    books.mkdir()
    (books / "broken.py").write_text('# %% tags=["parameters"]\nout_root = "reports"\n\n# %%\nx = 1\n\n'
                                     '# %%\nraise ValueError("the metrics are gone")\n')
    monkeypatch.chdir(tmp_path)
    assert main(["report", "notebook", "broken", "--notebooks", str(books), "--out", "out"]) == 1
    err = capsys.readouterr().err
    assert "broken.py" in err and "cell" in err and "ValueError: the metrics are gone" in err
    assert "Traceback" not in err
    assert not list((tmp_path / "out").iterdir())  # neither the notebook nor a temporary file


@pytest.mark.slow
def test_results_notebook_end_to_end(study: Path, monkeypatch) -> None:
    monkeypatch.chdir(study)
    assert main(["report", "notebook", "results", "--notebooks", str(NOTEBOOKS)]) == 0
    executed = json.loads((study / "reports" / "notebooks" / "results.ipynb").read_text())
    code = [c for c in executed["cells"] if c["cell_type"] == "code"]
    assert code and all(c["execution_count"] is not None for c in code)
    for ext in ("csv", "md", "tex"):
        assert (study / "reports" / "tables" / f"results.{ext}").is_file()
    assert (study / "reports" / "figures" / "results_pck.png").stat().st_size > 0
    first = (study / "reports" / "tables" / "results.tex").read_bytes()
    assert main(["report", "notebook", "results", "--notebooks", str(NOTEBOOKS)]) == 0
    assert (study / "reports" / "tables" / "results.tex").read_bytes() == first


@pytest.mark.slow
def test_qualitative_notebook_on_a_real_checkpoint(study: Path, tiny_checkpoint: Path, monkeypatch) -> None:
    from tests.data.conftest import write_freihand_source

    final = study / "models" / "main" / "seed0" / "multi" / "model.pt"
    final.parent.mkdir(parents=True)
    shutil.copy(tiny_checkpoint, final)
    write_freihand_source(study / "data" / "synth" / "freihand", n_train=1, n_eval=4)
    (study / "params.yaml").write_text(
        "report:\n  qualitative:\n    dataset_roots: {synth: data/synth/freihand}\n"
        "    worst: 2\n    typical: 1\n    best: 1\n")
    monkeypatch.chdir(study)
    assert main(["report", "notebook", "qualitative", "--params", "params.yaml", "--notebooks", str(NOTEBOOKS)]) == 0
    executed = json.loads((study / "reports" / "notebooks" / "qualitative.ipynb").read_text())
    injected = [c for c in executed["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1 and "worst = 2" in "".join(injected[0]["source"])
    from PIL import Image

    grid = Image.open(study / "reports" / "figures" / "qualitative_synth.png")
    assert grid.size[0] == 2 * 2 * 256 and grid.size[1] == 2 * (256 + 14)  # 4 picks, 2 pairs per row
