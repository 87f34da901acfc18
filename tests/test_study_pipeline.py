"""The whole study (every DVC stage, every notebook) on a micro profile, in a copy of the project.

A few minutes on 2 cores: the same dvc.yaml as the default study, with params.yaml shrunk to tiny
data, a tiny network, two training steps per stage and one seed. Checks that every stage runs, its
outputs exist and parse, that a second ``dvc repro`` has nothing to do, and that forcing a
training stage, a benchmark and the tables to run again reproduces their metrics JSON and tables
byte for byte (the whole study forced twice would double the test's time).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ("main", "full", "no_consistency", "no_silhouette", "no_photometric", "no_stagewise", "two_stage")


def micro_params(params: dict) -> dict:
    """``params`` with every size cut to the minimum that still exercises each stage."""
    params["hand_model"]["pose_samples"] = 500
    params["synth"].update(num_training=12, num_evaluation=6, image_size=64, batch_size=6, supersample=1)
    params["compose"].update(num_benchmark=4, num_train=8, image_size=64, jpeg_quality=90)
    params["model"].update(width=0.25, neck_channels=8, head_channels=8, input_size=64, crop_size=32)
    params["train"]["data"]["val_images"] = 4
    for stage in params["train"]["stages"].values():
        stage.update(input_size=64, batch_size=4, steps=2, warmup_steps=1, val_every=2, checkpoint_every=2)
    params["benchmark"]["batch_size"] = 4
    params["study"]["seeds"] = [0]
    params["efficiency"].update(profiles="cpu", repeats=1)
    return params


def _copy_project(dest: Path) -> None:
    """The tracked files of the project (what a fresh clone has), data outputs left out."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True)
    for name in tracked.stdout.split("\0"):
        if not name or not (ROOT / name).is_file():
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)


def _run(argv: list[str], cwd: Path, env: dict) -> str:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, f"{' '.join(argv)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.mark.slow
@pytest.mark.pipeline
def test_whole_study_on_the_micro_profile(tmp_path):
    repo = tmp_path / "smhr"
    _copy_project(repo)
    (repo / "dvc.lock").unlink()
    params = micro_params(yaml.safe_load((repo / "params.yaml").read_text()))
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    bindir = str(Path(sys.executable).parent)
    env = os.environ | {"PATH": bindir + os.pathsep + os.environ["PATH"], "DVC_NO_ANALYTICS": "1",
                        "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "GIT_AUTHOR_NAME": "t",
                        "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "micro"]):
        _run(cmd, repo, env)
    _run(["dvc", "repro"], repo, env)

    for variant in VARIANTS:
        final = "all" if variant == "no_stagewise" else "multi"
        assert (repo / "models" / variant / "seed0" / final / "model.pt").is_file(), variant
        for bench in ("synth", "composed"):
            metrics = json.loads((repo / "metrics" / variant / "seed0" / f"{bench}.json").read_text())
            assert metrics["num_images"] > 0 and "pa_mpjpe_mm" in metrics, (variant, bench)
            assert (repo / "metrics" / variant / "seed0" / f"{bench}_pck.csv").read_text().startswith("threshold_mm")
    assert json.loads((repo / "metrics/mean_hand/seed0/synth.json").read_text())["num_images"] == 6
    summary = json.loads((repo / "reports/metrics.json").read_text())
    assert set(summary) == set(VARIANTS) | {"mean_hand"}
    bench = json.loads((repo / "reports/bench/model.json").read_text())
    assert set(bench["profiles"]["cpu"]) == {"single_stage", "two_stage"}
    for name in ("results", "ablations", "efficiency", "qualitative"):
        notebook = json.loads((repo / "reports/notebooks" / f"{name}.ipynb").read_text())
        assert notebook["cells"], name
    for name in ("results", "ablations", "efficiency"):
        for ext in ("csv", "md", "tex"):
            assert (repo / "reports/tables" / f"{name}.{ext}").stat().st_size > 0, (name, ext)
    assert "\\toprule" in (repo / "reports/tables/results.tex").read_text()
    for figure in ("results_pck", "ablations_pa_mpjpe_mm", "efficiency_latency", "qualitative_synth",
                   "qualitative_composed"):
        assert (repo / "reports/figures" / f"{figure}.png").read_bytes()[:4] == b"\x89PNG", figure

    # nothing changed (bytecode caches are not sources): a second repro runs nothing; dvc metrics
    # show reads the study's metrics
    for junk in ("smhr/geometry/__pycache__/camera.cpython-311.pyc", "notebooks/.ipynb_checkpoints/x.py"):
        (repo / junk).parent.mkdir(parents=True, exist_ok=True)
        (repo / junk).write_bytes(b"not a source")
    again = _run(["dvc", "repro"], repo, env)
    assert "Running stage" not in again, again[-2000:]

    # an edit re-runs the fingerprints and the stages whose command runs the edited file, no others
    with (repo / "smhr/bench/model.py").open("a") as handle:
        handle.write("\n# an edit\n")
    edited = _run(["dvc", "repro"], repo, env)
    ran = {line.split("'")[1] for line in edited.splitlines() if line.startswith("Running stage")}
    assert {"code", "efficiency"} <= ran <= {"code", "efficiency", "report_efficiency"}, ran  # the notebook: new timings
    shown = _run(["dvc", "metrics", "show", "--json"], repo, env)
    assert "pa_mpjpe_mm" in shown and "ratio_t8_t1" in shown

    # determinism: forced re-runs of a training stage, a benchmark, the summary and two notebooks
    # write byte-identical metrics JSON and tables
    watched = ["models/main/seed0/localize/metrics.json", "metrics/main/seed0/synth.json",
               "metrics/main/seed0/composed.json", "metrics/main/seed0/composed_pck.csv", "reports/metrics.json",
               *(f"reports/tables/{n}.{e}" for n in ("results", "ablations") for e in ("csv", "md", "tex"))]
    before = {name: (repo / name).read_bytes() for name in watched}
    _run(["dvc", "repro", "--force", "--single-item", "train_localize@main-0", "benchmark@main-0", "summary",
          "report_results", "report_ablations"], repo, env)
    changed = [name for name in watched if (repo / name).read_bytes() != before[name]]
    assert not changed, changed

    # a one-off variant as a DVC experiment: only the stages that read the changed param re-run
    ran = _run(["dvc", "exp", "run", "-S", "train.stages.multi.steps=3"], repo, env)
    assert "Running stage 'train_multi@main-0'" in ran and "Running stage 'train_localize@" not in ran
    table = json.loads(_run(["dvc", "exp", "show", "--json"], repo, env))
    assert "pa_mpjpe_mm" in json.dumps(table)
