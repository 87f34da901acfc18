"""Backgrounds: determinism, statistics, folder crops and their errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from smhr.data.synth.backgrounds import (
    FolderBackgrounds,
    ProceduralBackgrounds,
    make_background_source,
    procedural_background,
    smooth_noise,
)
from smhr.errors import DatasetError


def test_procedural_is_deterministic_and_seed_dependent():
    a = procedural_background(64, 80, np.random.default_rng(3))
    b = procedural_background(64, 80, np.random.default_rng(3))
    c = procedural_background(64, 80, np.random.default_rng(4))
    assert a.shape == (64, 80, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert np.abs(a.astype(int) - c.astype(int)).mean() > 5.0


@pytest.mark.parametrize("shape", [(224, 224), (61, 97), (1, 1)])
def test_procedural_shapes(shape):
    img = procedural_background(*shape, np.random.default_rng(0))
    assert img.shape == (*shape, 3)


def test_procedural_statistics_are_varied():
    rng = np.random.default_rng(0)
    imgs = np.stack([procedural_background(48, 48, rng) for _ in range(60)]).astype(np.float64)
    means = imgs.mean(axis=(1, 2, 3))
    stds = imgs.std(axis=(1, 2))  # (N, 3) contrast within each image
    # Brightness varies across images, but none is (nearly) black, white or flat.
    assert means.std() > 10.0
    assert 20.0 < means.min() and means.max() < 235.0
    assert stds.mean() > 15.0
    # Colours are not all grey: the mean per channel differs between images.
    assert imgs.mean(axis=(1, 2)).std(axis=0).min() > 10.0


def test_skin_distractors_appear_only_when_asked():
    def skin_fraction(prob: float) -> float:
        rng = np.random.default_rng(1)
        imgs = np.stack([procedural_background(48, 48, rng, prob) for _ in range(40)]).astype(np.float64)
        r, g, b = imgs[..., 0], imgs[..., 1], imgs[..., 2]
        skin = (r > g + 15) & (g > b + 10) & (r > 90)  # a crude "skin-like" colour test
        return float(skin.mean())

    assert skin_fraction(1.0) > 2.0 * skin_fraction(0.0) + 0.01


def test_smooth_noise_is_smooth():
    field = smooth_noise(64, 64, 4, 2, np.random.default_rng(0))
    assert field.shape == (64, 64, 2)
    step = np.abs(np.diff(field, axis=0)).mean()
    assert step < 0.2 * field.std()


def _write_images(folder, sizes):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i, (h, w) in enumerate(sizes):
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(folder / f"img{i}.png")


def test_folder_backgrounds_crops(tmp_path):
    _write_images(tmp_path / "bg", [(40, 60), (100, 30)])
    source = FolderBackgrounds(tmp_path / "bg")
    assert len(source) == 2
    a = source.sample(32, 48, np.random.default_rng(5))
    b = source.sample(32, 48, np.random.default_rng(5))
    assert a.shape == (32, 48, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)


def test_folder_backgrounds_errors(tmp_path):
    with pytest.raises(DatasetError, match="not found"):
        FolderBackgrounds(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no background images"):
        FolderBackgrounds(tmp_path / "empty")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "broken.jpg").write_bytes(b"not a jpeg")
    source = FolderBackgrounds(tmp_path / "bad")
    with pytest.raises(DatasetError, match="broken.jpg"):
        source.sample(8, 8, np.random.default_rng(0))


def test_make_background_source(tmp_path):
    assert isinstance(make_background_source(None), ProceduralBackgrounds)
    _write_images(tmp_path / "bg", [(20, 20)])
    assert isinstance(make_background_source(tmp_path / "bg"), FolderBackgrounds)
