"""``smhr train``: stages chain through model.pt, outputs are complete, bad input is one clear error."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from smhr.cli import main
from smhr.config import load_section, read_params
from smhr.model.build import build_model, load_hand_models
from smhr.model.checkpoint import load_checkpoint, save_checkpoint
from smhr.model.config import ModelConfig
from smhr.train.config import TrainConfig, parse_train_config, resolve_model, resolve_stages, shared_prefix
from tests.data.fixtures_freihand import write_freihand_fixture

ROOT = Path(__file__).resolve().parents[2]
NO_AUGMENT = {"scale": [1.0, 1.0], "rotation_deg": 0.0, "translate": 0.0, "flip_prob": 0.0,
              "brightness": 0.0, "contrast": 0.0, "saturation": 0.0}
LOCALIZE = {"center": 1.0, "center_offset": 1.0, "keypoint_heatmap": 1.0, "keypoint_offset": 1.0}


def write_params(folder: Path, hand_files, data_root: Path, steps: int = 2, norm: str = "group",
                 weights: dict | None = None, batch_size: int = 4) -> Path:
    """A tiny params.yaml: the tiny network, two stages on a FreiHAND-layout fixture, one variant."""
    stage = {"data": "single", "input_size": 64, "batch_size": batch_size, "steps": steps, "lr": 1.0e-3,
             "warmup_steps": 1, "val_every": steps, "checkpoint_every": 1, "log_every": 1}
    params = {
        "base": {"seed": 0, "hand_model_right": str(hand_files.right), "hand_model_left": str(hand_files.left)},
        "model": {"width": 0.25, "input_size": 64, "neck_channels": 16, "head_channels": 16, "norm": norm,
                  "crop_size": 32},
        "train": {
            "seed": 0,
            "data": {"single_root": str(data_root), "multi_root": str(folder / "no_composed"), "val_images": 4,
                     "max_hands": 2, "num_workers": 0, "augment": NO_AUGMENT},
            "stages": {"localize": stage | {"weights": weights or LOCALIZE},
                       "reproject": stage | {"weights": (weights or LOCALIZE) | {"reprojection": 1.0, "shape": 0.01}}},
            "variants": {"no_shape": {"weights": {"shape": 0.0}},
                         "two_stage": {"architecture": "two_stage", "weights": {"box_size": 1.0}}},
        },
    }
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def hand_files(params: Path) -> tuple[str, str]:
    """(right, left) hand-model files of a params file."""
    return tuple(read_params(params)["base"][f"hand_model_{side}"] for side in ("right", "left"))


@pytest.fixture()
def arena(tmp_path, procedural_model_files):
    data = write_freihand_fixture(tmp_path / "freihand", "training", n=12, versions=1).root
    return tmp_path, write_params(tmp_path, procedural_model_files, data)


def _train(params: Path, stage: str, out: Path, *extra: str) -> int:
    return main(["train", "--params", str(params), "--stage", stage, "--out", str(out), "--no-progress", *extra])


@pytest.mark.slow
def test_two_stages_chain_through_model_pt(arena):
    tmp, params = arena
    runs = tmp / "runs"
    assert _train(params, "localize", runs / "localize") == 0
    for name in ("model.pt", "metrics.json", "config.yaml", "state.pt"):
        assert (runs / "localize" / name).is_file(), name
    assert (runs / "localize" / "live").is_dir()
    first, meta = load_checkpoint(runs / "localize" / "model.pt")
    assert meta["extra"] == {"stage": "localize", "variant": "main", "step": 2, "seed": 0}
    assert meta["config"].norm == "group" and meta["config"].input_size == 64
    config = yaml.safe_load((runs / "localize" / "config.yaml").read_text())
    assert config["stage"] == "localize" and config["init"] is None and config["train"]["steps"] == 2
    assert set(json.loads((runs / "localize" / "metrics.json").read_text())) >= {"step", "ap", "joints2d_err_px"}

    # the second stage starts from the first one's weights (derived sibling folder), and trains on
    (runs / "localize" / "model.pt").rename(runs / "localize" / "moved.pt")
    assert _train(params, "reproject", runs / "reproject") == 2  # no previous model: refused before work
    (runs / "localize" / "moved.pt").rename(runs / "localize" / "model.pt")
    assert _train(params, "reproject", runs / "reproject") == 0
    second, meta = load_checkpoint(runs / "reproject" / "model.pt")
    assert meta["extra"]["stage"] == "reproject"
    assert yaml.safe_load((runs / "reproject" / "config.yaml").read_text())["init"] == str(runs / "localize")
    changed = [k for k, v in first.state_dict().items() if not torch.equal(v, second.state_dict()[k])]
    assert changed  # trained further


def test_init_from_previous_stage_loads_its_weights(arena):
    """With lr ~ 0 the second stage's model equals the first one's: the weights really were loaded."""
    tmp, params = arena
    assert _train(params, "localize", tmp / "a" / "localize") == 0
    raw = read_params(params)
    raw["train"]["stages"]["reproject"]["lr"] = 1.0e-12
    raw["train"]["stages"]["reproject"]["steps"] = 1
    tiny_lr = tmp / "tiny_lr.yaml"
    tiny_lr.write_text(yaml.safe_dump(raw))
    assert _train(tiny_lr, "reproject", tmp / "b" / "reproject", "--init", str(tmp / "a" / "localize")) == 0
    first, _ = load_checkpoint(tmp / "a" / "localize" / "model.pt")
    second, _ = load_checkpoint(tmp / "b" / "reproject" / "model.pt")
    for key, value in first.state_dict().items():
        if value.is_floating_point() and "running" not in key:
            torch.testing.assert_close(second.state_dict()[key], value, atol=1e-6, rtol=0, msg=key)


def test_seed_option_overrides_params_seed(arena):
    """--seed is the run's seed: recorded in the checkpoint, and another seed gives other weights."""
    tmp, params = arena
    assert _train(params, "localize", tmp / "s0" / "localize") == 0
    assert _train(params, "localize", tmp / "s3" / "localize", "--seed", "3") == 0
    net0, meta0 = load_checkpoint(tmp / "s0" / "localize" / "model.pt")
    net3, meta3 = load_checkpoint(tmp / "s3" / "localize" / "model.pt")
    assert meta0["extra"]["seed"] == 0 and meta3["extra"]["seed"] == 3
    assert yaml.safe_load((tmp / "s3" / "localize" / "config.yaml").read_text())["train"]["seed"] == 3
    differ = [k for k, v in net0.state_dict().items() if v.is_floating_point() and not torch.equal(v, net3.state_dict()[k])]
    assert differ


