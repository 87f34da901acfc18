"""The objective: each stage's terms are finite and reach the network; weak stages read no 3D label."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from smhr.data.training.dataset import DatasetConfig, HandBatch, HandDataset, collate_hands
from smhr.data.training.targets import TargetConfig
from smhr.train.config import FULL_TERMS, LossWeights
from smhr.train.objective import Objective

THREE_D = ("joints3d", "joints3d_valid", "mano_pose", "mano_betas", "mano_trans", "has_mano", "has_trans")
STAGES = {
    "localize": LossWeights(),
    "reproject": LossWeights(reprojection=1.0, bone_direction=1.0, pose_prior=1.0, shape=0.1, consistency=1.0),
    "render": LossWeights(reprojection=1.0, bone_direction=1.0, pose_prior=1.0, shape=0.1, consistency=1.0,
                          silhouette=1.0, photometric=1.0),
    "full": LossWeights(reprojection=1.0, joints3d=1.0, vertices=1.0, mano_pose=1.0, mano_betas=1.0),
}


class NoThreeD(HandBatch):
    """A batch whose 3D label fields cannot be read."""

    def __getattribute__(self, name):
        if name in THREE_D:
            raise AssertionError(f"the objective read the 3D field {name!r}")
        return super().__getattribute__(name)


def _batch(toy_samples, size=64):
    ds = HandDataset(toy_samples[:3], DatasetConfig(image_size=size, max_hands=2, targets=TargetConfig(stride=4)), train=True)
    return collate_hands([ds[i] for i in range(3)])


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_every_term_is_finite_and_reaches_the_network(stage, make_model, toy_samples):
    model = make_model(0)
    batch = _batch(toy_samples)
    terms = Objective(model, STAGES[stage])(model(batch.image), batch)
    assert set(terms) == set(STAGES[stage].active()) | {"total"}
    assert all(torch.isfinite(v) for v in terms.values())
    terms["total"].backward()
    grads = [p.grad for p in model.heads.parameters() if p.grad is not None]
    assert grads and any(g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize("stage", ["localize", "reproject", "render"])
def test_weak_stages_read_no_3d_label(stage, make_model, toy_samples):
    model = make_model(0)
    batch = _batch(toy_samples)
    guarded = NoThreeD(**{f.name: getattr(batch, f.name) for f in dataclasses.fields(HandBatch)})
    Objective(model, STAGES[stage])(model(batch.image), guarded)
    assert not STAGES[stage].reads_3d()


def test_the_guard_catches_a_full_stage(make_model, toy_samples):
    model = make_model(0)
    batch = _batch(toy_samples)
    guarded = NoThreeD(**{f.name: getattr(batch, f.name) for f in dataclasses.fields(HandBatch)})
    for term in FULL_TERMS:
        with pytest.raises(AssertionError, match="3D field"):
            Objective(model, LossWeights(**{term: 1.0}))(model(batch.image), guarded)


def test_silhouette_gradient_reaches_the_parameter_head(make_model, toy_samples):
    """The official code detaches the silhouette; ours must move the hand parameters."""
    model = make_model(0)
    batch = _batch(toy_samples)
    only = LossWeights(center=0.0, center_offset=0.0, keypoint_heatmap=0.0, keypoint_offset=0.0, silhouette=1.0)
    terms = Objective(model, only)(model(batch.image), batch)
    assert float(terms["silhouette"].detach()) > 0
    terms["total"].backward()
    params_head = [p.grad for n, p in model.heads.named_parameters() if "param" in n and p.grad is not None]
    assert params_head and any(g.abs().sum() > 0 for g in params_head)
