"""HandDataset + collate_hands: shapes, padding, consistency, determinism, DataLoader."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from smhr.data.synth.backgrounds import ProceduralBackgrounds
from smhr.data.training.dataset import IMAGENET_MEAN, IMAGENET_STD, DatasetConfig, HandBatch, HandDataset, collate_hands
from smhr.data.compose.paste import PasteConfig, compose_image
from smhr.geometry.camera import project


@pytest.fixture
def multi(samples):
    cfg = PasteConfig(image_size=96, hands_per_image=(0.0, 0.5, 0.5), max_overlap_iou=0.2)
    return [compose_image(samples, np.random.default_rng(i), cfg, ProceduralBackgrounds()).sample for i in range(6)]


CFG = DatasetConfig(image_size=64, max_hands=4)


@pytest.mark.parametrize("train", [False, True])
def test_item_shapes_padding_and_consistency(multi, train):
    data = HandDataset(multi, CFG, train=train)
    for i in range(len(data)):
        item = data[i]
        assert item.image.shape == (3, 64, 64) and item.image.dtype == torch.float32
        assert item.hand_mask.shape == (4,) and item.joints2d.shape == (4, 21, 2) and item.K.shape == (4, 3, 3)
        assert item.masks.shape == (4, 16, 16) and item.center_heatmap.shape == (2, 16, 16)
        assert item.keypoint_heatmap.shape == (21, 16, 16)
        n = int(item.hand_mask.sum())
        assert n == len(multi[i].hands) or train  # training may drop hands pushed out of the image
        assert not item.hand_mask[n:].any() and not item.joints2d[n:].any() and not item.center_valid[n:].any()
        real = item.hand_mask
        assert_close(project(item.joints3d[real].double(), item.K[real].double()), item.joints2d[real].double(), atol=1e-3, rtol=0)
        assert item.has_trans[real].all() and item.has_mano[real].all() and item.has_mask[real].all()
        for k in torch.nonzero(item.center_valid).flatten().tolist():
            y, x = divmod(int(item.center_index[k]), 16)
            assert item.center_heatmap[int(item.side[k]), y, x] == pytest.approx(1.0)


def test_eval_is_a_letterbox_and_normalised(multi):
    sample = dataclasses.replace(multi[0], image=np.full((96, 96, 3), 200, np.uint8))
    item = HandDataset([sample], CFG, train=False)[0]
    expected = (200 / 255 - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD)
    assert_close(item.image[:, 32, 32], expected.float(), atol=1e-5, rtol=0)
    # an eval item's keypoints are the source ones scaled by 64 / 96 (pixel-centre convention)
    src = multi[0].hands[0].joints2d
    assert_close(item.joints2d[0], torch.as_tensor((src + 0.5) * (64 / 96) - 0.5), atol=1e-4, rtol=0)


def test_augmentation_is_deterministic_per_epoch(multi):
    data = HandDataset(multi, CFG, train=True)
    a, b = data[2], data[2]
    assert_close(a.image, b.image)
    assert_close(a.joints2d, b.joints2d)
    data.set_epoch(1)
    assert not torch.equal(data[2].image, a.image)


def test_collate_pads_to_the_largest_hand_count(multi):
    small = HandDataset(multi, dataclasses.replace(CFG, max_hands=2), train=False)
    large = HandDataset(multi, CFG, train=False)
    batch = collate_hands([small[0], large[1], small[2]])
    assert isinstance(batch, HandBatch)
    assert batch.image.shape == (3, 3, 64, 64) and batch.hand_mask.shape == (3, 4)
    assert batch.joints2d.shape == (3, 4, 21, 2) and batch.masks.shape == (3, 4, 16, 16)
    assert batch.center_heatmap.shape == (3, 2, 16, 16) and batch.index.tolist() == [0, 1, 2]
    assert not batch.hand_mask[0, 2:].any() and not batch.K[0, 2:].any()
    assert_close(batch.joints2d[1], large[1].joints2d)
    moved = batch.to("cpu")
    assert moved.image.data_ptr() == batch.image.data_ptr()


def test_extra_hands_are_dropped_and_loader_batches(multi):
    data = HandDataset(multi, dataclasses.replace(CFG, max_hands=1), train=False)
    assert all(int(data[i].hand_mask.sum()) == 1 for i in range(len(data)))
    loader = torch.utils.data.DataLoader(data, batch_size=4, collate_fn=collate_hands, num_workers=0)
    sizes = [batch.image.shape[0] for batch in loader]
    assert sizes == [4, 2]
    with pytest.raises(ValueError, match="multiple of the target stride"):
        HandDataset(multi, dataclasses.replace(CFG, image_size=66), train=False)


@pytest.mark.pipeline
def test_data_benchmark_writes_its_report(tmp_path):
    import json

    from smhr.bench.data import main

    argv = ["--root", str(tmp_path / "absent"), "--image-size", "64", "--batch-size", "2", "--batches", "2",
            "--workers", "0", "--toy-images", "4", "--out", str(tmp_path / "bench")]
    assert main(argv) == 0
    text = (tmp_path / "bench" / "data.json").read_text()
    result = json.loads(text)
    assert list(result) == sorted(result) and result["source"] == "temporary toy composed set"
    assert [row["num_workers"] for row in result["results"]] == [0] and result["results"][0]["samples_per_s"] > 0
    assert "| 0 |" in (tmp_path / "bench" / "data.md").read_text()


@pytest.mark.parametrize("train", [False, True])
def test_items_from_cached_samples_equal_items_read_from_disk(freihand_source, train):
    """Two epochs over the decoded-sample cache give the same tensors as fresh reads: augmentation
    and target encoding never modify a sample in place (cached arrays are read-only, so they could not)."""
    from smhr.data.datasets.freihand import FreiHAND
    from smhr.data.training.cache import CachedSamples

    base = FreiHAND(freihand_source, "training", version="gs", load_verts=False)
    fresh, cached = HandDataset(base, CFG, train=train), HandDataset(CachedSamples(base, 2**30), CFG, train=train)
    for epoch in (0, 1):
        fresh.set_epoch(epoch)
        cached.set_epoch(epoch)
        for i in range(len(base)):
            a, b = fresh[i], cached[i]
            for f in dataclasses.fields(HandBatch):
                assert torch.equal(getattr(a, f.name), getattr(b, f.name)), (epoch, i, f.name)
    assert cached.samples.hits == len(base) and cached.samples.misses == len(base)
