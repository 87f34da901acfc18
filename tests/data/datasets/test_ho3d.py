import pickle

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from smhr.data.datasets.ho3d import HO3D, opengl_to_opencv
from smhr.errors import DatasetError
from smhr.hand.joints import HO3D_TO_OPENPOSE
from tests.data.fixtures_ho3d import OFFICIAL_HO3D_TO_SIMPLE, write_ho3d_fixture


def _t(x):
    return torch.as_tensor(np.asarray(x, np.float64))


def _project(xyz, K):
    uvw = xyz @ K.T
    return uvw[:, :2] / uvw[:, 2:]


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_train_frames_convert_axes_and_joint_order(tmp_path, version):
    fx = write_ho3d_fixture(tmp_path, "train", version)
    ds = HO3D(tmp_path, "train", version)
    assert len(ds) == 4
    for i, name in enumerate(fx.frames):
        sample = ds[i]
        sample.validate()
        if fx.joints[name] is None:
            assert sample.hands == []
            continue
        (hand,) = sample.hands
        assert hand.side == "right"
        assert_close(_t(hand.joints3d), _t(fx.joints[name]), atol=1e-6, rtol=0)
        assert_close(_t(hand.joints2d), _t(_project(fx.joints[name], fx.K[name])), atol=1e-3, rtol=0)
        assert (hand.joints3d[:, 2] > 0).all()  # in front of an OpenCV camera


def test_joint_map_matches_the_official_one():
    assert HO3D_TO_OPENPOSE.tolist() == OFFICIAL_HO3D_TO_SIMPLE


def test_wrong_version_names_the_missing_image(tmp_path):
    write_ho3d_fixture(tmp_path, "train", "v2")
    with pytest.raises(DatasetError, match=r"0000\.jpg: image file not found.*version"):
        HO3D(tmp_path, "train", "v3")[0]


def test_evaluation_has_root_and_box_only(tmp_path):
    fx = write_ho3d_fixture(tmp_path, "evaluation", "v3")
    ds = HO3D(tmp_path, "evaluation", "v3")
    for i, name in enumerate(fx.frames):
        hand = ds[i].hands[0]
        ds[i].validate()
        assert hand.joints3d_valid.tolist() == [True] + [False] * 20
        assert hand.visible[0] and not hand.visible[1:].any()
        assert_close(_t(hand.joints3d[0]), _t(fx.joints[name][0]), atol=1e-6, rtol=0)
        assert_close(_t(hand.joints2d[0]), _t(_project(fx.joints[name][:1], fx.K[name])[0]), atol=1e-3, rtol=0)
        uv = _project(fx.joints[name], fx.K[name])
        assert_close(_t(hand.bbox), _t(np.concatenate([uv.min(0), uv.max(0)])), atol=1e-3, rtol=0)


def test_opengl_to_opencv_flips_y_and_z():
    assert opengl_to_opencv(np.array([1.0, 2.0, -3.0])).tolist() == [1.0, -2.0, 3.0]


def test_errors_name_the_file(tmp_path):
    write_ho3d_fixture(tmp_path, "train", "v3")
    with pytest.raises(DatasetError, match="evaluation.txt: split list not found"):
        HO3D(tmp_path, "evaluation", "v3")
    (tmp_path / "train" / "ABF10" / "meta" / "0001.pkl").write_bytes(b"garbage")
    with open(tmp_path / "train" / "MC1" / "meta" / "0007.pkl", "wb") as handle:
        pickle.dump({"camMat": np.eye(3), "handJoints3D": np.zeros((16, 3))}, handle)
    ds = HO3D(tmp_path, "train", "v3")
    with pytest.raises(DatasetError, match=r"0001\.pkl: unreadable pickle"):
        ds[1]
    with pytest.raises(DatasetError, match=r"0007\.pkl: 'handJoints3D' has shape \(16, 3\)"):
        ds[2]
    (tmp_path / "train.txt").write_text("ABF10/0000\nbroken line\n")
    with pytest.raises(DatasetError, match=r"train.txt:2: expected 'SEQUENCE/FRAME'"):
        HO3D(tmp_path, "train", "v3")
