"""``smhr synth`` end to end on a tiny run: the dataset, its file modes, bad inputs, interruptions."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smhr.cli import main
from smhr.data.synth import generate as synth_module
from smhr.data.datasets.freihand import FreiHAND
from smhr.data.synth.generate import RESOLVED_CONFIG
from tests.commands.conftest import snapshot

pytestmark = pytest.mark.pipeline


def _args(arena: Path, hand_model_file: Path, *extra: str) -> list[str]:
    return ["synth", "--params", str(arena / "params.yaml"), "--hand-model", str(hand_model_file), *extra]


def test_tiny_run_writes_a_freihand_dataset(arena, hand_model_file, capsys):
    old = os.umask(0o022)
    try:
        code = main(_args(arena, hand_model_file, "--num-training", "3", "--num-evaluation", "2", "--image-size", "32"))
    finally:
        os.umask(old)
    assert code == 0
    assert "wrote 3 training + 2 evaluation samples" in capsys.readouterr().out
    root = arena / "synth"
    training, evaluation = FreiHAND(root, "training"), FreiHAND(root, "evaluation")
    assert (len(training), len(evaluation)) == (3, 2)
    sample = training[0]
    assert sample.image.shape == (32, 32, 3) and len(sample.hands) == 1
    assert (root / RESOLVED_CONFIG).is_file()
    modes = {stat.S_IMODE(p.stat().st_mode) for p in root.rglob("*") if p.is_file()}
    assert modes == {0o644}  # the umask decides, not mkstemp's 0600
    assert sorted(p.name for p in arena.iterdir() if p.name.startswith(".")) == []


def test_missing_model_file_writes_nothing(arena, capsys):
    before = snapshot(arena)
    assert main(["synth", "--params", str(arena / "params.yaml"), "--hand-model", str(arena / "none.pkl")]) == 1
    assert "none.pkl: hand model file not found; run 'smhr hand-model' first" in capsys.readouterr().err
    assert snapshot(arena) == before


def test_default_model_comes_from_base_section(arena, hand_model_file, capsys):
    params = arena / "params.yaml"
    params.write_text(params.read_text() + f"base:\n  hand_model_right: {arena / 'missing_right.pkl'}\n")
    assert main(["synth", "--params", str(params)]) == 1
    assert "missing_right.pkl: hand model file not found" in capsys.readouterr().err
    params.write_text(params.read_text().replace(str(arena / "missing_right.pkl"), str(hand_model_file)))
    assert main(["synth", "--params", str(params), "--num-training", "1", "--num-evaluation", "0"]) == 0
    assert len(FreiHAND(arena / "synth", "training")) == 1


@pytest.fixture()
def interruptible():
    """Python's own SIGINT handler for the test: a shell starts background jobs with SIGINT ignored
    (and Python keeps that), so without it the test would depend on how pytest was started."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("stop, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_mid_run_keeps_the_old_dataset_and_leaves_no_temp(arena, hand_model_file, monkeypatch, capsys,
                                                                 interruptible, stop, code):
    assert main(_args(arena, hand_model_file, "--num-training", "2", "--num-evaluation", "1")) == 0
    before = snapshot(arena)
    handler = signal.getsignal(signal.SIGTERM)
    write_split = synth_module.write_split

    def interrupted(*args, **kwargs):
        write_split(*args, **kwargs)  # the first split is on disk in the temporary folder
        os.kill(os.getpid(), stop)
        time.sleep(1)  # the handler raises here at the latest

    monkeypatch.setattr(synth_module, "write_split", interrupted)
    assert main(_args(arena, hand_model_file, "--num-training", "3", "--num-evaluation", "1", "--seed", "1")) == code
    assert "partial outputs were removed" in capsys.readouterr().err
    assert snapshot(arena) == before
    assert signal.getsignal(signal.SIGTERM) == handler  # main restored the handler


@pytest.mark.slow
def test_sigterm_to_the_process_removes_the_temporary_folder(arena, hand_model_file):
    cmd = [sys.executable, "-m", "smhr", *_args(arena, hand_model_file, "--num-training", "400", "--image-size", "64")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    tmp = arena / ".synth.tmp"
    while not tmp.exists() and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "terminated; partial outputs were removed" in err
    assert not tmp.exists() and not (arena / "synth").exists()
