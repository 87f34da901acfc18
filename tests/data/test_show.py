import hashlib

import numpy as np
import pytest
from PIL import Image

from smhr.cli import main
from smhr.data.datasets.rhd import RHD
from smhr.data.datasets.sample import Hand, Sample
from smhr.viz.overlay import SIDE_COLOURS, draw_grid, draw_sample, joint_colour, pick_indices
from tests.data.fixtures_rhd import write_rhd_fixture


def _sample(side="right", mask=True):
    joints2d = np.stack([np.linspace(10, 50, 21), np.linspace(20, 40, 21)], 1).astype(np.float32)
    m = np.zeros((64, 64), bool)
    if mask:
        m[46:58, 2:14] = True  # away from the skeleton and the box
    hand = Hand(
        side, joints2d, np.ones(21, bool), np.array([10, 20, 50, 40], np.float32), np.eye(3, dtype=np.float32), mask=m
    )
    return Sample(np.zeros((64, 64, 3), np.uint8), [hand], "test/0")


def test_draws_skeleton_box_and_mask_where_the_annotations_are():
    out = draw_sample(_sample(), size=64)
    assert out.shape == (64, 64, 3)
    # mask: tinted with the side colour (blend over black)
    tint = out[52, 8].astype(int)
    assert np.argmax(tint) == int(np.argmax(SIDE_COLOURS["right"])) and tint.sum() > 0
    # a joint dot in its finger colour at the last (pinky tip) keypoint
    assert tuple(out[40, 50]) == joint_colour(20)
    # nothing drawn far from every annotation
    assert out[5, 60].tolist() == [0, 0, 0]
    left = draw_sample(_sample("left"), size=64)
    assert np.argmax(left[52, 8]) == int(np.argmax(SIDE_COLOURS["left"]))


def test_grid_is_deterministic_and_sized(tmp_path):
    write_rhd_fixture(tmp_path, "training")
    ds = RHD(tmp_path, "training", hands="all")
    a, b = draw_grid(ds, n=3, seed=1, cell=96), draw_grid(ds, n=3, seed=1, cell=96)
    assert a.shape == (2 * 96, 2 * 96, 3) and np.array_equal(a, b)
    assert pick_indices(10, 4, seed=0) == pick_indices(10, 4, seed=0) and len(set(pick_indices(10, 4, 3))) == 4
    assert draw_grid([_sample()], n=16, cell=32).shape == (32, 32, 3)
    with pytest.raises(ValueError, match="empty"):
        draw_grid([], n=4)


@pytest.mark.pipeline
def test_cli_writes_a_png(tmp_path):
    write_rhd_fixture(tmp_path / "rhd", "training")
    out = tmp_path / "grids" / "rhd.png"
    args = [
        "data",
        "show",
        "--dataset",
        "rhd",
        "--root",
        str(tmp_path / "rhd"),
        "--out",
        str(out),
        "--n",
        "2",
        "--cell",
        "64",
    ]
    assert main(args) == 0
    first = hashlib.sha256(out.read_bytes()).hexdigest()
    assert Image.open(out).size == (128, 64)
    assert main(args) == 0 and hashlib.sha256(out.read_bytes()).hexdigest() == first
    assert (
        main(["data", "show", "--dataset", "rhd", "--root", str(tmp_path / "none"), "--out", str(tmp_path / "x.png")])
        == 1
    )
    assert not (tmp_path / "x.png").exists()
