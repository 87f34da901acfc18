"""A bad-input sweep over every command: one clear error line, the right exit code, nothing written.

Each row is one bad input: the arguments (``{a}`` is the arena folder of ``conftest.py``), an
optional change to ``params.yaml``, the expected exit code (2 for usage errors: argparse, an
option or ``params.yaml`` value out of range, an output path that cannot be written; 1 for
other failures) and a fragment of the message, which names the option or file and the fix.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from smhr.cli import main
from tests.commands.conftest import snapshot

EVAL = ["evaluate", "--protocol", "freihand", "--pred", "{a}/pred.json", "--gt", "{a}/gt"]

CASES: list[tuple[str, list[str], str, int, str]] = [
    # (id, argv, extra params.yaml text, exit code, message fragment)
    ("top-unknown-command", ["transmogrify"], "", 2, "invalid choice: 'transmogrify'"),
    ("top-unknown-option", ["synth", "--colour", "red"], "", 2, "unrecognized arguments: --colour red"),
    ("hand-model-out-dir-is-file", ["hand-model", "--params", "{a}/params.yaml", "--out-dir", "{a}/file.txt"], "", 2,
     "--out-dir {a}/file.txt: is a file, expected a folder"),
    ("hand-model-preview-under-file", ["hand-model", "--params", "{a}/params.yaml", "--preview-dir", "{a}/file.txt/p"],
     "", 2, "--preview-dir {a}/file.txt/p: {a}/file.txt is a file, not a folder"),
    ("hand-model-missing-params", ["hand-model", "--params", "{a}/none.yaml"], "", 2,
     "{a}/none.yaml: params file not found"),
    ("synth-image-size-0", ["synth", "--params", "{a}/params.yaml", "--image-size", "0"], "", 2,
     "argument --image-size: 0 is out of range; give an integer >= 8"),
    ("synth-image-size-text", ["synth", "--params", "{a}/params.yaml", "--image-size", "big"], "", 2,
     "argument --image-size: 'big' is not an integer"),
    ("synth-negative-count", ["synth", "--params", "{a}/params.yaml", "--num-training", "-1"], "", 2,
     "argument --num-training: -1 is out of range; give an integer >= 0"),
    ("synth-nothing-to-write", ["synth", "--params", "{a}/params.yaml", "--num-training", "0", "--num-evaluation", "0"],
     "", 2, "--num-training and --num-evaluation are both 0: nothing to write"),
    ("synth-negative-seed", ["synth", "--params", "{a}/params.yaml", "--seed", "-3"], "", 2,
     "argument --seed: -3 is out of range"),
    ("synth-out-is-file", ["synth", "--params", "{a}/params.yaml", "--out", "{a}/file.txt"], "", 2,
     "--out {a}/file.txt: is a file, expected a folder"),
    ("synth-out-under-file", ["synth", "--params", "{a}/params.yaml", "--out", "{a}/file.txt/x"], "", 2,
     "{a}/file.txt is a file, not a folder"),
    ("synth-params-image-size", ["synth", "--params", "{a}/bad.yaml"], "synth:\n  image_size: 0\n", 2,
     "{a}/bad.yaml:synth.image_size = 0 must be >= 8"),
    ("synth-params-supersample", ["synth", "--params", "{a}/bad.yaml"], "synth:\n  supersample: 2\n", 2,
     "{a}/bad.yaml:synth.supersample = 2 must be an odd integer >= 1"),
    ("synth-params-palm-range", ["synth", "--params", "{a}/bad.yaml"], "synth:\n  appearance:\n    palm_lighten: [0.8, 0.2]\n",
     2, "{a}/bad.yaml:synth.appearance.palm_lighten = [0.8, 0.2] must be [low, high] with 0 <= low <= high <= 1"),
    ("synth-params-counts", ["synth", "--params", "{a}/bad.yaml"], "synth:\n  num_training: 0\n  num_evaluation: 0\n",
     2, "both 0: nothing to write"),
    ("synth-params-out-is-file", ["synth", "--params", "{a}/bad.yaml"], "synth:\n  out: {a}/file.txt\n", 2,
     "{a}/bad.yaml:synth.out {a}/file.txt: is a file, expected a folder"),
    ("synth-missing-model", ["synth", "--params", "{a}/params.yaml", "--hand-model", "{a}/none.pkl"], "", 1,
     "{a}/none.pkl: hand model file not found; run 'smhr hand-model' first"),
    ("synth-model-is-folder", ["synth", "--params", "{a}/params.yaml", "--hand-model", "{a}/folder"], "", 1,
     "{a}/folder: hand model file not found"),
    ("compose-output-is-file", ["compose", "--params", "{a}/params.yaml", "--output", "{a}/file.txt"], "", 2,
     "--output {a}/file.txt: is a file, expected a folder"),
    ("compose-nothing-to-write", ["compose", "--params", "{a}/bad.yaml"],
     "compose:\n  num_benchmark: 0\n  num_train: 0\n", 2, "both 0: nothing to write"),
    ("compose-negative-count", ["compose", "--params", "{a}/bad.yaml"], "compose:\n  num_train: -1\n", 2,
     "compose.num_train = -1 must be >= 0"),
    ("compose-negative-seed", ["compose", "--params", "{a}/bad.yaml"], "compose:\n  seed: -1\n", 2,
     "compose.seed = -1 must be >= 0"),
    ("compose-unknown-key", ["compose", "--params", "{a}/bad.yaml"], "compose:\n  bogus: 1\n", 2,
     "unknown key(s) ['bogus']"),
    ("data-no-action", ["data"], "", 2, "the following arguments are required: ACTION"),
    ("data-unknown-dataset", ["data", "check", "--dataset", "coco", "--root", "{a}"], "", 2,
     "argument --dataset: invalid choice: 'coco'"),
    ("data-check-limit-0", ["data", "check", "--dataset", "rhd", "--root", "{a}", "--limit", "0"], "", 2,
     "argument --limit: 0 is out of range; give an integer >= 1"),
    ("data-show-n-0", ["data", "show", "--dataset", "rhd", "--root", "{a}", "--out", "{a}/g.png", "--n", "0"], "", 2,
     "argument --n: 0 is out of range"),
    ("data-show-cell-0", ["data", "show", "--dataset", "rhd", "--root", "{a}", "--out", "{a}/g.png", "--cell", "0"],
     "", 2, "argument --cell: 0 is out of range; give an integer >= 16"),
    ("data-show-out-is-folder", ["data", "show", "--dataset", "rhd", "--root", "{a}", "--out", "{a}/folder"], "", 2,
     "--out {a}/folder: is a folder, expected a file path"),
    ("data-show-out-under-file", ["data", "show", "--dataset", "rhd", "--root", "{a}", "--out", "{a}/file.txt/g.png"],
     "", 2, "{a}/file.txt is a file, not a folder"),
    ("data-show-empty-root", ["data", "show", "--dataset", "rhd", "--root", "{a}/none", "--out", "{a}/g.png"], "", 1,
     "{a}/none"),
    ("evaluate-out-is-folder", [*EVAL, "--out", "{a}/folder"], "", 2, "--out {a}/folder: is a folder"),
    ("evaluate-out-under-file", [*EVAL, "--out", "{a}/file.txt/m.json"], "", 2, "{a}/file.txt is a file, not a folder"),
    ("evaluate-csv-is-folder", [*EVAL, "--out", "{a}/m.json", "--per-sample-csv", "{a}/folder"], "", 2,
     "--per-sample-csv {a}/folder: is a folder"),
    ("evaluate-csv-is-out", [*EVAL, "--out", "{a}/m.json", "--per-sample-csv", "{a}/m.json"], "", 2,
     "is the same file as --out"),
    ("evaluate-threshold-negative", [*EVAL, "--out", "{a}/m.json", "--match-threshold", "-1"], "", 2,
     "argument --match-threshold: -1 is out of range"),
    ("evaluate-threshold-nan", [*EVAL, "--out", "{a}/m.json", "--match-threshold", "nan"], "", 2,
     "argument --match-threshold: nan is out of range"),
    ("evaluate-min-score-inf", [*EVAL, "--out", "{a}/m.json", "--min-score", "inf"], "", 2,
     "argument --min-score: inf is not finite"),
    ("evaluate-unknown-protocol", ["evaluate", "--protocol", "coco", "--pred", "p", "--gt", "g", "--out", "m"], "", 2,
     "argument --protocol: invalid choice: 'coco'"),
    ("evaluate-missing-gt", [*EVAL, "--out", "{a}/m.json"], "", 1, "{a}/gt/evaluation_xyz.json: file not found"),
]


@pytest.mark.parametrize("argv, params, code, fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gets_one_clear_error_and_writes_nothing(arena, capsys, argv, params, code, fragment):
    if params:
        (arena / "bad.yaml").write_text(params.format(a=arena))
    before = snapshot(arena)
    assert main([arg.format(a=arena) for arg in argv]) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[-1].startswith("smhr") and ": error: " in lines[-1], err
    assert fragment.format(a=arena) in lines[-1]
    assert snapshot(arena) == before  # nothing written, moved or removed (the user's file.txt included)


def test_unwritable_output_folder_is_refused(arena, capsys, monkeypatch):
    locked = arena / "locked"
    locked.mkdir(mode=0o555)
    if os.geteuid() == 0:  # root may write anywhere: make the permission check see the folder as others would
        access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == locked else access(p, mode))
    try:
        code = main(["evaluate", "--protocol", "freihand", "--pred", "p", "--gt", "g", "--out", str(locked / "m.json")])
    finally:
        locked.chmod(0o755)
    assert code == 2
    assert f"--out {locked / 'm.json'}: folder {locked} is not writable; choose a writable place" in capsys.readouterr().err
    assert list(locked.iterdir()) == []


SUBPROCESS_CASES = [
    (["transmogrify"], 2, "invalid choice"),
    (["synth", "--image-size", "0"], 2, "--image-size: 0 is out of range"),
    (["evaluate", "--protocol", "freihand", "--pred", "p", "--gt", "g", "--out", "{a}/folder"], 2, "is a folder"),
    (["synth", "--params", "{a}/params.yaml", "--hand-model", "{a}/none.pkl"], 1, "hand model file not found"),
]


@pytest.mark.parametrize("argv, code, fragment", SUBPROCESS_CASES)
def test_exit_codes_of_the_real_process(arena, argv, code, fragment):
    proc = subprocess.run(
        [sys.executable, "-m", "smhr", *(a.format(a=arena) for a in argv)],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.returncode == code
    assert "Traceback" not in proc.stderr and fragment in proc.stderr
