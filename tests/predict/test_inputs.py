"""Input discovery by content, unique names, decoding errors, videos."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from smhr.errors import SmhrError
from smhr.predict.inputs import InputError, discover, iter_frames
from tests.predict.conftest import rgb, write_video


def test_folder_is_searched_recursively_by_content(mixed_folder):
    sources, skipped = discover([mixed_folder])
    assert [(s.name, s.kind) for s in sources] == [("a", "image"), ("broken", "image"), ("c", "image"), ("sub/b", "image")]
    assert [s.path.name for s in skipped] == ["notes.png"]
    frames = list(iter_frames(sources))
    decoded = {f.name: f for f in frames}
    assert decoded["a"].image.shape == (60, 80, 3)
    assert decoded["c"].image.shape == (64, 64, 3)
    assert decoded["sub/b"].image.shape == (100, 50, 3)
    assert decoded["broken"].image is None and "broken.png" in decoded["broken"].error


def test_names_are_unique_and_stable(tmp_path):
    for name in ("x.png", "x.jpg"):
        Image.fromarray(rgb(8, 8, 0)).save(tmp_path / name)
    first = [s.name for s in discover([tmp_path])[0]]
    assert first == ["x", "x__2"] and first == [s.name for s in discover([tmp_path])[0]]
    # several INPUTs: each prefixed by its own name
    other = tmp_path.parent / "other_inputs"
    other.mkdir()
    Image.fromarray(rgb(8, 8, 0)).save(other / "x.png")
    names = [s.name for s in discover([tmp_path, other])[0]]
    assert names == [f"{tmp_path.name}/x", f"{tmp_path.name}/x__2", "other_inputs/x"]


def test_bad_inputs_are_one_clear_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="empty.*holds no image"):
        discover([empty])
    with pytest.raises(InputError, match="no such file"):
        discover([tmp_path / "missing.png"])
    text = tmp_path / "fake.png"
    text.write_text("hello")
    with pytest.raises(SmhrError, match="fake.png: neither an image"):
        discover([text])
    not_video = tmp_path / "fake.mp4"
    not_video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    with pytest.raises(SmhrError, match="fake.mp4: neither an image"):
        discover([not_video])


def test_video_frames_every_and_max(tmp_path):
    video = write_video(tmp_path / "clip.mp4", frames=7)
    sources, _ = discover([video])
    assert [(s.name, s.kind) for s in sources] == [("clip", "video")]
    frames = list(iter_frames(sources, every=2))
    assert [f.name for f in frames] == ["clip_000000", "clip_000002", "clip_000004", "clip_000006"]
    assert all(f.image.shape == (48, 64, 3) and f.image.dtype == np.uint8 for f in frames)
    assert [f.frame for f in iter_frames(sources, every=3, max_frames=2)] == [0, 3]


def test_truncated_video_is_one_clear_error(tmp_path):
    video = write_video(tmp_path / "clip.mp4", frames=5)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    with pytest.raises(SmhrError, match="cut.mp4"):
        discover([cut])


def test_video_cut_mid_stream_is_one_clear_error(tmp_path):
    """An MP4 with its index first (faststart) opens after a cut; the missing frames are noticed."""
    video = write_video(tmp_path / "clip.mp4", frames=20, options={"movflags": "faststart"})
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(video.read_bytes()[: int(video.stat().st_size * 0.6)])
    sources, _ = discover([cut])
    with pytest.raises(InputError, match="cut.mp4: video declares 20 frames but only"):
        list(iter_frames(sources))
    assert len(list(iter_frames(discover([video])[0]))) == 20


def test_explicit_truncated_image_comes_back_as_an_error_frame(mixed_folder):
    sources, _ = discover([mixed_folder / "broken.png"])
    (frame,) = iter_frames(sources)
    assert frame.image is None and "truncated" in frame.error


def test_exif_orientation_is_applied(tmp_path):
    image = Image.fromarray(rgb(10, 20, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    image.save(tmp_path / "rot.jpg", exif=exif)
    (frame,) = iter_frames(discover([tmp_path / "rot.jpg"])[0])
    assert frame.image.shape == (20, 10, 3)

