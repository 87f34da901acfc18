"""Loading MANO-format files: official layout without chumpy, npz, our pickles, and bad files."""

from __future__ import annotations

import pickle
import sys

import numpy as np
import pytest

from smhr.errors import ModelFileError
from smhr.hand import HandModel
from smhr.hand.conventions import MANO_FINGERTIP_VERTEX_IDS
from smhr.hand.model_file import load_model_data, model_data_to_dict, save_model_data
from tests.conftest import fake_mano_content, write_chumpy_pickle


def test_official_layout_loads_without_chumpy(fake_mano_files):
    assert "chumpy" not in sys.modules
    assert b"chumpy.ch" in fake_mano_files.right.read_bytes()
    model = HandModel.from_file(fake_mano_files.right)
    expected = fake_mano_content(seed=1)
    assert model.side == "right" and model.num_verts == 778
    np.testing.assert_array_equal(model.shapedirs.double().numpy(), np.float32(expected["shapedirs"].x))
    np.testing.assert_allclose(model.J_regressor.numpy(), expected["J_regressor"].toarray(), rtol=1e-6)
    np.testing.assert_array_equal(model.fingertip_vertex_ids.numpy(), MANO_FINGERTIP_VERTEX_IDS)
    assert model.parents.tolist()[:4] == [-1, 0, 1, 2]


def test_left_side_from_name_and_shapedirs_fix(fake_mano_files):
    right = load_model_data(fake_mano_files.right)
    left = load_model_data(fake_mano_files.left)
    raw = load_model_data(fake_mano_files.left, fix_left_shapedirs=False)
    assert left.side == "left"
    np.testing.assert_array_equal(raw.shapedirs[:, 0], right.shapedirs[:, 0])
    np.testing.assert_array_equal(left.shapedirs[:, 0], -right.shapedirs[:, 0])
    np.testing.assert_array_equal(left.shapedirs[:, 1:], raw.shapedirs[:, 1:])


def test_npz_and_pickle_round_trip(procedural_right, tmp_path):
    for name in ("m.npz", "m.pkl"):
        back = load_model_data(save_model_data(procedural_right, tmp_path / name))
        for key, value in model_data_to_dict(procedural_right).items():
            if hasattr(back, key):
                np.testing.assert_array_equal(np.asarray(getattr(back, key)), np.asarray(value) if key not in
                                              ("kintree_table", "f") else getattr(procedural_right, key))
        assert back.side == "right"


def test_side_conflict_and_unknown_side(procedural_model_files, fake_mano_files, tmp_path):
    with pytest.raises(ModelFileError, match="is a right hand but side='left'"):
        load_model_data(procedural_model_files.right, side="left")
    anonymous = tmp_path / "hand.pkl"
    anonymous.write_bytes(fake_mano_files.right.read_bytes())
    with pytest.raises(ModelFileError, match="cannot tell the hand side"):
        load_model_data(anonymous)
    assert load_model_data(anonymous, side="left").side == "left"


def test_smpl_file_is_rejected(tmp_path):
    content = fake_mano_content(seed=3, n_verts=6890)
    content["kintree_table"] = np.zeros((2, 24), dtype=np.uint32)
    path = write_chumpy_pickle(content, tmp_path / "SMPL_NEUTRAL_RIGHT.pkl")
    with pytest.raises(ModelFileError, match=r"SMPL body model .*expected a MANO hand model"):
        load_model_data(path)


def test_truncated_file_is_rejected(fake_mano_files, tmp_path):
    path = tmp_path / "MANO_RIGHT.pkl"
    path.write_bytes(fake_mano_files.right.read_bytes()[:5000])
    with pytest.raises(ModelFileError, match="truncated, corrupt or not a MANO-format"):
        load_model_data(path)


def test_not_a_pickle_is_rejected(tmp_path):
    path = tmp_path / "MANO_RIGHT.pkl"
    path.write_text("this is not a model\n")
    with pytest.raises(ModelFileError, match="cannot read it"):
        load_model_data(path)


def test_missing_key_is_rejected(tmp_path):
    content = fake_mano_content(seed=4)
    del content["hands_mean"]
    path = write_chumpy_pickle(content, tmp_path / "MANO_RIGHT.pkl")
    with pytest.raises(ModelFileError, match=r"missing key\(s\) \['hands_mean'\]"):
        load_model_data(path)


def test_wrong_shape_and_missing_file(tmp_path):
    content = fake_mano_content(seed=5)
    content["weights"] = content["weights"][:, :15]
    path = write_chumpy_pickle(content, tmp_path / "MANO_RIGHT.pkl")
    with pytest.raises(ModelFileError, match="'weights' has shape"):
        load_model_data(path)
    with pytest.raises(ModelFileError, match="not found"):
        load_model_data(tmp_path / "nothing.pkl")


def test_foreign_classes_are_refused(tmp_path):
    path = tmp_path / "MANO_RIGHT.pkl"
    path.write_bytes(pickle.dumps({"v_template": ModelFileError("x")}, protocol=2))
    with pytest.raises(ModelFileError, match="cannot read it"):
        load_model_data(path)
