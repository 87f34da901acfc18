import pickle

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from smhr.data.datasets.rhd import RHD, RHD_TO_OPENPOSE
from smhr.errors import DatasetError
from tests.data.fixtures_rhd import OPENPOSE, RHD_CORRUPTIONS, RHD_ORDER, write_rhd_fixture


def _t(x):
    return torch.as_tensor(np.asarray(x, np.float64))


@pytest.mark.parametrize("split", ["training", "evaluation"])
def test_all_hands_project_onto_their_keypoints(tmp_path, split):
    fx = write_rhd_fixture(tmp_path, split)
    ds = RHD(tmp_path, split, hands="all")
    assert len(ds) == 3
    for i in range(3):
        sample = ds[i]
        sample.validate()
        assert [h.side for h in sample.hands] == (["left", "right"] if i < 2 else ["right"])
        for hand in sample.hands:
            known = fx.hands[i][hand.side]
            assert_close(_t(hand.joints3d), _t(known), atol=1e-6, rtol=0)
            assert_close(
                _t(hand.joints2d),
                _t(hand.joints3d @ hand.K.T)[:, :2] / _t(hand.joints3d @ hand.K.T)[:, 2:],
                atol=1e-3,
                rtol=0,
            )
            assert hand.visible.tolist() == fx.vis[i][hand.side].tolist()
            assert hand.mask.any()
        if len(sample.hands) == 2:
            assert not (sample.hands[0].mask & sample.hands[1].mask).any()


def test_dominant_hand_is_the_one_with_more_mask_pixels(tmp_path):
    fx = write_rhd_fixture(tmp_path, "training")
    ds = RHD(tmp_path, "training")
    assert fx.dominant == ["left", "right", "right"]
    assert [ds[i].hands[0].side for i in range(3)] == fx.dominant
    assert all(len(ds[i].hands) == 1 for i in range(3))


def test_joint_order_is_rhd_tip_to_base():
    assert [RHD_ORDER[i] for i in RHD_TO_OPENPOSE] == OPENPOSE


def test_errors_name_the_file(tmp_path):
    write_rhd_fixture(tmp_path, "training")
    with pytest.raises(DatasetError, match="anno_evaluation.pickle: annotation file not found"):
        RHD(tmp_path, "evaluation")
    (tmp_path / "training" / "mask" / "00001.png").unlink()
    with pytest.raises(DatasetError, match=r"mask/00001\.png: image file not found"):
        RHD(tmp_path, "training")[1]
    path = tmp_path / "training" / "anno_training.pickle"
    anno = pickle.loads(path.read_bytes())
    del anno[2]["K"]
    path.write_bytes(pickle.dumps(anno))
    with pytest.raises(DatasetError, match="sample 2: key 'K' missing"):
        RHD(tmp_path, "training")


@pytest.mark.parametrize("name", sorted(RHD_CORRUPTIONS))
def test_corrupt_files_name_the_file_and_entry(tmp_path, name):
    write_rhd_fixture(tmp_path, "training")
    corrupt, message = RHD_CORRUPTIONS[name]
    corrupt(tmp_path, "training")
    with pytest.raises(DatasetError, match=message):
        ds = RHD(tmp_path, "training")
        for i in range(len(ds)):
            ds[i]


def test_dominant_rule_and_joint_names_are_the_protocols():
    from smhr.data.datasets import rhd as data_rhd
    from smhr.eval import rhd as eval_rhd

    assert eval_rhd.RHD_TO_OPENPOSE is data_rhd.RHD_TO_OPENPOSE
    assert (eval_rhd.PALM_PARTNER, eval_rhd.BONE_CHILD) == (12, 11)  # RHD's middle MCP and PIP
    labels = np.array([[2, 17, 18], [33, 40, 1]], np.uint8)  # 2 left, 3 right (40 counts as right officially)
    assert data_rhd.dominant_side(labels) == "right"
    assert data_rhd.dominant_side(np.array([[2, 17, 1]], np.uint8)) == "left"
    assert data_rhd.dominant_side(np.array([[2, 18]], np.uint8)) == "right"  # ties go right


@pytest.mark.parametrize("name, edit, message", [
    ("K_zeros", lambda K: np.zeros_like(K), r"anno_training\.pickle: sample 0: .*K"),
    ("K_for_a_larger_image", lambda K: K * [[4, 1, 4], [1, 4, 4], [1, 1, 1]], r"anno_training\.pickle: sample 0: "),
])
def test_meaningless_camera_names_the_annotation_file(tmp_path, name, edit, message):
    from tests.data.fixtures_rhd import _anno, _field

    write_rhd_fixture(tmp_path, "training")
    _anno(_field(0, "K", lambda K: edit(np.asarray(K, np.float64)).astype(np.float32)))(tmp_path, "training")
    with pytest.raises(DatasetError, match=message):
        RHD(tmp_path, "training", hands="all")[0]
