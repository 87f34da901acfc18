"""``smhr predict`` end to end with a tiny random-weight checkpoint (threshold 0: every top-K slot is a hand)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from smhr.cli import main
from smhr.errors import SmhrError
from smhr.eval.multihand import read_hands
from smhr.eval.submission import to_ho3d
from smhr.geometry.camera import project
from smhr.model.camera import default_intrinsics
from smhr.predict.letterbox import Letterbox
from tests.predict.conftest import write_mixed_folder
from smhr.predict.results import HAND_KEYS, MANO_KEYS, SCHEMA
from smhr.predict.run import MULTIHAND_FILE, PredictOptions, predict
from smhr.viz.files import current_umask
from smhr.viz.mesh import read_obj

from tests.predict.conftest import TINY_CONFIG, rgb, write_video
from tests.predict.test_mesh import outwardness

TOP_K = 2


def options(checkpoint: Path, out: Path, **kw) -> PredictOptions:
    return PredictOptions(checkpoint=checkpoint, out=out, score_threshold=0.0, top_k=TOP_K, batch_size=2, **kw)


def no_temp_files(root: Path) -> bool:
    return not any(p.name.startswith(".") for p in root.rglob("*"))


@pytest.fixture(scope="module")
def folder_run(tmp_path_factory, tiny_checkpoint):
    root = write_mixed_folder(tmp_path_factory.mktemp("inputs") / "photos")
    out = tmp_path_factory.mktemp("runs") / "out"
    summary = predict([root], options(tiny_checkpoint, out, meshes="obj", freihand=True, ho3d=True))
    return root, out, summary


def test_folder_run_writes_every_file(folder_run):
    root, out, summary = folder_run
    assert summary.images == ["a", "c", "sub/b"]
    assert sorted(s.path.name for s in summary.skipped) == ["broken.png", "notes.png"]
    assert summary.num_hands == 3 * TOP_K
    sizes = {"a": (60, 80), "c": (64, 64), "sub/b": (100, 50)}
    for name, hw in sizes.items():
        assert np.asarray(Image.open(out / "images" / f"{name}.png")).shape == (*hw, 3)
        assert (out / "images" / f"{name}.json").is_file()
        assert len(list((out / "meshes").glob(f"{name}_*.obj"))) == TOP_K
    assert not (out / "images" / "broken.json").exists() and not (out / "images" / "broken.png").exists()
    run = json.loads((out / "run.json").read_text())
    assert run["images"] == summary.images and len(run["skipped"]) == 2
    assert run["hand_models"]["right"]["sha256"] and run["options"]["top_k"] == TOP_K
    assert no_temp_files(out) and no_temp_files(out.parent)
    umask = current_umask()
    for path in [out, *out.rglob("*")]:
        assert (path.stat().st_mode & 0o777) == (0o777 if path.is_dir() else 0o666) & ~umask, path


def test_per_image_json_schema_and_mapping_back(folder_run):
    _, out, _ = folder_run
    for name, hw in {"a": (60, 80), "sub/b": (100, 50), "c": (64, 64)}.items():
        doc = json.loads((out / "images" / f"{name}.json").read_text())
        assert doc["schema"] == SCHEMA and doc["image"] == name and (doc["height"], doc["width"]) == hw
        assert doc["input_size"] == TINY_CONFIG["input_size"] and doc["camera"]["from"] == "default"
        lb = Letterbox.fit(hw, TINY_CONFIG["input_size"])
        K = np.asarray(doc["camera"]["K"])
        np.testing.assert_allclose(K, lb.K_to_source(default_intrinsics(TINY_CONFIG["input_size"], 1, torch.float64)[0].numpy()), atol=1e-6)
        np.testing.assert_allclose(doc["letterbox"], lb.A, atol=1e-9)
        assert len(doc["hands"]) == TOP_K
        scores = [h["score"] for h in doc["hands"]]
        assert scores == sorted(scores, reverse=True)
        for hand in doc["hands"]:
            assert set(hand) == set(HAND_KEYS) and set(hand["mano"]) == set(MANO_KEYS)
            assert hand["side"] in ("left", "right") and 0 <= hand["score"] <= 1
            shapes = {k: np.shape(hand[k]) for k in ("box", "center", "joints2d", "keypoints2d", "joints3d")}
            assert shapes == {"box": (4,), "center": (2,), "joints2d": (21, 2), "keypoints2d": (21, 2), "joints3d": (21, 3)}
            assert {k: np.shape(v) for k, v in hand["mano"].items()} == {
                "global_orient": (3,), "hand_pose": (45,), "betas": (10,), "transl": (3,)}
            # 2D in original pixels: the 3D projects onto it through the original image's K
            np.testing.assert_allclose(project(np.asarray(hand["joints3d"]), K), hand["joints2d"], atol=0.01)


def test_multihand_and_submission_files(folder_run):
    _, out, summary = folder_run
    hands = read_hands(out / MULTIHAND_FILE, is_pred=True)
    assert sorted(hands) == sorted(summary.images)
    for name, records in hands.items():
        doc = json.loads((out / "images" / f"{name}.json").read_text())
        assert [r.side for r in records] == [h["side"] for h in doc["hands"]]
        np.testing.assert_allclose([r.box for r in records], [h["box"] for h in doc["hands"]])
        assert all(r.verts.shape == (778, 3) or r.verts.shape[1] == 3 for r in records)
    joints, verts = json.loads((out / "freihand" / "pred.json").read_text())
    assert np.shape(joints)[:2] == (3, 21) and len(verts) == 3
    first = json.loads((out / "images" / "a.json").read_text())["hands"][0]
    np.testing.assert_allclose(joints[0], first["joints3d"], atol=1e-6)
    ho3d_joints, _ = json.loads((out / "ho3d" / "pred.json").read_text())
    np.testing.assert_allclose(ho3d_joints, to_ho3d(np.asarray(joints), np.asarray(verts))[0], atol=1e-12)
    assert (out / "freihand" / "pred.zip").is_file()


def test_meshes_face_outwards_for_both_sides(folder_run):
    _, out, _ = folder_run
    files = sorted((out / "meshes").rglob("*.obj"))
    assert files
    sides = set()
    for path in files:
        sides.add(path.stem.rsplit("_", 1)[1])
        verts, faces = read_obj(path)
        assert outwardness(verts, faces) > 0, path
    assert sides <= {"left", "right"}


def test_focal_overrides_the_camera(tmp_path, tiny_checkpoint):
    Image.fromarray(rgb(40, 90, 5)).save(tmp_path / "wide.png")
    out = tmp_path / "out"
    predict([tmp_path / "wide.png"], options(tiny_checkpoint, out, focal=120.0, overlay=False))
    doc = json.loads((out / "images" / "wide.json").read_text())
    assert doc["camera"]["from"] == "focal"
    np.testing.assert_allclose(doc["camera"]["K"], [[120, 0, 44.5], [0, 120, 19.5], [0, 0, 1]])
    for hand in doc["hands"]:
        np.testing.assert_allclose(project(np.asarray(hand["joints3d"]), np.asarray(doc["camera"]["K"])), hand["joints2d"], atol=0.01)
    assert not (out / "images" / "wide.png").exists()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_gives_the_cpu_result(tmp_path, tiny_checkpoint):
    Image.fromarray(rgb(50, 70, 4)).save(tmp_path / "x.png")
    docs = {}
    for device in ("cpu", "cuda"):
        predict([tmp_path / "x.png"], options(tiny_checkpoint, tmp_path / device, device=device, overlay=False))
        docs[device] = json.loads((tmp_path / device / "images" / "x.json").read_text())
    for a, b in zip(docs["cpu"]["hands"], docs["cuda"]["hands"]):
        assert a["side"] == b["side"]
        np.testing.assert_allclose(a["joints2d"], b["joints2d"], atol=0.05)


def test_video_input(tmp_path, tiny_checkpoint):
    video = write_video(tmp_path / "clip.mp4", frames=5)
    out = tmp_path / "out"
    summary = predict([video], options(tiny_checkpoint, out, every=2, max_frames=2))
    assert summary.images == ["clip_000000", "clip_000002"]
    assert sorted(read_hands(out / MULTIHAND_FILE, is_pred=True)) == summary.images
    assert json.loads((out / "images" / "clip_000002.json").read_text())["frame"] == 2


def test_video_cut_mid_stream_leaves_out_untouched(tmp_path, tiny_checkpoint):
    video = write_video(tmp_path / "clip.mp4", frames=20, options={"movflags": "faststart"})
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(video.read_bytes()[: int(video.stat().st_size * 0.6)])
    with pytest.raises(SmhrError, match="cut.mp4.*truncated"):
        predict([cut], options(tiny_checkpoint, tmp_path / "out", overlay=False))
    assert not (tmp_path / "out").exists() and not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_batching_does_not_change_results(tmp_path, tiny_checkpoint):
    for i, hw in enumerate([(50, 70), (64, 64), (90, 30)]):
        Image.fromarray(rgb(*hw, seed=i)).save(tmp_path / f"{i}.png")
    docs = []
    for batch in (1, 3):
        out = tmp_path / f"out{batch}"
        predict([tmp_path], dataclasses.replace(options(tiny_checkpoint, out, overlay=False), batch_size=batch))
        docs.append([json.loads((out / "images" / f"{i}.json").read_text()) for i in range(3)])
    for one, three in zip(*docs):
        for h1, h3 in zip(one["hands"], three["hands"]):
            np.testing.assert_allclose(h1["joints3d"], h3["joints3d"], atol=1e-4)


def test_checkpoint_errors_name_the_file(tmp_path, tiny_checkpoint, procedural_model_files):
    Image.fromarray(rgb(32, 32, 0)).save(tmp_path / "x.png")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(tiny_checkpoint.read_bytes()[:1000])
    with pytest.raises(SmhrError, match="corrupt.pt"):
        predict([tmp_path / "x.png"], options(corrupt, tmp_path / "o1"))
    with pytest.raises(SmhrError, match="sha256"):
        predict([tmp_path / "x.png"], options(tiny_checkpoint, tmp_path / "o2", hand_model_right=procedural_model_files.left))
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()
    assert no_temp_files(tmp_path)


def test_checkpoint_of_another_architecture(tmp_path, tiny_checkpoint):
    payload = torch.load(tiny_checkpoint, weights_only=True)
    payload["model"]["config"]["neck_channels"] = 32
    other = tmp_path / "other.pt"
    torch.save(payload, other)
    Image.fromarray(rgb(32, 32, 0)).save(tmp_path / "x.png")
    with pytest.raises(SmhrError, match="other.pt.*architecture"):
        predict([tmp_path / "x.png"], options(other, tmp_path / "o"))


def test_checkpoint_giving_nan_is_one_clear_error(tmp_path, tiny_checkpoint):
    payload = torch.load(tiny_checkpoint, weights_only=True)
    name = next(k for k in payload["model"]["state_dict"] if k.startswith("heads.") and k.endswith("weight"))
    payload["model"]["state_dict"][name].fill_(float("nan"))
    broken = tmp_path / "broken.pt"
    torch.save(payload, broken)
    Image.fromarray(rgb(32, 32, 0)).save(tmp_path / "x.png")
    with pytest.raises(SmhrError, match="broken.pt: the network gives NaN"):
        predict([tmp_path / "x.png"], options(broken, tmp_path / "o", overlay=False))
    assert not (tmp_path / "o").exists()


def test_out_folder_checks_before_any_work(tmp_path, tiny_checkpoint):
    Image.fromarray(rgb(32, 32, 0)).save(tmp_path / "x.png")
    image = tmp_path / "x.png"
    with pytest.raises(SmhrError, match="is a file"):
        predict([image], options(tiny_checkpoint, image))
    other = tmp_path / "other"
    other.mkdir()
    (other / "thesis.tex").write_text("keep me")
    with pytest.raises(SmhrError, match="not empty"):
        predict([image], options(tiny_checkpoint, other))
    assert [p.name for p in other.iterdir()] == ["thesis.tex"]
    out = tmp_path / "out"
    predict([image], options(tiny_checkpoint, out, overlay=False))
    with pytest.raises(SmhrError, match="--overwrite"):
        predict([image], options(tiny_checkpoint, out, overlay=False))
    (out / "images" / "stale.json").write_text("{}")
    Image.fromarray(rgb(32, 32, 1)).save(tmp_path / "y.png")
    predict([tmp_path / "y.png"], options(tiny_checkpoint, out, overlay=False, overwrite=True))
    assert sorted(p.name for p in (out / "images").iterdir()) == ["y.json"]


def test_nothing_readable_leaves_out_untouched(tmp_path, tiny_checkpoint, mixed_folder):
    out = tmp_path / "out"
    with pytest.raises(SmhrError, match="no input image could be read"):
        predict([mixed_folder / "broken.png"], options(tiny_checkpoint, out))
    assert not out.exists() and not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_cli(tmp_path, tiny_checkpoint, capsys):
    Image.fromarray(rgb(48, 40, 0)).save(tmp_path / "x.png")
    out = tmp_path / "out"
    argv = ["predict", str(tmp_path / "x.png"), "--checkpoint", str(tiny_checkpoint), "--out", str(out),
            "--score-threshold", "0", "--top-k", "1", "--meshes", "ply", "--no-progress"]
    assert main(argv) == 0
    assert (out / "meshes").is_dir() and len(list((out / "meshes").glob("x_0_*.ply"))) == 1
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--overwrite" in err[0]
    onnx = tmp_path / "m.onnx"
    assert main(["export", "--checkpoint", str(tiny_checkpoint), "--onnx", str(onnx)]) == 0 and onnx.is_file()
    assert main(["export", "--checkpoint", str(tiny_checkpoint), "--onnx", str(tmp_path / "nope" / "m.onnx")]) == 1
    assert "does not exist" in capsys.readouterr().err

