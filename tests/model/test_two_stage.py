"""The two-stage baseline: shapes for 0/1/many hands, the crop camera, checkpoints, predict and export."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from torch.testing import assert_close

from smhr.errors import ModelFileError
from smhr.geometry.camera import project
from smhr.model.build import build_model
from smhr.model.camera import camera_from_root, default_intrinsics
from smhr.model.checkpoint import load_checkpoint, save_checkpoint
from smhr.model.crops import crop_transform, square_boxes
from smhr.model.decode import cell_to_pixel
from smhr.model.export import ExportError, export_onnx
from smhr.model.heads import params_layout, params_rest
from smhr.model.outputs import HandPredictions
from smhr.model.two_stage import BOX_REF, TwoStageNet

from tests.model.conftest import TINY

TWO = dataclasses.replace(TINY, architecture="two_stage", crop_size=32)
S = TWO.input_size
H = S // TWO.stride


@pytest.fixture()
def two_stage(hand_models) -> TwoStageNet:
    torch.manual_seed(0)
    return build_model(TWO, *hand_models).eval()


def forced(maps, cells: list[tuple[int, int, int, int]]):
    """The detection maps with centres only at ``(image, side, y, x)`` cells."""
    center = torch.full_like(maps.center, -10.0)
    for b, s, y, x in cells:
        center[b, s, y, x] = 10.0
    return maps._replace(center=center)


def test_shapes_for_zero_one_and_many_hands(two_stage) -> None:
    x = torch.randn(3, 3, S, S)
    with torch.no_grad():
        maps = two_stage(x)
        cells = [(1, 0, 4, 4)] + [(2, i % 2, 2 + 4 * (i // 2), 3 + 5 * (i % 2)) for i in range(5)]
        pred = two_stage.decode(forced(maps, cells))
    assert isinstance(pred, HandPredictions)
    k, v = TWO.max_hands, two_stage.hand_models[0].num_verts
    assert pred.mask.sum(1).tolist() == [0, 1, 5]
    assert pred.vertices.shape == (3, k, v, 3) and pred.joints2d.shape == (3, k, 21, 2)
    assert pred.albedo.shape == (3, k, v, 3) and pred.sh.shape == (3, k, 9, 3) and pred.K.shape == (3, 3, 3)
    assert pred.side.dtype == torch.int64 and pred.vertices.dtype == torch.float32
    assert [len(h) for h in pred.per_image()] == [0, 1, 5]
    assert sorted(h.side for h in pred.per_image()[2]) == ["left"] * 3 + ["right"] * 2
    assert not pred.vertices[~pred.mask].any() and pred.joints3d[pred.mask][..., 2].gt(0).all()


def test_nothing_scores_gives_zero_hands_and_no_crop(two_stage, monkeypatch) -> None:
    with torch.no_grad():
        maps = forced(two_stage(torch.randn(2, 3, S, S)), [])
        monkeypatch.setattr(two_stage, "regress", lambda crops: pytest.fail("no crop may be regressed"))
        pred = two_stage.decode(maps)
    assert not pred.mask.any() and pred.per_image() == [[], []]
    assert pred.vertices.shape[:2] == (2, TWO.max_hands)


def test_root_is_recovered_exactly_through_the_crop_camera(two_stage) -> None:
    """A hand placed at a known root decodes back to it in the image's camera frame."""
    two_stage = two_stage.double()
    K = torch.tensor([[[70.0, 0.0, 30.0], [0.0, 75.0, 33.0], [0.0, 0.0, 1.0]]], dtype=torch.float64)
    root = torch.tensor([0.03, -0.02, 0.55], dtype=torch.float64)
    cy, cx, size = 7, 9, 20.0
    with torch.no_grad():
        maps = forced(two_stage(torch.randn(1, 3, S, S, dtype=torch.float64)), [(0, 1, cy, cx)])
        maps = maps._replace(center_offset=torch.zeros_like(maps.center_offset),
                             box_size=torch.full_like(maps.box_size, float(torch.log(torch.tensor(size / (BOX_REF * TWO.ref_size(S)))))))
        # the crop the decoder will cut, and the camera term that puts the root at `root` through it
        center = cell_to_pixel(torch.tensor([float(cx), float(cy)], dtype=torch.float64), TWO.stride)
        crop = square_boxes(torch.cat([center - size / 2, center + size / 2])[None])
        K_crop = crop_transform(crop, TWO.crop_size) @ K
        hc = TWO.crop_size // TWO.stride
        cell_px = cell_to_pixel(torch.tensor([hc // 2, hc // 2], dtype=torch.float64), TWO.stride)
        camera = camera_from_root(root, cell_px, K_crop[0], TWO.ref_size(TWO.crop_size), TWO.root_offset_scale, TWO.depth_ref)
        out = two_stage.regressor.towers["params"][-1]
        out.weight.zero_()
        out.bias.copy_(params_rest(TWO.rotation))
        out.bias[params_layout(TWO.rotation)["camera"]] = camera
        pred = two_stage.decode(maps, K)
    assert pred.mask.sum() == 1
    assert_close(pred.joints3d[0, 0, 0], root)
    assert_close(pred.joints2d[0, 0, 0], project(root[None], K[0])[0])
    # the box: the projected mesh's extent, centred on the detector's centre (as the single stage)
    uv = project(pred.vertices[0, 0], K[0])
    half = (uv.amax(0) - uv.amin(0)) / 2
    assert_close(pred.box[0, 0], torch.cat([center - half, center + half]))
    assert_close(pred.center[0, 0], center)
    assert_close(pred.K, K)


def test_checkpoint_round_trip_and_architecture_refusal(two_stage, tmp_path: Path, procedural_model_files) -> None:
    with torch.no_grad():
        two_stage.train()(torch.randn(4, 3, S, S))  # non-trivial batch-norm statistics in the detector
    two_stage.eval()
    files = (procedural_model_files.right, procedural_model_files.left)
    path = save_checkpoint(tmp_path / "two.pt", two_stage, TWO, files)
    loaded, meta = load_checkpoint(path, architecture="two_stage")
    assert isinstance(loaded, TwoStageNet) and meta["config"] == TWO
    x = torch.randn(2, 3, S, S)
    with torch.no_grad():
        a, b = forced(two_stage(x), [(0, 1, 5, 5), (1, 0, 9, 9)]), forced(loaded(x), [(0, 1, 5, 5), (1, 0, 9, 9)])
        assert_close(two_stage.decode(a).vertices, loaded.decode(b).vertices)
    with pytest.raises(ModelFileError, match="two_stage checkpoint, but a single_stage network"):
        load_checkpoint(path, architecture="single_stage")
    single = save_checkpoint(tmp_path / "one.pt", build_model(TINY, *two_stage.hand_models[::-1]), TINY, files)
    with pytest.raises(ModelFileError, match="single_stage checkpoint, but a two_stage network"):
        load_checkpoint(single, architecture="two_stage")


def test_onnx_export_refuses_the_baseline(two_stage, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="single-stage network only"):
        export_onnx(two_stage, tmp_path / "two.onnx")
    assert not (tmp_path / "two.onnx").exists()


def test_predict_runs_on_a_two_stage_checkpoint(two_stage, tmp_path: Path, procedural_model_files) -> None:
    import json

    from tests.predict.conftest import write_mixed_folder
    from smhr.predict.run import PredictOptions, predict

    files = (procedural_model_files.right, procedural_model_files.left)
    ckpt = save_checkpoint(tmp_path / "two.pt", two_stage, TWO, files)
    out = tmp_path / "out"
    summary = predict([write_mixed_folder(tmp_path / "photos")],
                      PredictOptions(checkpoint=ckpt, out=out, score_threshold=0.0, top_k=2, batch_size=2))
    assert summary.images
    record = json.loads((out / "images" / f"{summary.images[0]}.json").read_text())
    assert len(record["hands"]) == 2


def test_default_intrinsics_when_no_K(two_stage) -> None:
    with torch.no_grad():
        maps = forced(two_stage(torch.randn(1, 3, S, S)), [(0, 0, 8, 8)])
        assert_close(two_stage.decode(maps).K, default_intrinsics(S, 1))
