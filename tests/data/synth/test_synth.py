"""The synthetic FreiHAND-format dataset: readable by the FreiHAND reader, consistent, deterministic, atomic."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from smhr.data.synth import generate as synth_module
from smhr.data.synth.cameras import CameraRanges
from smhr.data.datasets.check import DatasetOptions, check_dataset
from smhr.data.compose.build import ComposeConfig, write_composed
from smhr.data.datasets.freihand import FreiHAND, reference_scale
from smhr.data.datasets.imageio import read_mask
from smhr.data.datasets.sample import in_image
from smhr.data.synth.generate import (
    RESOLVED_CONFIG,
    HandRig,
    SynthConfig,
    render_scenes,
    sample_scene,
    sample_seed,
    synthesize,
)
from smhr.data.synth.backgrounds import ProceduralBackgrounds
from smhr.geometry.camera import project
from smhr.hand import HandModel


def _tiny(out: Path, **changes) -> SynthConfig:
    cfg = SynthConfig(out=out, num_training=5, num_evaluation=2, image_size=64, batch_size=3, supersample=3)
    return dataclasses.replace(cfg, **changes)


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def hand_model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Our procedural right hand (a small pose PCA sample, to build fast)."""
    from smhr.hand.model_file import save_model_data
    from smhr.hand.procedural import ProceduralConfig, build_right

    return save_model_data(build_right(ProceduralConfig(pose_samples=2000)), tmp_path_factory.mktemp("hand") / "right.npz")


