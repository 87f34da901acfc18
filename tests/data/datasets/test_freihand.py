import hashlib
import json

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from smhr.data.datasets.freihand import FreiHAND, FreiHANDWriter, join_mano, reference_scale, split_mano
from smhr.data.datasets.sample import ManoParams
from smhr.errors import DatasetError
from smhr.geometry.camera import project
from tests.data.fixtures_freihand import HEIGHT, WIDTH, write_freihand_fixture


@pytest.fixture
def training(tmp_path):
    return write_freihand_fixture(tmp_path, "training", n=3, versions=2)


def _t(x):
    return torch.as_tensor(np.asarray(x, np.float64))


def test_training_sample_matches_fixture(training):
    ds = FreiHAND(training.root, "training", version="gs")
    assert len(ds) == 3
    for i in range(3):
        sample = ds[i]
        sample.validate()
        (hand,) = sample.hands
        assert hand.side == "right" and sample.image.shape == (HEIGHT, WIDTH, 3)
        assert_close(_t(hand.joints3d), _t(training.xyz[i]), atol=1e-6, rtol=0)
        assert_close(_t(hand.K), _t(training.K[i]), atol=1e-4, rtol=0)
        uvw = training.xyz[i] @ training.K[i].T
        assert_close(_t(hand.joints2d), _t(uvw[:, :2] / uvw[:, 2:]), atol=1e-3, rtol=0)
        assert_close(_t(hand.verts3d), _t(training.verts[i]), atol=1e-6, rtol=0)
        assert_close(_t(hand.mano.pose), _t(training.mano[i, :48]), atol=1e-6, rtol=0)
        assert_close(_t(hand.mano.betas), _t(training.mano[i, 48:58]), atol=1e-6, rtol=0)
        assert np.isnan(hand.mano.trans).all()
        assert (hand.mask == training.masks[i]).mean() > 0.98
        assert hand.visible.all()
        assert hand.bbox[0] == pytest.approx(hand.joints2d[:, 0].min())
        assert hand.bbox[3] == pytest.approx(hand.joints2d[:, 1].max())


def test_versions_offset_images_and_share_annotations(training):
    gs, hom = FreiHAND(training.root, version="gs"), FreiHAND(training.root, version=1)
    both = FreiHAND(training.root, version="all")
    assert len(both) == 6 and both.versions == (0, 1)
    assert hom[2].source.endswith("00000005") and both[4].source.endswith("00000004")
    # the fixture's images have mean grey level 40 + 60 * version
    assert abs(float(gs[0].image.mean()) - 40) < 4 and abs(float(hom[0].image.mean()) - 100) < 4
    assert_close(_t(hom[1].hands[0].joints3d), _t(gs[1].hands[0].joints3d))
    assert (hom[1].hands[0].mask == gs[1].hands[0].mask).all()
    with pytest.raises(DatasetError, match="version 'sample' is not present"):
        FreiHAND(training.root, version="sample")


def test_evaluation_split_reads_segmap(tmp_path):
    fx = write_freihand_fixture(tmp_path, "evaluation", n=2)
    ds = FreiHAND(tmp_path, "evaluation")
    assert len(ds) == 2
    hand = ds[1].hands[0]
    assert (hand.mask == fx.masks[1]).all()
    assert_close(_t(hand.joints2d), _t(project(fx.xyz[1], fx.K[1])), atol=1e-3, rtol=0)


def test_visibility_marks_points_outside_the_image(training):
    xyz = json.loads((training.root / "training_xyz.json").read_text())
    xyz[0][20][0] = 1.0  # fingertip far to the right
    (training.root / "training_xyz.json").write_text(json.dumps(xyz))
    hand = FreiHAND(training.root)[0].hands[0]
    assert not hand.visible[20] and hand.visible[:20].all()
    assert hand.bbox[2] < WIDTH


def test_mano_record_round_trip():
    rng = np.random.default_rng(1)
    xyz = rng.normal(0, 0.05, (21, 3)) + [0, 0, 0.5]
    K = np.array([[300.0, 0, 30], [0, 300.0, 25], [0, 0, 1]])
    theta = join_mano(rng.normal(size=48), rng.normal(size=10), xyz, K)
    parts = split_mano(theta[None])
    assert_close(_t(parts.uv_root), _t(project(xyz[9:10], K)[0]), atol=1e-4, rtol=0)
    # FreiHAND's recover_root: xyz_root = [(uv - pp), focal] / scale
    assert parts.scale * xyz[9, 2] == pytest.approx(300.0, rel=1e-5)
    assert reference_scale(xyz) == pytest.approx(np.linalg.norm(xyz[9] - xyz[10]))


