"""Loading MANO-format files: the official structure without chumpy, npz, our pickles, and bad files."""

from __future__ import annotations

import dataclasses
import pickle
import pickletools
import sys

import numpy as np
import pytest
import torch

from smhr.errors import ModelFileError
from smhr.hand import HandModel
from smhr.hand.conventions import MANO_FINGERTIP_VERTEX_IDS, mirror_axis_angle
from smhr.hand.model_file import ModelData, load_model_data, save_model_data
from smhr.safe_pickle import load as safe_load
from tests.hand.fake_mano import mano_arrays, official_tree, write_fake_mano
from tests.hand.reference_lbs import reference_lbs
from tests.py2_pickle import Obj, write_py2

ARRAY_KEYS = ("v_template", "f", "J_regressor", "weights", "shapedirs", "posedirs", "hands_components", "hands_mean")


def test_fixture_bytes_have_the_official_structure(fake_mano_files):
    raw = fake_mano_files.right.read_bytes()
    assert raw.startswith(b"\x80\x02}q")
    for ref in (b"cchumpy.ch\nCh\n", b"cchumpy.reordering\nSelect\n", b"cscipy.sparse.csc\ncsc_matrix\n",
                b"cnumpy.core.multiarray\n_reconstruct\n", b"U\x08bs_styleq", b"U\x03lbsq"):
        assert ref in raw, ref
    ops = {op.name for op, _, _ in pickletools.genops(raw)}
    assert b"numpy._core" not in raw and "BINUNICODE" not in ops and "NEWOBJ" in ops  # Python 2 + NumPy 1


def test_official_structure_loads_exactly_without_chumpy(fake_mano_files):
    assert "chumpy" not in sys.modules
    model = HandModel.from_file(fake_mano_files.right)
    truth = fake_mano_files.right_arrays
    assert model.side == "right" and model.num_verts == 778
    for key in ARRAY_KEYS:
        np.testing.assert_array_equal(getattr(model.data, key), truth[key], err_msg=key)
    np.testing.assert_array_equal(model.fingertip_vertex_ids.numpy(), MANO_FINGERTIP_VERTEX_IDS)
    assert model.parents.tolist() == [-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 0, 10, 11, 0, 13, 14]


def test_select_source_alone_is_not_the_shapedirs(fake_mano_files):
    """The fixture can catch a loader that reads ``Select.a.x`` instead of evaluating the selection."""
    raw = official_tree(fake_mano_files.right_arrays, seed=1)["shapedirs"].state["a"].state["x"]
    assert raw.shape != (778, 3, 10)
    assert not np.array_equal(raw.ravel()[: 778 * 30], fake_mano_files.right_arrays["shapedirs"].ravel())


def _poses(seed: int, n: int):
    g = torch.Generator().manual_seed(seed)
    return (0.8 * torch.randn(n, 3, generator=g, dtype=torch.float64),
            0.6 * torch.randn(n, 45, generator=g, dtype=torch.float64),
            torch.randn(n, 10, generator=g, dtype=torch.float64))


@pytest.mark.parametrize("case", ["right", "left_fixed", "left_unfixed"])
def test_forward_matches_loop_reference(case, fake_mano_files):
    """HandModel on the official structure equals a plain-loop LBS on the arrays the file was made from.

    The left file holds the official bug (x component of shapedirs equal to the right's); by default
    we negate it (``left_fixed``), and the result equals the exact mirror's arrays; asked not to, the
    model equals the stored arrays.
    """
    path = fake_mano_files.right if case == "right" else fake_mano_files.left
    truth = {"right": fake_mano_files.right_arrays, "left_fixed": fake_mano_files.left_arrays,
             "left_unfixed": fake_mano_files.left_stored}[case]
    model = HandModel.from_file(path, fix_left_shapedirs=case != "left_unfixed").double()
    go, hp, betas = _poses(0, 3)
    out = model(global_orient=go, hand_pose=hp, betas=betas)
    for i in range(3):  # tolerance 1e-7: smplx adds 1e-8 inside its Rodrigues
        full = np.concatenate([go[i].numpy(), hp[i].numpy() + truth["hands_mean"]])
        verts, joints = reference_lbs(truth, full, betas[i].numpy())
        torch.testing.assert_close(out.vertices[i], torch.from_numpy(verts), rtol=0, atol=1e-7)
        torch.testing.assert_close(out.joints_mano[i], torch.from_numpy(joints), rtol=0, atol=1e-7)