@pytest.fixture(scope="module")
def synth_root(hand_model_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "freihand"
    synthesize(_tiny(out), hand_model_file)
    return out


@pytest.fixture(scope="module")
def rig(hand_model_file: Path) -> HandRig:
    return HandRig(HandModel.from_file(hand_model_file))


def test_freihand_reader_reads_the_output_unchanged(synth_root: Path):
    train = FreiHAND(synth_root, "training")
    evaluation = FreiHAND(synth_root, "evaluation")
    assert len(train) == 5 and len(evaluation) == 2
    assert (synth_root / RESOLVED_CONFIG).is_file()
    for dataset in (train, evaluation):
        for i in range(len(dataset)):
            sample = dataset[i]
            sample.validate(own_camera=True)
            assert sample.image.shape == (64, 64, 3)
            (hand,) = sample.hands
            assert hand.side == "right" and hand.mano is not None and hand.verts3d is not None
            rec = dataset.record(i)
            assert rec.scale == pytest.approx(reference_scale(rec.xyz), abs=1e-6)
            assert 0.005 < rec.scale < 0.06  # a finger bone, metres
            assert np.all(rec.xyz[:, 2] > 0.05)


def test_joints_project_inside_the_mask(synth_root: Path):
    inside, total = 0, 0
    for sample in FreiHAND(synth_root, "training"):
        (hand,) = sample.hands
        uv = project(hand.joints3d.astype(np.float64), hand.K.astype(np.float64))
        np.testing.assert_allclose(uv, hand.joints2d, atol=1e-3)
        mask = hand.mask
        assert mask.any()
        for u, v in np.round(uv[hand.visible]).astype(int):
            window = mask[max(v - 2, 0) : v + 3, max(u - 2, 0) : u + 3]  # joints lie inside the fingers
            inside += int(window.any())
            total += 1
    assert total > 0 and inside / total > 0.9


def test_mask_matches_rendered_alpha(rig: HandRig, tmp_path: Path):
    cfg = _tiny(tmp_path / "unused")

    def scenes(invert: bool) -> list:
        drawn = [sample_scene(rig, sample_seed(0, "training", i), cfg, ProceduralBackgrounds()) for i in range(3)]
        return [s._replace(background=255 - s.background) if invert else s for s in drawn]

    for sample, other, scene in zip(render_scenes(rig, scenes(False), cfg), render_scenes(rig, scenes(True), cfg), scenes(True)):
        agree = (sample.mask == (sample.alpha >= 0.5)).mean()
        assert agree > 0.97
        assert 0.02 < sample.mask.mean() < 0.9
        # The hand is in the image: fully covered pixels exist, and most joints project inside.
        covered, empty = sample.alpha >= 1.0, sample.alpha <= 0.0
        assert covered.mean() > 0.01 and empty.mean() > 0.05
        assert in_image(project(sample.joints, sample.K), (64, 64)).mean() >= 0.5
        # Where the hand fully covers a pixel the image is the hand whatever the background;
        # where it covers nothing the image is the background (inverted in the second rendering).
        np.testing.assert_array_equal(sample.image[covered], other.image[covered])
        np.testing.assert_array_equal(other.image[empty], scene.background[empty])
        assert not np.array_equal(sample.image[empty], other.image[empty])


def test_written_masks_match_rendering(rig: HandRig, synth_root: Path):
    cfg = _tiny(synth_root)
    scenes = [sample_scene(rig, sample_seed(cfg.seed, "training", i), cfg, ProceduralBackgrounds()) for i in range(2)]
    for i, sample in enumerate(render_scenes(rig, scenes, cfg)):
        written = read_mask(synth_root / "training" / "mask" / f"{i:08d}.jpg")
        assert (written == sample.mask).mean() > 0.99


def test_mano_parameters_reproduce_the_mesh(rig: HandRig, tmp_path: Path):
    cfg = _tiny(tmp_path / "unused")
    scenes = [sample_scene(rig, sample_seed(0, "evaluation", i), cfg, ProceduralBackgrounds()) for i in range(2)]
    for sample in render_scenes(rig, scenes, cfg):
        pose = torch.as_tensor(sample.mano.pose, dtype=torch.float32)[None]
        out = rig.model(
            global_orient=pose[:, :3], hand_pose=pose[:, 3:],
            betas=torch.as_tensor(sample.mano.betas, dtype=torch.float32)[None],
            transl=torch.as_tensor(sample.mano.trans, dtype=torch.float32)[None],
        )
        torch.testing.assert_close(out.vertices[0].double(), torch.as_tensor(sample.verts), atol=1e-5, rtol=0)
        torch.testing.assert_close(out.joints[0].double(), torch.as_tensor(sample.joints), atol=1e-5, rtol=0)


def test_same_seed_same_bytes_independent_of_batch_size(hand_model_file: Path, synth_root: Path, tmp_path: Path):
    again = tmp_path / "again"
    synthesize(_tiny(again, batch_size=2), hand_model_file)
    first, second = _digest(synth_root), _digest(again)
    first.pop(RESOLVED_CONFIG), second.pop(RESOLVED_CONFIG)  # records the batch size
    assert first == second


def test_different_seed_different_samples(hand_model_file: Path, synth_root: Path, tmp_path: Path):
    other = tmp_path / "other"
    synthesize(_tiny(other, seed=1, num_training=2, num_evaluation=1), hand_model_file)
    a, b = _digest(synth_root), _digest(other)
    for name in ("training/rgb/00000000.jpg", "training/rgb/00000001.jpg", "training_xyz.json"):
        assert a[name] != b[name]


def test_partial_crops_put_joints_outside(rig: HandRig, tmp_path: Path):
    camera = dataclasses.replace(CameraRanges(), crop_prob=1.0, crop_outside=(0.3, 0.4))
    cfg = _tiny(tmp_path / "unused", camera=camera)
    scenes = [sample_scene(rig, sample_seed(0, "training", i), cfg, ProceduralBackgrounds()) for i in range(3)]
    for sample in render_scenes(rig, scenes, cfg):
        uv = project(sample.joints, sample.K)
        outside = (uv < -0.5) | (uv > cfg.image_size - 0.5)
        assert outside.any()
        assert sample.mask.any()


def test_failure_leaves_no_valid_looking_output(hand_model_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    out = tmp_path / "freihand"
    out.mkdir()
    (out / "previous.txt").write_text("an earlier, complete dataset")
    calls = []

    def failing(rig, scenes, cfg):
        calls.append(len(scenes))
        if len(calls) > 1:
            raise RuntimeError("simulated crash")
        return render_scenes(rig, scenes, cfg)

    monkeypatch.setattr(synth_module, "render_scenes", failing)
    with pytest.raises(RuntimeError, match="simulated crash"):
        synthesize(_tiny(out), hand_model_file)
    assert calls == [3, 2]
    # The earlier output is untouched and no temporary or partial dataset is left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["freihand"]
    assert sorted(p.name for p in out.iterdir()) == ["previous.txt"]


def test_synthetic_set_and_its_composition_pass_data_check(synth_root: Path, tmp_path: Path):
    for split, n in (("training", 5), ("evaluation", 2)):
        report = check_dataset("freihand", synth_root, DatasetOptions(split=split), progress=False)
        assert report.ok and report.checked == report.hands == n, report.problems
    sources = {"benchmark": FreiHAND(synth_root, "evaluation"), "train": FreiHAND(synth_root, "training")}
    cfg = ComposeConfig(num_benchmark=4, num_train=4, image_size=96)
    out = write_composed(sources, cfg, ProceduralBackgrounds(), tmp_path / "composed", progress=False)
    for split in ("benchmark", "train"):
        report = check_dataset("composed", out, DatasetOptions(split=split), progress=False)
        assert report.ok and report.checked == 4 and report.hands >= 4, report.problems


def _flat_hand(rig: HandRig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The flat hand's vertices (V, 3) and joints (21, 3), and the unit direction (3,) the four
    fingertips move in when it curls into the mean pose (towards the palm side)."""
    flat_pose = -rig.model.hands_mean.double().numpy()
    verts, joints = rig._forward(np.zeros(3), flat_pose, np.zeros(10))
    tips = [8, 12, 16, 20]
    move = (rig.rest_joints[tips] - joints[tips]).mean(0)
    return verts, joints, move / np.linalg.norm(move)


def test_palm_side_is_where_the_fingers_curl(rig: HandRig):
    from smhr.data.synth.appearance import vertex_normals

    verts, _, flex = _flat_hand(rig)
    assert flex @ rig.frame[:, 2] > 0.5  # the frame's palm normal points where the fingers curl
    cos = vertex_normals(verts, rig.faces.numpy()) @ flex
    palm = rig.regions.palm
    assert palm[cos > 0.5].mean() > 0.9 and palm[cos < -0.5].mean() < 0.05
    assert 0.3 < palm.mean() < 0.7  # about half of the skin


def test_nails_sit_on_the_backs_of_the_five_fingertips(rig: HandRig):
    from smhr.data.synth.appearance import vertex_normals

    verts, joints, flex = _flat_hand(rig)
    nail = rig.regions.nail > 0.5
    tips = joints[[4, 8, 12, 16, 20]]
    dist = np.linalg.norm(verts[:, None] - tips[None], axis=-1)  # (V, 5)
    nearest = dist.argmin(1)
    for k in range(5):
        assert (nail & (nearest == k)).sum() >= 2, f"finger {k} has no nail"
    assert dist[nail].min(1).max() < 0.02  # every nail vertex is within 2 cm of a fingertip
    cos = vertex_normals(verts, rig.faces.numpy())[nail] @ flex
    assert np.all(cos < 0.0)  # on the back, away from where the fingers curl
    assert nail.mean() < 0.1


def test_palms_are_lighter_than_backs_and_nails_stand_out(rig: HandRig):
    from smhr.data.synth.appearance import AppearanceRanges, sample_skin_albedo

    dark = AppearanceRanges(tone_range=(0.8, 1.0))
    palm, back = rig.regions.palm > 0.9, (rig.regions.palm < 0.1) & (rig.regions.nail < 0.1)
    nail = rig.regions.nail > 0.9
    rng = np.random.default_rng(0)
    for _ in range(10):
        albedo = sample_skin_albedo(rig.rest_verts, rng, dark, rig.regions).mean(1)  # (V,) grey level
        assert albedo[palm].mean() > albedo[back].mean() + 0.1
        assert albedo[nail].mean() > albedo[back].mean() + 0.1
    # Without regions (or with zero strengths) the two sides share one tone.
    off = AppearanceRanges(tone_range=(0.8, 1.0), palm_lighten=(0.0, 0.0), nail_strength=(0.0, 0.0))
    albedo = sample_skin_albedo(rig.rest_verts, np.random.default_rng(1), off, rig.regions).mean(1)
    assert abs(albedo[palm].mean() - albedo[back].mean()) < 0.03
