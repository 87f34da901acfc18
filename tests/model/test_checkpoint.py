"""Checkpoints: round trip, hand-model hashes, overrides, corrupt and foreign files, atomic writes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch
from torch.testing import assert_close

from smhr.errors import ModelFileError
from smhr.model.build import build_model
from smhr.model.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint

from tests.model.conftest import TINY


@pytest.fixture()
def saved(tmp_path: Path, hand_models, procedural_model_files) -> tuple[Path, torch.nn.Module]:
    torch.manual_seed(3)
    model = build_model(TINY, *hand_models)
    with torch.no_grad():  # move the batch-norm statistics away from their initial values
        model.train()(torch.randn(4, 3, 64, 64))
    model.eval()
    path = save_checkpoint(tmp_path / "ckpt" / "model.pt", model, TINY,
                           (procedural_model_files.right, procedural_model_files.left), extra={"step": 7})
    return path, model


def test_round_trip_gives_the_same_outputs(saved) -> None:
    path, model = saved
    loaded, meta = load_checkpoint(path)
    assert meta["config"] == TINY and meta["extra"] == {"step": 7} and meta["version"] == 1
    assert not loaded.training
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        a, b = model(x), loaded(x)
        for u, v in zip(a, b):
            assert_close(u, v)
        pa, pb = model.decode(a, score_threshold=0.0), loaded.decode(b, score_threshold=0.0)
    assert_close(pa.vertices, pb.vertices)
    assert loaded.hand_models[0].side == "left"


def test_file_holds_no_hand_model_arrays_and_is_written_atomically(saved) -> None:
    path, _ = saved
    payload = read_checkpoint(path)
    assert not any(k.startswith("hand_models.") for k in payload["model"]["state_dict"])
    assert set(payload["model"]["hand_models"]) == {"right", "left"}
    assert [p.name for p in path.parent.iterdir()] == ["model.pt"]  # no temporary file left
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_hand_model_overrides_and_hash_mismatch(saved, tmp_path: Path, procedural_model_files, fake_mano_files) -> None:
    path, _ = saved
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    right = Path(shutil.copy(procedural_model_files.right, moved / "r.pkl"))
    left = Path(shutil.copy(procedural_model_files.left, moved / "l.pkl"))
    _, meta = load_checkpoint(path, hand_model_right=right, hand_model_left=left)
    assert meta["hand_models"]["right"]["path"] == str(right)
    with pytest.raises(ModelFileError, match=rf"model\.pt was trained with the left hand model .*{fake_mano_files.left.name} has sha256"):
        load_checkpoint(path, hand_model_left=fake_mano_files.left)
    with pytest.raises(ModelFileError, match="hand model .* is not found"):
        load_checkpoint(path, hand_model_right=moved / "absent.pkl")


def test_corrupt_truncated_and_foreign_files(saved, tmp_path: Path) -> None:
    path, _ = saved
    data = path.read_bytes()
    bad = tmp_path / "truncated.pt"
    bad.write_bytes(data[: len(data) // 3])
    with pytest.raises(ModelFileError, match=r"truncated\.pt: not a readable checkpoint"):
        load_checkpoint(bad)
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ModelFileError, match="not a readable checkpoint"):
        load_checkpoint(bad)
    torch.save({"conv.weight": torch.zeros(1)}, bad)
    with pytest.raises(ModelFileError, match="not an smhr checkpoint"):
        load_checkpoint(bad)
    with pytest.raises(ModelFileError, match="not found"):
        load_checkpoint(tmp_path / "absent.pt")


def _rewrite(path: Path, out: Path, edit) -> Path:
    payload = torch.load(path, weights_only=True)
    edit(payload)
    torch.save(payload, out)
    return out


def test_missing_key_and_other_architecture(saved, tmp_path: Path) -> None:
    path, _ = saved
    no_cfg = _rewrite(path, tmp_path / "a.pt", lambda p: p["model"].pop("config"))
    with pytest.raises(ModelFileError, match="lacks model.config"):
        load_checkpoint(no_cfg)

    def wider(p):
        p["model"]["config"] = {**p["model"]["config"], "width": 0.5}
    with pytest.raises(ModelFileError, match="do not fit the architecture.*wrong shape"):
        load_checkpoint(_rewrite(path, tmp_path / "b.pt", wider))

    def drop(p):
        p["model"]["state_dict"].pop("neck.fuse.0.weight")
    with pytest.raises(ModelFileError, match=r"missing \['neck\.fuse\.0\.weight'\]"):
        load_checkpoint(_rewrite(path, tmp_path / "c.pt", drop))

    def unknown(p):
        p["model"]["config"] = {**p["model"]["config"], "depth": 101}
    with pytest.raises(ModelFileError, match="unknown key"):
        load_checkpoint(_rewrite(path, tmp_path / "d.pt", unknown))

    def newer(p):
        p["version"] = 99
    with pytest.raises(ModelFileError, match="newer"):
        load_checkpoint(_rewrite(path, tmp_path / "e.pt", newer))


def test_pretrained_path_is_not_needed_to_load(saved, tmp_path: Path) -> None:
    path, _ = saved

    def pretrained(p):
        p["model"]["config"] = {**p["model"]["config"], "width": 1.0, "pretrained": "/nowhere/resnet18.pth"}
    out = _rewrite(path, tmp_path / "p.pt", pretrained)
    # The stored weights replace the backbone's: the .pth is never opened (that error would say
    # "pretrained backbone file not found"); what fails is the width-1.0 shapes.
    with pytest.raises(ModelFileError, match="do not fit the architecture"):
        load_checkpoint(out)


def test_checkpoint_from_before_camera_ref_size_decodes_as_it_was_trained(saved, tmp_path: Path) -> None:
    """A config without ``camera_ref_size`` (written before it existed) keeps the input size as R."""
    path, _ = saved
    loaded, meta = load_checkpoint(path)
    assert meta["config"].camera_ref_size == TINY.camera_ref_size == 128

    def old(p):
        p["model"]["config"] = {k: v for k, v in p["model"]["config"].items() if k != "camera_ref_size"}
    old_loaded, old_meta = load_checkpoint(_rewrite(path, tmp_path / "old.pt", old))
    assert old_meta["config"].camera_ref_size is None and old_meta["config"].ref_size(64) == 64
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        new_pred = loaded.decode(loaded(x), score_threshold=0.0)
        old_pred = old_loaded.decode(old_loaded(x), score_threshold=0.0)
    # the same weights, the same centres; R = S = 64 instead of 128 puts every
    # hand at twice the depth (z = exp(t_z) depth_ref f / R: read half as large)
    assert_close(new_pred.center, old_pred.center)
    m = new_pred.mask
    assert bool(m.any()) and m.equal(old_pred.mask)
    assert_close(old_pred.joints3d[..., 0, 2][m], 2 * new_pred.joints3d[..., 0, 2][m], rtol=1e-5, atol=0)
