"""Schedule, EMA, RNG capture and the resumable sampler."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from smhr.train.ema import ModelEMA
from smhr.train.rng import capture_rng_state, restore_rng_state, seed_everything
from smhr.train.sampler import ResumableBatchSampler
from smhr.train.schedule import lr_factor


def test_warmup_then_cosine_reaches_the_floor():
    f = [lr_factor(s, 100, warmup_steps=10, kind="cosine", min_factor=0.1) for s in range(100)]
    np.testing.assert_allclose(f[:10], np.arange(1, 11) / 10)
    assert all(a >= b for a, b in zip(f[10:], f[11:]))
    assert f[10] == pytest.approx(1.0) and lr_factor(100, 100, 10, "cosine", 0.1) == pytest.approx(0.1)


def test_step_schedule_drops_at_milestones():
    f = [lr_factor(s, 10, kind="step", milestones=(0.5, 0.8), gamma=0.1) for s in range(10)]
    np.testing.assert_allclose(f, [1] * 5 + [0.1] * 3 + [0.01] * 2)
    with pytest.raises(ValueError, match="unknown schedule"):
        lr_factor(0, 10, kind="linear")


def test_ema_tracks_and_restores():
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    ema = ModelEMA(model, decay=0.9)
    with torch.no_grad():
        model[0].weight.add_(1.0)
    ema.update(model)
    d = min(0.9, 2 / 11)
    w0 = ema.shadow[0].weight.clone()
    model[1].num_batches_tracked.fill_(7)
    ema.update(model)
    d = min(0.9, 3 / 12)
    torch.testing.assert_close(ema.shadow[0].weight, d * w0 + (1 - d) * model[0].weight)
    assert int(ema.shadow[1].num_batches_tracked) == 7
    other = ModelEMA(model, decay=0.9)
    other.load_state_dict(ema.state_dict())
    torch.testing.assert_close(other.shadow[0].weight, ema.shadow[0].weight)
    assert other.updates == 2


def test_rng_state_round_trip_through_a_weights_only_file(tmp_path):
    seed_everything(3)
    state = capture_rng_state()
    torch.save(state, tmp_path / "rng.pt")
    first = (random.random(), np.random.rand(), torch.rand(2))
    restore_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True))
    second = (random.random(), np.random.rand(), torch.rand(2))
    assert first[0] == second[0] and first[1] == second[1] and torch.equal(first[2], second[2])


def test_sampler_ranks_partition_the_global_batch_and_resume_continues():
    one = ResumableBatchSampler(10, 4, seed=1)
    ranks = [ResumableBatchSampler(10, 4, seed=1, rank=r, world=2) for r in range(2)]
    for full, a, b in zip(one, *ranks):
        assert sorted(full) == sorted(a + b) and not set(a) & set(b)
    assert len(list(one)) == 2  # drop_last: 10 // 4
    whole = list(ResumableBatchSampler(10, 4, seed=1))
    resumed = ResumableBatchSampler(10, 4, seed=1)
    resumed.set_state(0, 1)
    assert list(resumed) == whole[1:]
    e1 = ResumableBatchSampler(10, 4, seed=1)
    e1.set_state(1, 0)
    assert list(e1) != whole  # a new permutation each epoch
    keep = ResumableBatchSampler(10, 4, drop_last=False, shuffle=False)
    assert list(keep)[-1] == [8, 9]
    with pytest.raises(ValueError, match="multiple"):
        ResumableBatchSampler(10, 3, world=2)
