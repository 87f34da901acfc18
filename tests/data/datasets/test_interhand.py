import numpy as np
import pytest
import torch
from torch.testing import assert_close

from smhr.data.datasets.interhand import INTERHAND_TO_OPENPOSE, InterHand
from smhr.errors import DatasetError
from tests.data.fixtures_interhand import (
    INTERHAND_CORRUPTIONS,
    SKELETON,
    corrupt_interhand,
    nan_on_invalid_joint,
    write_interhand_fixture,
)


def _t(x):
    return torch.as_tensor(np.asarray(x, np.float64))


@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_both_hands_project_onto_their_keypoints(tmp_path, split):
    fx = write_interhand_fixture(tmp_path, split)
    ds = InterHand(tmp_path, split)
    assert len(ds) == 4
    for i in range(4):
        sample = ds[i]
        sample.validate()
        expected = {s: j for s, j in fx.hands[i].items() if fx.valid[i][s].any() and fx.valid[i][s][0]}
        assert [h.side for h in sample.hands] == list(expected)
        for hand in sample.hands:
            ok = fx.valid[i][hand.side]
            assert hand.joints3d_valid.tolist() == ok.tolist()
            assert_close(_t(hand.joints3d[ok]), _t(expected[hand.side][ok]), atol=1e-6, rtol=0)
            uvw = expected[hand.side] @ fx.K[i].T
            assert_close(_t(hand.joints2d[ok]), _t(uvw[ok, :2] / uvw[ok, 2:]), atol=1e-3, rtol=0)
            assert not hand.visible[~ok].any()
    left = ds[1].hands[0]
    assert left.joints3d[4, 0] > left.joints3d[0, 0]  # mirrored fixture: the left thumb points to +x


def test_joint_order_matches_the_official_skeleton():
    openpose = ["wrist"] + [f"{f}{k}" for f in ("thumb", "index", "middle", "ring", "pinky") for k in (1, 2, 3, 4)]
    assert [SKELETON[i] for i in INTERHAND_TO_OPENPOSE] == openpose


def test_subsets(tmp_path):
    write_interhand_fixture(tmp_path / "v1", "train")
    with pytest.raises(DatasetError, match="v1.0 ships H\\+M merged"):
        InterHand(tmp_path / "v1", "train", subset="H")
    write_interhand_fixture(tmp_path / "v0", "test", subset_folder="human_annot")
    assert InterHand(tmp_path / "v0", "test", subset="H").annotation_dir.name == "human_annot"
    write_interhand_fixture(tmp_path / "p" / "InterHand2.6M_30fps_batch1", "val")
    assert len(InterHand(tmp_path / "p", "val", fps="30")) == 4


def test_errors_name_the_file(tmp_path):
    fx = write_interhand_fixture(tmp_path, "train")
    with pytest.raises(DatasetError, match="InterHand2.6M_val_data.json: annotation file not found"):
        InterHand(tmp_path, "val")
    (tmp_path / "annotations" / "train" / "InterHand2.6M_train_camera.json").write_text('{"0": {}}')
    with pytest.raises(DatasetError, match="train_camera.json: no complete camera"):
        InterHand(fx.root, "train")[0]
    (tmp_path / "annotations" / "train" / "InterHand2.6M_train_data.json").write_text('{"images": []}')
    with pytest.raises(DatasetError, match="train_data.json: expected a COCO dict"):
        InterHand(fx.root, "train")


@pytest.mark.parametrize("name", sorted(INTERHAND_CORRUPTIONS))
def test_corrupt_annotations_name_the_file_and_entry(tmp_path, name):
    write_interhand_fixture(tmp_path, "train")
    corrupt_interhand(tmp_path, "train", name)
    with pytest.raises(DatasetError, match=INTERHAND_CORRUPTIONS[name][1]):
        ds = InterHand(tmp_path, "train")
        for i in range(len(ds)):
            ds[i]


def test_nan_on_an_invalid_joint_is_masked_not_refused(tmp_path):
    fx = write_interhand_fixture(tmp_path, "train")
    nan_on_invalid_joint(tmp_path, "train")
    hand = InterHand(tmp_path, "train")[2].hands[0]
    assert hand.side == "right" and not hand.joints3d_valid[3]
    assert np.isfinite(hand.joints3d).all()
    ok = fx.valid[2]["right"]
    assert_close(_t(hand.joints3d[ok]), _t(fx.hands[2]["right"][ok]), atol=1e-6, rtol=0)


def test_meaningless_camera_names_the_annotation_files(tmp_path):
    import json

    write_interhand_fixture(tmp_path, "train")
    ds = InterHand(tmp_path, "train")
    path = ds.file("camera")
    cams = json.loads(path.read_text())
    for capture in cams.values():
        for cam in capture["focal"]:
            capture["focal"][cam] = [0.0, 0.0]
    path.write_text(json.dumps(cams))
    with pytest.raises(DatasetError, match=r"_camera\.json / .*_joint_3d\.json: annotation .*K"):
        InterHand(tmp_path, "train")[0]
