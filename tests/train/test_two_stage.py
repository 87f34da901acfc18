"""The two-stage baseline's training: crop targets, jitter, its terms, and the trainer running it."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from smhr.data.training.dataset import DatasetConfig, HandBatch, HandDataset, collate_hands
from smhr.data.training.targets import TargetConfig
from smhr.errors import ConfigError
from smhr.geometry.camera import project
from smhr.model.crops import apply_affine, square_boxes
from smhr.train.config import LossWeights
from smhr.train.objective_two_stage import TwoStageObjective, jitter_boxes, jitter_draws
from smhr.train.trainer import Runtime, load_state, train_stage
from tests.train.test_objective import STAGES, NoThreeD
from tests.train.test_trainer import DATA, STAGE

CROP = 32
"""The tiny network's crop size (TINY's input is 64 px)."""


@pytest.fixture()
def make_two(make_model):
    return lambda seed=0: make_model(seed, architecture="two_stage", crop_size=CROP)


def _batch(samples, size=64, dtype=torch.float32) -> HandBatch:
    ds = HandDataset(samples, DatasetConfig(image_size=size, max_hands=2, targets=TargetConfig(stride=4)), train=True)
    batch = collate_hands([ds[i] for i in range(len(samples))])
    return HandBatch(**{f.name: (v.to(dtype) if v.is_floating_point() else v)
                        for f in dataclasses.fields(HandBatch) for v in [getattr(batch, f.name)]})


def _weights(stage: str) -> LossWeights:
    return dataclasses.replace(STAGES[stage], box_size=1.0)


def test_a_hand_mapped_into_the_crop_and_back_is_exact(make_two, toy_samples):
    """Labels go into the crop with inference's affine A and come back with A^-1; A @ K re-projects them."""
    model = make_two().double()
    batch = _batch(toy_samples[:3], dtype=torch.float64)
    crops = TwoStageObjective(model, _weights("full")).crops(batch, step=5)
    ii, sl = crops.image_index, crops.slot
    assert crops.batch.image.shape == (3, 3, CROP, CROP) and crops.batch.hand_mask.shape == (3, 1)
    back = apply_affine(torch.linalg.inv(crops.A), crops.batch.joints2d[:, 0])
    torch.testing.assert_close(back, batch.joints2d[ii, sl], atol=1e-9, rtol=0)
    box_back = apply_affine(torch.linalg.inv(crops.A), crops.batch.bbox[:, 0].reshape(-1, 2, 2)).reshape(-1, 4)
    torch.testing.assert_close(box_back, batch.bbox[ii, sl], atol=1e-9, rtol=0)
    # the crop's camera A @ K sees the (camera-frame) 3D joints where the mapped 2D labels are (to the
    # float32 precision the dataset stores its labels with: 2e-6 px measured)
    reproj = project(batch.joints3d[ii, sl], crops.batch.K[:, 0])
    torch.testing.assert_close(reproj, crops.batch.joints2d[:, 0], atol=1e-4, rtol=0)
    torch.testing.assert_close(crops.batch.joints3d[:, 0], batch.joints3d[ii, sl])
    # the crop image is the image resampled by the same A: each keypoint peak sits at its joint
    heat = crops.batch.keypoint_heatmap
    assert heat.shape == (3, 21, CROP // 4, CROP // 4) and float(heat.amax()) > 0.5


def test_without_jitter_the_hand_is_centred_in_the_square_inference_crop(make_two, toy_samples):
    model = make_two().double()
    batch = _batch(toy_samples[:3], dtype=torch.float64)
    crops = TwoStageObjective(model, _weights("localize")).crops(batch, step=None)
    box = batch.bbox[crops.image_index, crops.slot]
    centre = apply_affine(crops.A, ((box[:, :2] + box[:, 2:]) / 2)[:, None])[:, 0]
    torch.testing.assert_close(centre, torch.full_like(centre, (CROP - 1) / 2), atol=1e-9, rtol=0)
    square = square_boxes(box)
    torch.testing.assert_close(crops.A[:, 0, 0], CROP / (square[:, 2] - square[:, 0]))


def test_jitter_is_a_function_of_seed_step_and_image():
    index = torch.tensor([3, 7])
    a = jitter_draws(0, 5, index, 2)
    assert a.shape == (2, 2, 3) and float(a.abs().max()) <= 1.0
    torch.testing.assert_close(jitter_draws(0, 5, index, 2), a, atol=0, rtol=0)
    torch.testing.assert_close(jitter_draws(0, 5, index[1:], 2)[0], a[1], atol=0, rtol=0)  # not the batch's make-up
    assert not torch.equal(jitter_draws(0, 6, index, 2), a) and not torch.equal(jitter_draws(1, 5, index, 2), a)
    box = torch.tensor([[10.0, 20.0, 50.0, 60.0]])
    torch.testing.assert_close(jitter_boxes(box, torch.zeros(1, 3)), box)
    out = jitter_boxes(box, torch.tensor([[1.0, 1.0, -1.0]]), scale=0.5, shift=0.25)
    torch.testing.assert_close(out, torch.tensor([[10.0, 0.0, 70.0, 60.0]]))  # side 60, centre (40, 30)


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_every_term_is_finite_and_reaches_both_networks(stage, make_two, toy_samples):
    model = make_two()
    weights = _weights(stage)
    terms = TwoStageObjective(model, weights).terms(model, _batch(toy_samples[:3]), step=0)
    assert set(terms) == set(weights.active()) | {"total"}
    assert all(torch.isfinite(v) for v in terms.values())
    terms["total"].backward()
    for part in (model.detector.towers, model.regressor.towers):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in part.parameters())


