"""Fixtures of tests/predict: images on disk (good, corrupt, mislabelled), a short video."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def rgb(h: int, w: int, seed: int) -> np.ndarray:
    """A smooth random colour image (H, W, 3) uint8."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x / max(w - 1, 1), y / max(h - 1, 1), 0.5 + 0.0 * x], -1)
    return (255 * np.clip(base * 0.8 + rng.uniform(0, 0.2, size=(h, w, 3)), 0, 1)).astype(np.uint8)


def write_video(path: Path, frames: int = 5, hw: tuple[int, int] = (48, 64), options: dict | None = None) -> Path:
    """An MPEG-4 video of ``frames`` frames written with PyAV (``options``: the muxer's)."""
    import av

    with av.open(str(path), "w", options=options or {}) as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.height, stream.width = hw
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.roll(rgb(*hw, seed=i), 4 * i, axis=1), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_mixed_folder(root: Path) -> Path:
    """A folder of images of several sizes and types, with one truncated image, a text file named
    ``.png``, a PNG named ``.dat`` and a hidden file.

    Expected: images ``a`` (PNG 60x80), ``sub/b`` (JPEG 100x50), ``c`` (PNG named c.dat, 64x64),
    ``broken`` (truncated PNG: reported and skipped); ``notes.png`` (text) skipped as not an image.
    """
    (root / "sub").mkdir(parents=True)
    Image.fromarray(rgb(60, 80, 0)).save(root / "a.png")
    Image.fromarray(rgb(100, 50, 1)).save(root / "sub" / "b.jpg", quality=90)
    Image.fromarray(rgb(64, 64, 2)).save(root / "c.dat", format="PNG")
    Image.fromarray(rgb(70, 70, 3)).save(root / "broken.png")
    data = (root / "broken.png").read_bytes()
    (root / "broken.png").write_bytes(data[: len(data) // 2])
    (root / "notes.png").write_text("not an image\n")
    (root / ".hidden.png").write_bytes((root / "a.png").read_bytes())
    return root


@pytest.fixture
def mixed_folder(tmp_path: Path) -> Path:
    """See :func:`write_mixed_folder`."""
    return write_mixed_folder(tmp_path / "photos")


TINY_CONFIG = dict(width=0.25, input_size=64, neck_channels=16, head_channels=16, max_hands=4)
"""A network small enough for end-to-end tests in seconds (random weights)."""


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, procedural_model_files) -> Path:
    """A random-weight tiny network saved with :func:`smhr.model.checkpoint.save_checkpoint`."""
    import torch

    from smhr.model.build import build_model, load_hand_models
    from smhr.model.checkpoint import save_checkpoint
    from smhr.model.config import ModelConfig

    torch.manual_seed(0)
    cfg = ModelConfig(**TINY_CONFIG)
    model = build_model(cfg, *load_hand_models(procedural_model_files.right, procedural_model_files.left))
    files = (procedural_model_files.right, procedural_model_files.left)
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.pt", model.eval(), cfg, files)
