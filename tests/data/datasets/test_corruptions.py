"""Meaningless annotations are caught: one row per corruption, written into a dataset on disk.

Each row corrupts one record of a clean fixture in the dataset's own format (FreiHAND JSON,
HO-3D meta pickles, the composed set's annotations.json). The adapter must raise one
DatasetError naming the file and saying what is wrong, ``smhr data check`` must list exactly
that sample, and the untouched samples must still pass.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from smhr.cli import main
from smhr.data.synth.backgrounds import ProceduralBackgrounds
from smhr.data.datasets.check import check_dataset, open_dataset, DatasetOptions
from smhr.data.compose.build import ComposeConfig, check_composed, write_composed
from smhr.data.datasets.composed import ComposedDataset
from smhr.data.datasets.freihand import FreiHAND
from smhr.data.compose.paste import ComposedImage, PasteConfig, compose_image
from smhr.data.datasets.sample import REPROJECTION_TOLERANCE_PX, Sample
from smhr.errors import DatasetError
from tests.data.conftest import write_freihand_source
from tests.data.fixtures_freihand import HEIGHT, WIDTH, write_freihand_fixture
from tests.data.fixtures_ho3d import GL, to_ho3d_order, write_ho3d_fixture

BAD = 1
"""The corrupted record / frame of each fixture."""

K_224 = np.array([[500.0, 0.0, 111.5], [0.0, 500.0, 111.5], [0.0, 0.0, 1.0]])
"""A K made for 224-px images (FreiHAND's size), on the fixtures' 64 x 48 images."""


def _nan_at(array: np.ndarray, index: tuple[int, ...]) -> np.ndarray:
    out = np.array(array, np.float64)
    out[index] = np.nan
    return out


# (id, corrupt(K, xyz) -> (K, xyz), where the problem is reported, file named, phrase)
FREIHAND_ROWS = [
    ("K all zeros", lambda K, xyz: (np.zeros((3, 3)), xyz), "sample", "training_K.json", "fx = 0, fy = 0"),
    ("K for 224-px images", lambda K, xyz: (K_224, xyz), "sample", "training_K.json", "principal point"),
    ("K transposed", lambda K, xyz: (K.T, xyz), "sample", "training_K.json", "not of the form"),
    ("negative focal", lambda K, xyz: (K * [[-1], [1], [1]], xyz), "sample", "training_K.json", "must be > 0"),
    ("K NaN", lambda K, xyz: (_nan_at(K, (0, 2)), xyz), "dataset", "training_K.json", "NaN"),
    ("joints behind the camera", lambda K, xyz: (K, xyz * [1, 1, -1]), "sample", "training_xyz.json", "behind"),
    ("joints in OpenGL axes", lambda K, xyz: (K, xyz * GL), "sample", "training_xyz.json", "behind the camera"),
    ("joints NaN", lambda K, xyz: (K, _nan_at(xyz, (4, 2))), "dataset", "training_xyz.json", "NaN"),
]


@pytest.mark.parametrize("name, corrupt, level, file, phrase", FREIHAND_ROWS, ids=[r[0] for r in FREIHAND_ROWS])
def test_freihand_corruption_is_caught(tmp_path, name, corrupt, level, file, phrase):
    fixture = write_freihand_fixture(tmp_path, "training", n=3, versions=1)
    K, xyz = fixture.K.tolist(), fixture.xyz.tolist()
    K[BAD], xyz[BAD] = (np.asarray(a).tolist() for a in corrupt(fixture.K[BAD], fixture.xyz[BAD]))
    (tmp_path / "training_K.json").write_text(json.dumps(K))
    (tmp_path / "training_xyz.json").write_text(json.dumps(xyz))
    report = check_dataset("freihand", tmp_path, progress=False)
    assert len(report.problems) == 1, report.problems
    where, message = report.problems[0]
    assert where == (f"sample {BAD}" if level == "sample" else "dataset")
    assert str(tmp_path / file) in message and f"record {BAD}" in message and phrase in message
    if level == "sample":
        assert "correct this record or remove the sample" in message
        data = FreiHAND(tmp_path, "training")
        with pytest.raises(DatasetError, match=phrase):
            data[BAD]
        for i in set(range(3)) - {BAD}:
            data[i]


def _write_meta(root: Path, split: str, frame: str, meta: dict) -> Path:
    seq, name = frame.split("/")
    path = root / split / seq / "meta" / f"{name}.pkl"
    with open(path, "wb") as handle:
        pickle.dump(meta, handle, protocol=2)
    return path


def _train_meta(K: np.ndarray, xyz: np.ndarray) -> dict:
    """What the fixture writes for a train frame (OpenGL axes, HO3D order), from OpenCV joints."""
    return {"camMat": K, "handJoints3D": to_ho3d_order(xyz * GL)}


# (id, split, corrupt(K, xyz) -> meta, meta key named, phrase)
HO3D_ROWS = [
    ("camMat all zeros", "train", lambda K, xyz: _train_meta(np.zeros((3, 3)), xyz), "camMat", "fx = 0, fy = 0"),
    ("camMat for 4x larger images", "train", lambda K, xyz: _train_meta(K * [[4], [4], [1]], xyz), "camMat",
     "principal point"),
    ("camMat transposed", "train", lambda K, xyz: _train_meta(K.T, xyz), "camMat", "not of the form"),
    ("camMat NaN", "train", lambda K, xyz: _train_meta(_nan_at(K, (1, 1)), xyz), "camMat", "non-finite"),
    ("joints left in OpenCV axes", "train", lambda K, xyz: {"camMat": K, "handJoints3D": to_ho3d_order(xyz)},
     "handJoints3D", "behind the camera"),
    ("root behind the camera", "evaluation",
     lambda K, xyz: {"camMat": K, "handJoints3D": xyz[0], "handBoundingBox": np.array([10.0, 10.0, 30.0, 30.0])},
     "handJoints3D", "behind the camera"),
    ("box corners swapped", "evaluation",
     lambda K, xyz: {"camMat": K, "handJoints3D": xyz[0] * GL, "handBoundingBox": np.array([30.0, 10.0, 10.0, 30.0])},
     "handBoundingBox", "x1 < x0"),
]


@pytest.mark.parametrize("name, split, corrupt, key, phrase", HO3D_ROWS, ids=[r[0] for r in HO3D_ROWS])
def test_ho3d_corruption_is_caught(tmp_path, name, split, corrupt, key, phrase):
    fixture = write_ho3d_fixture(tmp_path, split, "v3")
    frame = fixture.frames[BAD]
    path = _write_meta(tmp_path, split, frame, corrupt(fixture.K[frame], fixture.joints[frame]))
    report = check_dataset("ho3d", tmp_path, DatasetOptions(split=split), progress=False)
    assert [p.where for p in report.problems] == [f"sample {BAD}"], report.problems
    message = report.problems[0].message
    assert str(path) in message and f"'{key}'" in message and phrase in message
    if "non-finite" not in phrase:  # the meta reader's own finiteness check names the key its own way
        assert f"remove {frame} from {split}.txt" in message
    data = open_dataset("ho3d", tmp_path, DatasetOptions(split=split))
    with pytest.raises(DatasetError, match=phrase):
        data[BAD]


@pytest.fixture(scope="module")
def composed_root(tmp_path_factory) -> Path:
    """A small composed set (3 benchmark images) written from a FreiHAND-layout source."""
    root = tmp_path_factory.mktemp("composed")
    source = write_freihand_source(root / "source", n_train=3, n_eval=3)
    sources = {"benchmark": FreiHAND(source, "evaluation"), "train": FreiHAND(source, "training")}
    cfg = ComposeConfig(num_benchmark=3, num_train=0, image_size=64)
    return write_composed(sources, cfg, ProceduralBackgrounds(), root / "composed", progress=False)


def _scaled_K(hand: dict) -> None:
    hand["K"] = (np.array(hand["K"]) * [[2], [2], [1]]).tolist()  # a K for an image twice the size


def _shifted_2d(hand: dict) -> None:
    hand["joints2d"] = (np.array(hand["joints2d"]) + [3 * REPROJECTION_TOLERANCE_PX, 0.0]).tolist()


# (id, corrupt(hand record) in place, phrase)
COMPOSED_ROWS = [
    ("K for an image twice the size", _scaled_K, "not the projection of joints3d"),
    ("joints2d shifted", _shifted_2d, "not the projection of joints3d"),
    ("K all zeros", lambda hand: hand.update(K=np.zeros((3, 3)).tolist()), "fx = 0, fy = 0"),
    ("K NaN", lambda hand: hand["K"][0].__setitem__(0, float("nan")), "K contains NaN"),
    ("K missing", lambda hand: hand.update(K=None), "K is missing"),
    ("joints behind the camera", lambda hand: hand.update(joints3d=(np.array(hand["joints3d"]) * [1, 1, -1]).tolist()),
     "behind the camera"),
    ("bbox corners swapped", lambda hand: hand.update(bbox=[hand["bbox"][2], hand["bbox"][1], hand["bbox"][0], hand["bbox"][3]]),
     "x1 < x0"),
]


@pytest.mark.parametrize("name, corrupt, phrase", COMPOSED_ROWS, ids=[r[0] for r in COMPOSED_ROWS])
def test_composed_corruption_is_caught(composed_root, tmp_path, name, corrupt, phrase):
    doc = json.loads((composed_root / "annotations.json").read_text())
    corrupt(doc["splits"]["benchmark"][BAD]["hands"][0])
    root = tmp_path / "composed"
    root.mkdir()
    (root / "benchmark").symlink_to(composed_root / "benchmark")
    (root / "annotations.json").write_text(json.dumps(doc))
    report = check_dataset("composed", root, progress=False)
    assert [p.where for p in report.problems] == [f"sample {BAD}"], report.problems
    message = report.problems[0].message
    assert str(root / "annotations.json") in message and f"benchmark image {BAD}" in message and phrase in message
    with pytest.raises(DatasetError, match=phrase):
        ComposedDataset(root, "benchmark")[BAD]


def test_clean_composed_set_passes(composed_root):
    report = check_dataset("composed", composed_root, progress=False)
    assert report.ok and report.checked == 3 and report.hands >= 3, report.problems


def test_compose_refuses_a_source_with_a_broken_K(tmp_path):
    source = write_freihand_source(tmp_path / "source", n_train=2, n_eval=2)
    K = json.loads((source / "evaluation_K.json").read_text())
    (source / "evaluation_K.json").write_text(json.dumps([np.zeros((3, 3)).tolist()] * len(K)))
    sources = {"benchmark": FreiHAND(source, "evaluation"), "train": FreiHAND(source, "training")}
    out = tmp_path / "composed"
    with pytest.raises(DatasetError, match=r"evaluation_K\.json, record [01] .*fx = 0"):
        write_composed(sources, ComposeConfig(num_benchmark=2, num_train=0, image_size=32), ProceduralBackgrounds(),
                       out, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source"]  # nothing half-written


def test_paste_refuses_an_in_memory_source_with_a_broken_K(samples):
    samples[0].hands[0].K[1, 1] = 0.0
    with pytest.raises(DatasetError, match=r"toy/right hand 0: K has focal lengths .*fy = 0.*fix or remove it"):
        compose_image(samples[:1], np.random.default_rng(0), PasteConfig(image_size=32), ProceduralBackgrounds())


def test_non_finite_intrinsics_are_never_written(samples):
    composed = compose_image(samples, np.random.default_rng(0), PasteConfig(image_size=64), ProceduralBackgrounds())
    check_composed(composed, "benchmark image 0")
    composed.sample.hands[0].K[0, 2] = np.nan
    with pytest.raises(DatasetError, match=r"composed benchmark image 0 hand 0 \(pasted from toy/\w+\): K contains NaN"):
        check_composed(ComposedImage(composed.sample, composed.labels, composed.sources), "benchmark image 0")


@pytest.mark.pipeline
def test_cli_lists_each_failing_sample_with_its_file(tmp_path, capsys):
    fixture = write_freihand_fixture(tmp_path, "training", n=4, versions=1)
    K = fixture.K.tolist()
    K[1], K[3] = K_224.tolist(), np.zeros((3, 3)).tolist()
    (tmp_path / "training_K.json").write_text(json.dumps(K))
    assert main(["data", "check", "--dataset", "freihand", "--root", str(tmp_path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"sample 1: {tmp_path / 'training_K.json'}, record 1") and "principal point" in lines[0]
    assert f"{WIDTH}x{HEIGHT} image" in lines[0]
    assert lines[1].startswith("sample 3: ") and "fx = 0, fy = 0" in lines[1]
    assert lines[2].endswith("4 samples, 2 hands checked: 2 problem(s)")


def test_a_sample_without_hands_still_validates():
    Sample(np.zeros((4, 4, 3), np.uint8), [], "negative").validate(own_camera=True)


@pytest.mark.parametrize("K, phrase", [(np.zeros((3, 3)), "fx = 0"), (K_224, "principal point")], ids=["zeros", "224-px K"])
def test_freihand_writer_refuses_a_meaningless_sample(tmp_path, K, phrase):
    from smhr.data.datasets.freihand import FreiHANDWriter
    from smhr.data.datasets.toy import ToyHand

    toy = ToyHand(np.random.default_rng(0), 64)
    with pytest.raises(ValueError, match=phrase):
        with FreiHANDWriter(tmp_path, "training") as writer:
            writer.add(toy.image, toy.K, toy.xyz, mask=toy.mask)
            writer.add(toy.image, K, toy.xyz, mask=toy.mask)
    assert not list(tmp_path.glob("*.json"))  # the split does not read as a dataset