BAD = [
    ("unknown-stage", ["--stage", "polish"], 2, "unknown stage 'polish'"),
    ("unknown-variant", ["--stage", "localize", "--variant", "shiny"], 2, "unknown training variant 'shiny'"),
    ("two-stage-init-single", ["--stage", "reproject", "--variant", "two_stage", "--init", "{t}/single"], 1,
     "a single_stage checkpoint, but a two_stage network is needed here"),
    ("resume-without-state", ["--stage", "localize", "--resume"], 2, "state.pt not found; run without --resume"),
    ("out-is-file", ["--stage", "localize", "--out", "{t}/file.txt"], 2, "is a file, expected a folder"),
    ("previous-missing", ["--stage", "reproject"], 2, "previous stage 'localize' has no model"),
    ("multi-root-missing", ["--stage", "localize", "--params", "{t}/multi.yaml"], 1, "multi_root"),
    ("single-root-missing", ["--stage", "localize", "--params", "{t}/noroot.yaml"], 1, "single_root"),
    ("negative-seed", ["--stage", "localize", "--seed", "-1"], 2, "--seed -1: must be >= 0"),
    ("amp-on-cpu", ["--stage", "localize", "--amp", "bf16"], 2, "--amp bf16: mixed precision needs --device cuda"),
]


@pytest.mark.parametrize("argv, code, message", [row[1:] for row in BAD], ids=[row[0] for row in BAD])
def test_bad_input_is_one_clear_error(arena, capsys, argv, code, message):
    tmp, params = arena
    (tmp / "file.txt").write_text("x")
    raw = read_params(params)
    raw["train"]["stages"]["localize"]["data"] = "multi"
    (tmp / "multi.yaml").write_text(yaml.safe_dump(raw))
    raw = read_params(params)
    raw["train"]["data"]["single_root"] = str(tmp / "nowhere")
    (tmp / "noroot.yaml").write_text(yaml.safe_dump(raw))
    if "{t}/single" in argv:  # a single-stage previous stage for a two-stage run
        cfg = load_section(ModelConfig, "model", params)
        save_checkpoint(tmp / "single" / "model.pt", build_model(cfg, *load_hand_models(*hand_files(params))), cfg,
                        hand_files(params))
    args = ["train", "--params", str(params), "--out", str(tmp / "out"), "--no-progress"]
    args += [a.replace("{t}", str(tmp)) for a in argv]
    assert main(args) == code
    err = capsys.readouterr().err
    assert message.replace("{t}", str(tmp)) in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp / "out" / "model.pt").exists()


