"""The import graph of each command (smhr.code_deps) and ``smhr fingerprint``, the study's code deps."""

from __future__ import annotations

import shutil
from pathlib import Path

from smhr.cli import main
from smhr.code_deps import argv_files, fingerprint_files, fingerprint_name, fingerprint_names, fingerprint_text

ROOT = Path(__file__).resolve().parents[1]


def toy_project(tmp: Path) -> Path:
    """A miniature package tree: a command importing lazily, a sub-package, a dispatch table."""
    files = {
        "smhr/__init__.py": "",
        "smhr/cli.py": "from smhr.errors import SmhrError\n",
        "smhr/errors.py": "",
        "smhr/commands/__init__.py": "",
        "smhr/commands/synth.py": "def run():\n    from smhr.data.synth import x\n",
        "smhr/commands/bench.py": 'BENCHMARKS = {"render": "smhr.bench.render", "eval": "smhr.bench.eval"}\n',
        "smhr/data/__init__.py": "",
        "smhr/data/synth.py": "from . import sample\nimport smhr.geometry.camera as cam\n",
        "smhr/data/sample.py": "",
        "smhr/geometry/__init__.py": "",
        "smhr/geometry/camera.py": "import numpy\n",
        "smhr/bench/__init__.py": "",
        "smhr/bench/render.py": "from smhr.render import renderer\n",
        "smhr/bench/eval.py": "",
        "smhr/render/__init__.py": "",
        "smhr/render/renderer.py": "",
    }
    for rel, text in files.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_text(text)
    return tmp


def test_import_closure_follows_lazy_relative_and_package_imports(tmp_path):
    root = toy_project(tmp_path)
    found = {p.as_posix() for p in argv_files(root, ["smhr", "synth"])}
    assert found == {
        "smhr/__init__.py", "smhr/cli.py", "smhr/errors.py", "smhr/commands/__init__.py", "smhr/commands/synth.py",
        "smhr/data/__init__.py", "smhr/data/synth.py", "smhr/data/sample.py", "smhr/geometry/__init__.py",
        "smhr/geometry/camera.py",
    }
    bench = {p.as_posix() for p in argv_files(root, ["smhr", "bench", "render", "--out", "x"])}
    assert {"smhr/bench/render.py", "smhr/render/__init__.py", "smhr/render/renderer.py"} <= bench
    assert "smhr/bench/eval.py" not in bench
    assert {Path("smhr/bench/eval.py"), Path("smhr/bench/render.py")} <= set(argv_files(root, ["smhr", "bench", "all"]))


def test_a_dispatched_name_has_its_own_fingerprint_and_the_command_has_all(tmp_path):
    root = toy_project(tmp_path)
    assert fingerprint_name(root, ["smhr", "bench", "render", "--out", "x"]) == "bench-render"
    assert fingerprint_name(root, ["smhr", "bench", "all"]) == "bench"
    assert fingerprint_name(root, ["smhr", "synth", "--params", "p"]) == "synth"
    render = set(fingerprint_files(root, "bench-render"))
    assert Path("smhr/render/renderer.py") in render and Path("smhr/bench/eval.py") not in render
    assert {Path("smhr/bench/eval.py"), Path("smhr/bench/render.py")} <= set(fingerprint_files(root, "bench"))


def test_every_command_line_is_covered_by_its_fingerprint():
    """What one command line runs is a subset of its fingerprint's files (the real package)."""
    for argv in (["smhr", "train", "--stage", "render"], ["smhr", "bench", "model"], ["smhr", "benchmark"],
                 ["smhr", "report", "notebook", "results"], ["smhr", "report", "summary"]):
        assert set(argv_files(ROOT, argv)) <= set(fingerprint_files(ROOT, fingerprint_name(ROOT, argv))), argv
    report = {p.as_posix() for p in fingerprint_files(ROOT, "report")}
    assert {"smhr/report/metrics.py", "smhr/commands/report.py"} <= report
    assert not any(p.as_posix().startswith("smhr/train/") for p in fingerprint_files(ROOT, "evaluate"))


def _copy_package(dest: Path) -> Path:
    shutil.copytree(ROOT / "smhr", dest / "smhr", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "notebooks", dest / "notebooks", ignore=shutil.ignore_patterns("*.ipynb"))
    return dest


def test_fingerprint_changes_only_for_the_commands_that_run_the_edited_file(tmp_path):
    root = _copy_package(tmp_path / "proj")
    before = {name: fingerprint_text(root, name) for name in ("train", "evaluate", "report", "hand-model")}
    assert all(line.split("  ")[1].startswith("smhr/") for line in before["train"].splitlines()[1:])
    with (root / "smhr" / "train" / "losses.py").open("a") as handle:
        handle.write("\n# an edit\n")
    after = {name: fingerprint_text(root, name) for name in before}
    assert after["train"] != before["train"]
    assert after["evaluate"] == before["evaluate"] and after["hand-model"] == before["hand-model"]
    with (root / "smhr" / "report" / "metrics.py").open("a") as handle:
        handle.write("\n# an edit\n")
    assert fingerprint_text(root, "report") != after["report"]
    assert fingerprint_text(root, "train") == after["train"]


def test_fingerprint_command_writes_one_file_per_name_and_replaces_the_folder(tmp_path, capsys):
    out = tmp_path / "data" / "code"
    out.mkdir(parents=True)
    (out / "stale.txt").write_text("from an older run")
    assert main(["fingerprint", "--root", str(ROOT), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.txt" for n in fingerprint_names(ROOT))
    assert (out / "train.txt").read_text() == fingerprint_text(ROOT, "train")
    assert not list(out.parent.glob(".code.*"))  # no temporary folder left


def test_fingerprint_refuses_a_root_without_the_package_and_a_file_as_out(tmp_path, capsys):
    assert main(["fingerprint", "--root", str(tmp_path), "--out", str(tmp_path / "code")]) == 2
    assert "no smhr/__init__.py" in capsys.readouterr().err
    blocker = tmp_path / "code"
    blocker.write_text("a file")
    assert main(["fingerprint", "--root", str(ROOT), "--out", str(blocker)]) == 2
    assert "is a file" in capsys.readouterr().err
    assert blocker.read_text() == "a file" and not list(tmp_path.glob(".code.*"))