def test_left_fix_makes_shaped_left_hands_mirror_the_right(fake_mano_files):
    """Why we apply the fix: only with it does a shaped left hand mirror the right hand of the same betas."""
    go, hp, betas = _poses(1, 2)
    right = HandModel.from_file(fake_mano_files.right).double()(go, hp, betas)
    mgo, mhp = (torch.from_numpy(mirror_axis_angle(t.numpy())) for t in (go, hp))
    m = torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64)
    fixed = HandModel.from_file(fake_mano_files.left).double()(mgo, mhp, betas)
    unfixed = HandModel.from_file(fake_mano_files.left, fix_left_shapedirs=False).double()(mgo, mhp, betas)
    torch.testing.assert_close(fixed.vertices, right.vertices * m)
    assert (unfixed.vertices - right.vertices * m).abs().max() > 1e-3


def test_left_side_from_name_and_shapedirs_fix(fake_mano_files):
    right = load_model_data(fake_mano_files.right)
    left = load_model_data(fake_mano_files.left)
    raw = load_model_data(fake_mano_files.left, fix_left_shapedirs=False)
    assert left.side == "left"
    np.testing.assert_array_equal(raw.shapedirs[:, 0], right.shapedirs[:, 0])
    np.testing.assert_array_equal(left.shapedirs[:, 0], -right.shapedirs[:, 0])
    np.testing.assert_array_equal(left.shapedirs[:, 1:], raw.shapedirs[:, 1:])


@pytest.mark.parametrize("name", ["m.npz", "m.pkl"])
def test_round_trip_of_both_sides(procedural_right, procedural_left, tmp_path, name):
    for data in (procedural_right, procedural_left):
        path = save_model_data(data, tmp_path / f"{data.side}_{name}")
        back = load_model_data(path)  # the left file declares its shapedirs fixed: not negated twice
        for field in dataclasses.fields(ModelData):
            value = getattr(data, field.name)
            if value is None:
                assert getattr(back, field.name) is None, field.name
            else:
                np.testing.assert_array_equal(getattr(back, field.name), value, err_msg=field.name)
        stored = dict(np.load(path)) if name.endswith(".npz") else safe_load(path.read_bytes())
        assert str(stored["side"]) == data.side and bool(stored["left_shapedirs_fixed"])


def test_side_conflict_and_unknown_side(procedural_model_files, fake_mano_files, tmp_path):
    with pytest.raises(ModelFileError, match="is a right hand but side='left'"):
        load_model_data(procedural_model_files.right, side="left")
    anonymous = tmp_path / "hand.pkl"
    anonymous.write_bytes(fake_mano_files.right.read_bytes())
    with pytest.raises(ModelFileError, match="cannot tell the hand side"):
        load_model_data(anonymous)
    assert load_model_data(anonymous, side="left").side == "left"


def test_smpl_file_is_rejected(tmp_path):
    a = mano_arrays(seed=3, n_verts=6890)
    a["kintree_table"] = np.zeros((2, 24), dtype=np.int64)
    path = write_fake_mano(a, tmp_path / "SMPL_NEUTRAL_RIGHT.pkl")
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
    tree = official_tree(mano_arrays(seed=4))
    del tree["hands_mean"]
    path = write_py2(tree, tmp_path / "MANO_RIGHT.pkl")
    with pytest.raises(ModelFileError, match=r"missing key\(s\) \['hands_mean'\]"):
        load_model_data(path)


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="not found"):
        load_model_data(tmp_path / "nothing.pkl")


def test_other_chumpy_classes_are_named_not_guessed(tmp_path):
    tree = official_tree(mano_arrays(seed=5))
    tree["posedirs"] = Obj("chumpy.ch_ops", "add", {"a": tree["posedirs"], "b": tree["posedirs"]})
    path = write_py2(tree, tmp_path / "MANO_RIGHT.pkl")
    with pytest.raises(ModelFileError, match=r"'posedirs' is a chumpy\.ch_ops\.add object; smhr reads only"):
        load_model_data(path)


def test_foreign_classes_are_refused(tmp_path):
    path = tmp_path / "MANO_RIGHT.pkl"
    path.write_bytes(pickle.dumps({"v_template": ModelFileError("x")}, protocol=2))
    with pytest.raises(ModelFileError, match=r"refused to load smhr\.errors\.ModelFileError"):
        load_model_data(path)
