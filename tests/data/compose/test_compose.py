"""The multi-hand composer: K consistency, overlap, occlusion, determinism, read-back, errors."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from smhr.cli import main as cli_main
from smhr.data.synth.backgrounds import ProceduralBackgrounds
from smhr.data.compose.build import ComposeConfig, write_composed
from smhr.data.datasets.composed import ComposedDataset
from smhr.data.datasets.freihand import FreiHAND
from smhr.data.compose.paste import PasteConfig, box_iou, compose_image
from smhr.errors import ConfigError, DatasetError
from smhr.geometry.camera import project

from tests.data.conftest import assert_3d_projects_onto_2d, write_freihand_source

BACKGROUNDS = ProceduralBackgrounds()


def _compose_many(samples, cfg: PasteConfig, n: int = 12):
    return [compose_image(samples, np.random.default_rng([7, i]), cfg, BACKGROUNDS) for i in range(n)]


def test_pasted_hands_project_onto_their_keypoints(samples):
    cfg = PasteConfig(image_size=128, hands_per_image=(0.2, 0.3, 0.5), max_overlap_iou=0.5)
    counts = set()
    for composed in _compose_many(samples, cfg):
        counts.add(len(composed.sample.hands))
        composed.sample.validate()
        for k, hand in enumerate(composed.sample.hands):
            assert_3d_projects_onto_2d(hand)
            np.testing.assert_array_equal(hand.mask, composed.labels == k + 1)
    assert counts <= {1, 2, 3} and len(counts) > 1


@pytest.mark.parametrize("left_prob, side", [(0.0, "right"), (1.0, "left")])
def test_left_prob_sets_the_side(samples, left_prob, side):
    cfg = PasteConfig(image_size=96, left_prob=left_prob, hands_per_image=(0.0, 1.0))
    for composed in _compose_many(samples, cfg, n=4):
        assert {h.side for h in composed.sample.hands} == {side}


def test_overlap_is_controlled(samples):
    cfg = PasteConfig(image_size=128, hands_per_image=(0.0, 0.0, 1.0), max_overlap_iou=0.05, scale_range=(0.3, 0.4))
    for composed in _compose_many(samples, cfg):
        boxes = [h.bbox for h in composed.sample.hands]
        for i in range(len(boxes)):
            for j in range(i):
                assert box_iou(boxes[i], boxes[j]) <= 0.05 + 1e-9


def test_occluded_keypoints_are_not_visible(samples):
    cfg = PasteConfig(image_size=64, hands_per_image=(0.0, 0.0, 0.0, 1.0), max_overlap_iou=1.0, scale_range=(0.7, 0.9))
    occluded = 0
    for composed in _compose_many(samples, cfg):
        labels = composed.labels
        for k, hand in enumerate(composed.sample.hands):
            px = np.clip(np.rint(hand.joints2d).astype(int), 0, 63)
            under_later = labels[px[:, 1], px[:, 0]] > k + 1
            assert not np.any(hand.visible & under_later)
            occluded += int(under_later.sum())
            # the hand's mask holds only the pixels where it is on top
            assert not np.any(hand.mask & (labels != k + 1))
    assert occluded > 0  # the scenario really occludes


def test_write_is_deterministic_and_reads_back(freihand_source, tmp_path):
    cfg = ComposeConfig(source_root=str(freihand_source), num_benchmark=3, num_train=4, image_size=64, seed=3)
    sources = {"benchmark": FreiHAND(freihand_source, "evaluation"), "train": FreiHAND(freihand_source, "training")}
    digests = []
    for name in ("a", "b"):
        out = write_composed(sources, cfg, BACKGROUNDS, tmp_path / name, progress=False)
        files = sorted(p for p in out.rglob("*") if p.is_file())
        digests.append({p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files})
    assert digests[0] == digests[1]
    assert "annotations.json" in digests[0] and len(digests[0]) == 1 + 2 * (3 + 4)
    assert not list(tmp_path.glob(".*"))  # no temporary folders left
    for split, n in (("benchmark", 3), ("train", 4)):
        data = ComposedDataset(tmp_path / "a", split)
        assert len(data) == n
        for sample in data:
            sample.validate()
            assert sample.image.shape == (64, 64, 3)
            for hand in sample.hands:
                assert_3d_projects_onto_2d(hand)
                assert hand.mano is not None and np.all(np.isnan(hand.mano.trans))  # FreiHAND has no trans


def test_other_seed_gives_other_images(freihand_source, tmp_path):
    sources = {"benchmark": FreiHAND(freihand_source, "evaluation"), "train": FreiHAND(freihand_source, "training")}
    outs = []
    for seed in (0, 1):
        cfg = ComposeConfig(num_benchmark=1, num_train=0, image_size=48, seed=seed)
        outs.append(write_composed(sources, cfg, BACKGROUNDS, tmp_path / str(seed), progress=False))
    a, b = ((o / "benchmark/images/00000000.jpg").read_bytes() for o in outs)
    assert a != b


def test_empty_source_and_bad_config_are_clear_errors(samples, tmp_path):
    cfg = ComposeConfig(num_benchmark=1, num_train=1, image_size=32)
    with pytest.raises(DatasetError, match="source is empty"):
        write_composed({"benchmark": [], "train": samples}, cfg, BACKGROUNDS, tmp_path / "out", progress=False)
    assert not any(tmp_path.iterdir())  # nothing left behind
    with pytest.raises(ConfigError, match="scale_range"):
        write_composed({"benchmark": samples, "train": samples}, dataclasses.replace(cfg, scale_range=(0.5, 1.5)),
                       BACKGROUNDS, tmp_path / "out", progress=False)


def test_source_without_masks_names_the_file(samples, tmp_path):
    samples[0].hands[0].mask = None
    with pytest.raises(DatasetError, match="toy/right.*no mask"):
        compose_image(samples[:1], np.random.default_rng(0), PasteConfig(image_size=32), BACKGROUNDS)
    root = write_freihand_source(tmp_path / "nomask", n_train=2, n_eval=1, masks=False)
    with pytest.raises(DatasetError, match=str(Path("training") / "mask")):
        FreiHAND(root, "training")
    (root / "training" / "mask").mkdir()
    with pytest.raises(DatasetError, match=r"mask/0000000[01]\.jpg: image file not found"):
        compose_image(FreiHAND(root, "training"), np.random.default_rng(0), PasteConfig(image_size=32), BACKGROUNDS)


@pytest.mark.pipeline
def test_cli_writes_the_set(freihand_source, tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text(
        "compose:\n"
        f"  source_root: {freihand_source}\n"
        f"  output_root: {tmp_path / 'composed'}\n"
        "  num_benchmark: 2\n  num_train: 2\n  image_size: 48\n"
    )
    assert cli_main(["compose", "--params", str(params), "--no-progress"]) == 0
    assert len(ComposedDataset(tmp_path / "composed", "train")) == 2
    params.write_text(params.read_text() + "  bogus: 1\n")
    assert cli_main(["compose", "--params", str(params), "--no-progress"]) == 2