def test_project_params_train_section():
    """params.yaml's train section parses; the four main stages in order; every variant resolves."""
    raw = read_params(ROOT / "params.yaml")
    cfg = parse_train_config(raw["train"])
    assert list(cfg.stages) == ["localize", "reproject", "render", "multi"]
    assert [s.data for s in cfg.stages.values()] == ["single", "single", "single", "multi"]
    assert cfg.stages["multi"].input_size > cfg.stages["render"].input_size
    assert cfg.data == TrainConfig().data  # the class defaults are the documented cpu profile
    weak = [s.weights for s in cfg.stages.values()]
    assert not any(w.reads_3d() for w in weak)
    assert resolve_stages(cfg, "full")["localize"].weights.reads_3d()
    assert resolve_stages(cfg, "no_consistency")["render"].weights.consistency == 0.0
    assert resolve_stages(cfg, "no_silhouette")["render"].weights.silhouette == 0.0
    assert resolve_stages(cfg, "no_photometric")["multi"].weights.photometric == 0.0
    collapsed = resolve_stages(cfg, "no_stagewise")
    assert list(collapsed) == ["all"] and collapsed["all"].weights.photometric > 0
    assert collapsed["all"].steps == sum(s.steps for s in cfg.stages.values())
    # the two-stage baseline: main's stages and weights (+ its detector's box term) on its own network
    assert resolve_model(cfg, ModelConfig(), "two_stage").architecture == "two_stage"
    assert resolve_model(cfg, ModelConfig(), "full").architecture == "single_stage"
    for (name, two), (_, main_stage) in zip(resolve_stages(cfg, "two_stage").items(), cfg.stages.items()):
        assert two.weights.box_size > 0 and dataclasses.replace(two.weights, box_size=0.0) == main_stage.weights, name
        assert dataclasses.replace(two, weights=main_stage.weights) == main_stage, name
    assert shared_prefix(cfg, "two_stage") == []  # never reuses main's (single-stage) models


def test_two_stage_variant_trains_its_architecture(arena):
    """``--variant two_stage`` trains the baseline: model.pt and state.pt record it, the next stage chains."""
    tmp, params = arena
    runs = tmp / "two_stage"
    assert _train(params, "localize", runs / "localize", "--variant", "two_stage") == 0
    net, meta = load_checkpoint(runs / "localize" / "model.pt", architecture="two_stage")
    assert meta["config"].architecture == "two_stage" and meta["extra"]["variant"] == "two_stage"
    assert yaml.safe_load((runs / "localize" / "config.yaml").read_text())["model"]["architecture"] == "two_stage"
    assert torch.load(runs / "localize" / "state.pt", weights_only=True)["architecture"] == "two_stage"
    metrics = json.loads((runs / "localize" / "metrics.json").read_text())
    assert set(metrics) >= {"step", "ap", "recall", "handedness_acc", "joints2d_err_px"}
    assert metrics["joints2d_err_px"] is not None
    assert _train(params, "reproject", runs / "reproject", "--variant", "two_stage") == 0
    assert load_checkpoint(runs / "reproject" / "model.pt")[1]["config"].architecture == "two_stage"


@pytest.mark.slow
def test_two_processes_equal_one_process(tmp_path, procedural_model_files):
    """torchrun with 2 CPU processes (gloo) = 1 process with the same global batch.

    GroupNorm (BatchNorm statistics would be per process) and terms whose per-process counts are
    equal (one centre per image, every joint visible without augmentation), so the mean of the two
    processes' means is the global mean: the only difference is float summation order, amplified by
    AdamW's normalisation where a gradient is near zero (an update of up to lr per step whatever the
    gradient's size). Measured after 3 steps at lr 1e-3: 4.4e-6 on one machine, 7.9e-5 on another;
    atol 2e-4. With unequal counts (keypoint heatmap on) or BatchNorm the same runs differ by 5e-3,
    so the test still tells them apart.
    """
    data = write_freihand_fixture(tmp_path / "freihand", "training", n=12, versions=1).root
    weights = {"center": 1.0, "center_offset": 1.0, "keypoint_heatmap": 0.0, "keypoint_offset": 1.0,
               "reprojection": 1.0, "bone_direction": 0.5}
    params = write_params(tmp_path, procedural_model_files, data, steps=3, weights=weights)
    env = os.environ | {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    common = ["-m", "smhr", "train", "--params", str(params), "--stage", "localize", "--no-progress"]
    one = subprocess.run([sys.executable, *common, "--out", str(tmp_path / "one")], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert one.returncode == 0, one.stderr[-2000:]
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                          *common, "--out", str(tmp_path / "two")], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert two.returncode == 0, two.stderr[-2000:]
    a, _ = load_checkpoint(tmp_path / "one" / "model.pt")
    b, _ = load_checkpoint(tmp_path / "two" / "model.pt")
    for key, value in a.state_dict().items():
        torch.testing.assert_close(b.state_dict()[key], value, atol=2e-4, rtol=0, msg=key)
    m1 = json.loads((tmp_path / "one" / "metrics.json").read_text())
    m2 = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert m1.keys() == m2.keys()
    for key in m1:
        assert (m1[key] is None and m2[key] is None) or abs(m1[key] - m2[key]) <= 1e-3, key
