"""``smhr.render.picture``: the PNG shows both hands, each where the renderer puts it, on the background."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from smhr.render import render_hands
from smhr.render.picture import BACKGROUND, save_two_hands_picture, two_hands_scene

SIZE = 96


def test_picture_png_shows_both_hands_on_the_background(tmp_path):
    path = save_two_hands_picture(tmp_path / "nested" / "two_hands.png", size=SIZE)
    image = Image.open(path)
    assert image.format == "PNG" and image.mode == "RGB" and image.size == (SIZE, SIZE)
    pixels = np.asarray(image).astype(int)

    # Which hand covers each pixel, from the same scene rendered without shading.
    s = two_hands_scene(SIZE)
    index = render_hands(s.verts, s.faces, s.K, torch.ones(1, 2, dtype=torch.bool), (SIZE, SIZE), mode="sharp").hand_index[0]
    index = index.numpy()
    background = np.round(255 * np.array(BACKGROUND)).astype(int)
    is_background = np.abs(pixels - background).max(axis=-1) <= 1

    empty = index == -1
    assert is_background[empty].mean() > 0.95, "pixels no hand covers show the background colour"
    columns = np.arange(SIZE)[None, :].repeat(SIZE, 0)
    for hand in (0, 1):
        covered = index == hand
        assert covered.mean() > 0.03, f"hand {hand} covers {covered.mean():.1%} of the picture"
        assert not is_background[covered].any(), f"hand {hand} is drawn in every pixel it covers"
    # The right hand (0) sits left of the left hand (1) in the image, and the two are shaded apart.
    assert columns[index == 0].mean() < columns[index == 1].mean()
    assert pixels[index == 0].mean() > pixels[index == 1].mean(), "the right hand has the lighter albedo"
