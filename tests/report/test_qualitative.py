"""Choosing images by their per-sample error, and drawing truth beside a real checkpoint's prediction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smhr.report import qualitative


def test_picks_worst_typical_best_deterministically() -> None:
    errors = [5.0, 40.0, 12.0, 30.0, 11.0, 2.0, 13.0, 40.0]
    frame = pd.DataFrame({"image": [str(i) for i in range(8)], "pa_mpjpe_mm": errors})
    picks = qualitative.pick_images(frame, worst=2, typical=2, best=2)
    assert [(p.index, p.tag) for p in picks] == [(1, "worst"), (7, "worst"), (2, "typical"), (6, "typical"),
                                                  (5, "best"), (0, "best")]
    assert picks[0].value == 40.0
    assert qualitative.pick_images(frame.sample(frac=1, random_state=3), worst=2, typical=2, best=2) == picks


def test_multi_hand_rows_reduce_to_the_worst_hand_and_nan_is_ignored() -> None:
    frame = pd.DataFrame({"image": ["0:0", "0:1", "1:0", "2:0"], "pa_mpjpe_mm": [3.0, 50.0, 20.0, np.nan]})
    picks = qualitative.pick_images(frame, worst=1, typical=0, best=5)
    assert [(p.index, p.value, p.tag) for p in picks] == [(0, 50.0, "worst"), (1, 20.0, "best")]


def test_no_column_no_picks() -> None:
    assert qualitative.pick_images(pd.DataFrame({"image": ["0"]})) == []


def test_final_checkpoint_prefers_multi_then_all(tmp_path: Path) -> None:
    assert qualitative.final_checkpoint(tmp_path, "main", 0) is None
    (tmp_path / "no_stagewise" / "seed1" / "all").mkdir(parents=True)
    (tmp_path / "no_stagewise" / "seed1" / "all" / "model.pt").write_bytes(b"")
    assert qualitative.final_checkpoint(tmp_path, "no_stagewise", 1) == tmp_path / "no_stagewise/seed1/all/model.pt"


@pytest.mark.slow
def test_grid_runs_the_checkpoint_on_the_picked_images(tmp_path: Path, tiny_checkpoint: Path) -> None:
    from smhr.data.datasets.freihand import FreiHAND
    from tests.data.conftest import write_freihand_source

    dataset = FreiHAND(write_freihand_source(tmp_path / "freihand", n_train=1, n_eval=3), split="evaluation")
    picks = qualitative.pick_images(pd.DataFrame({"image": ["0", "1", "2"], "pa_mpjpe_mm": [9.0, 30.0, 20.0]}),
                                    worst=1, typical=1, best=1)
    grid = qualitative.qualitative_grid(tiny_checkpoint, dataset, picks, "PA-MPJPE [mm]", cell=64, columns=2)
    assert grid.shape == (2 * (qualitative.CAPTION_PX + 64), 2 * 2 * 64, 3) and grid.dtype == np.uint8
    again = qualitative.qualitative_grid(tiny_checkpoint, dataset, picks, "PA-MPJPE [mm]", cell=64, columns=2)
    assert np.array_equal(grid, again)
    assert grid[:, 2 * 64:].any() and not grid[qualitative.CAPTION_PX + 64:, 2 * 64:].any()  # 3 pairs: last cell empty


def test_missed_hands_are_the_worst_failures():
    """Multi-hand rows: an image with missed hands ranks above any matched error, more misses first;
    an image with nothing matched (no error) is still picked, and never as typical or best."""
    frame = pd.DataFrame({"image": ["0", "1", "2", "3", "4", "5"],
                          "pa_mpjpe_mm": [9.0, float("nan"), 20.0, 10.0, float("nan"), 11.0],
                          "num_missed": [0, 2, 1, 0, 0, 0]})
    picks = qualitative.pick_images(frame, worst=2, typical=1, best=1)
    assert [(p.image, p.tag, p.missed) for p in picks] == [("1", "worst", 2), ("2", "worst", 1),
                                                           ("3", "typical", 0), ("0", "best", 0)]
    assert picks[0].caption("PA-MPJPE [mm]") == "2 hands missed"
    assert picks[1].caption("PA-MPJPE [mm]") == "1 hand missed, PA-MPJPE [mm] 20.0"


def test_images_with_every_hand_missed_are_picked_without_an_error_column():
    """A model that matched no hand at all: the protocol writes no error column; misses still rank."""
    frame = pd.DataFrame({"image": ["0", "1", "2"], "num_missed": [2, 4, 1]})
    assert [(p.image, p.missed) for p in qualitative.pick_images(frame, worst=2)] == [("1", 4), ("0", 2)]


def test_camera_used_is_the_benchmarks_camera_in_the_image_pixels():
    """Labelled K for single-camera benchmarks; for composed images the model's default input camera
    mapped back through the letterbox: a point projects where the network's projection lands after
    mapping to the image's pixels."""
    import torch

    from smhr.data.datasets.sample import Hand, Sample
    from smhr.model.camera import default_intrinsics
    from smhr.predict.letterbox import Letterbox

    K = np.array([[300.0, 0, 90], [0, 300.0, 60], [0, 0, 1]])
    hand = Hand("right", np.zeros((21, 2)), np.ones(21, bool), np.array([0, 0, 10, 10.0]), K)
    sample = Sample(np.zeros((120, 200, 3), np.uint8), [hand], "x")
    assert np.array_equal(qualitative.camera_used(sample, True, 64), K)
    used = qualitative.camera_used(sample, False, 64)
    point = np.array([0.03, -0.02, 0.5])
    net_K = default_intrinsics(64, 1, torch.float64)[0].numpy()
    at_input = (net_K @ point)[:2] / point[2]
    expected = Letterbox.fit((120, 200), 64).to_source(at_input[None])[0]
    np.testing.assert_allclose((used @ point)[:2] / point[2], expected, atol=1e-9)