@pytest.mark.parametrize("stage", ["localize", "reproject", "render"])
def test_weak_stages_read_no_3d_label(stage, make_two, toy_samples):
    model = make_two()
    batch = _batch(toy_samples[:3])
    guarded = NoThreeD(**{f.name: getattr(batch, f.name) for f in dataclasses.fields(HandBatch)})
    TwoStageObjective(model, _weights(stage)).terms(model, guarded, step=0)


def test_box_size_weight_is_required_for_the_two_stage_and_refused_for_the_single_stage(make_model, make_two):
    with pytest.raises(ConfigError, match="box_size = 0"):
        TwoStageObjective(make_two(), STAGES["localize"])
    from smhr.train.objective import Objective

    with pytest.raises(ConfigError, match="only the two-stage baseline"):
        Objective(make_model(0), _weights("localize"))


def test_a_few_steps_lower_the_loss(make_two, toy_samples):
    """Ten AdamW steps on one tiny batch (the jitter fixed at step 0) lower the reproject stage's total."""
    torch.use_deterministic_algorithms(True, warn_only=True)
    model = make_two()
    objective = TwoStageObjective(model, _weights("reproject"))
    batch = _batch(toy_samples[:4])
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    totals = []
    for _ in range(10):
        total = objective.terms(model, batch, step=0)["total"]
        opt.zero_grad()
        total.backward()
        opt.step()
        totals.append(float(total.detach()))
    assert totals[-1] < 0.8 * totals[0], totals


def test_killed_and_resumed_equals_uninterrupted_bitwise(make_two, toy_samples, tmp_path):
    """Exact resume for the two-stage baseline: the crop jitter is replayed from (seed, step, image)."""
    stage = dataclasses.replace(STAGE, weights=dataclasses.replace(STAGE.weights, box_size=1.0))
    run = Runtime(progress=False)

    def train(out, **kw):
        model = make_two(0)
        metrics = train_stage(model, stage, DATA, toy_samples[:8], toy_samples[8:], out, seed=0, single_camera=True,
                              runtime=kw.pop("runtime", run), **kw)
        return model, metrics

    full, m_full = train(tmp_path / "a")
    assert train(tmp_path / "b", runtime=dataclasses.replace(run, stop_after=3))[1] == {}
    assert load_state(tmp_path / "b" / "state.pt")["architecture"] == "two_stage"
    resumed, m_res = train(tmp_path / "b", resume=True)
    for (name, a), (_, b) in zip(full.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), name
    assert (tmp_path / "a" / "metrics.json").read_bytes() == (tmp_path / "b" / "metrics.json").read_bytes()
    assert json.dumps(m_full) == json.dumps(m_res)
    assert set(m_full) >= {"step", "ap", "recall", "handedness_acc", "joints2d_err_px"}