def test_writer_round_trip_and_determinism(training, tmp_path):
    src = FreiHAND(training.root)
    digests = []
    for name in ("a", "b"):
        with FreiHANDWriter(tmp_path / name, "training") as writer:
            for sample in src:
                h = sample.hands[0]
                writer.add(
                    sample.image,
                    h.K,
                    h.joints3d,
                    mask=h.mask,
                    mano=ManoParams(h.mano.pose, h.mano.betas, np.zeros(3)),
                    verts=h.verts3d,
                )
        files = sorted(p for p in (tmp_path / name).rglob("*") if p.is_file())
        digests.append(
            [(p.relative_to(tmp_path / name).as_posix(), hashlib.sha256(p.read_bytes()).hexdigest()) for p in files]
        )
    assert digests[0] == digests[1]
    names = {n for n, _ in digests[0]}
    assert {
        "training_K.json",
        "training_xyz.json",
        "training_mano.json",
        "training_verts.json",
        "training_scale.json",
    } <= names
    assert {"training/rgb/00000002.jpg", "training/mask/00000002.jpg"} <= names
    back = FreiHAND(tmp_path / "a")
    for i in range(3):
        a, b = src[i].hands[0], back[i].hands[0]
        assert_close(_t(b.joints2d), _t(a.joints2d), atol=1e-3, rtol=0)
        assert_close(_t(b.mano.pose), _t(a.mano.pose), atol=1e-6, rtol=0)
        assert (a.mask == b.mask).mean() > 0.99
        assert np.abs(back[i].image.astype(int) - src[i].image.astype(int)).mean() < 12
    assert json.loads((tmp_path / "a" / "training_scale.json").read_text())[0] == pytest.approx(
        reference_scale(training.xyz[0]), abs=1e-6
    )


def test_writer_refuses_existing_split_and_interrupted_run_is_not_a_dataset(training, tmp_path):
    with pytest.raises(DatasetError, match="already exists"):
        FreiHANDWriter(training.root, "training")
    sample = FreiHAND(training.root)[0]
    with pytest.raises(RuntimeError):
        with FreiHANDWriter(tmp_path / "x", "training") as writer:
            writer.add(sample.image, sample.hands[0].K, sample.hands[0].joints3d, mask=sample.hands[0].mask)
            raise RuntimeError("interrupted")
    assert not (tmp_path / "x" / "training_K.json").exists()
    with pytest.raises(DatasetError, match="training_K.json: annotation file not found"):
        FreiHAND(tmp_path / "x")


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda r: (r / "training_xyz.json").unlink(), "training_xyz.json: annotation file not found"),
        (lambda r: (r / "training_K.json").write_text("[[1, 2"), "training_K.json: not valid JSON"),
        (
            lambda r: (r / "training_xyz.json").write_text(
                json.dumps([[[0, 0, 1]] * 21, [[0, 0, 1]] * 20, [[0, 0, 1]] * 21])
            ),
            "record 1 has shape",
        ),
        (lambda r: (r / "training_scale.json").write_text("[0.1, 0.2]"), "2 records but training_K.json has 3"),
        (lambda r: (r / "training" / "mask").rename(r / "m"), "mask folder not found"),
    ],
)
def test_bad_annotations_raise_one_clear_error(training, corrupt, message):
    corrupt(training.root)
    with pytest.raises(DatasetError, match=message):
        FreiHAND(training.root)


def test_corrupt_and_missing_images_name_the_file(training):
    (training.root / "training" / "rgb" / "00000001.jpg").write_bytes(b"not a jpeg")
    (training.root / "training" / "mask" / "00000002.jpg").unlink()
    ds = FreiHAND(training.root)
    with pytest.raises(DatasetError, match=r"00000001\.jpg: unreadable or corrupt image"):
        ds[1]
    with pytest.raises(DatasetError, match=r"mask/00000002\.jpg: image file not found"):
        ds[2]
