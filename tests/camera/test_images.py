"""Image folders and single images as frame sources."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.camera.images import (
    MAX_IMAGE_PIXELS,
    ImageFileSource,
    ImageFolderSource,
    ImageSequenceSource,
    natural_key,
    read_image,
)
from kiosk.errors import InputError
from tests.camera.fakes import REALS, FakeClock, oversized_jpeg, pattern


def write_png(path: Path, index: int) -> np.ndarray:
    image = pattern(index, 40, 30)
    assert cv2.imwrite(str(path), image)
    return image


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """frame1.png, frame2.png, frame10.png (natural order), plus files that are not images."""
    root = tmp_path / "frames"
    root.mkdir()
    for i in (10, 2, 1):
        write_png(root / f"frame{i}.png", i)
    (root / "notes.txt").write_text("not an image")
    (root / ".hidden.png").write_bytes(b"ignored")
    (root / "sub").mkdir()
    return root


def test_folder_in_natural_order_at_nominal_fps(folder: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        source = ImageFolderSource(folder)
    assert "skipping 1 non-image files (notes.txt)" in caplog.text
    assert [p.name for p in source.skipped] == ["notes.txt"]
    with source:
        frames = list(source)
        assert source.fps == 15.0
        health = source.health
    assert [p.name for p in source.paths] == ["frame1.png", "frame2.png", "frame10.png"]
    assert [f.seq for f in frames] == [0, 1, 2]
    assert [f.media_t for f in frames] == pytest.approx([0.0, 1 / 15, 2 / 15])
    assert [f.t for f in frames] == [f.media_t for f in frames]
    for f, i in zip(frames, (1, 2, 10), strict=True):
        assert np.array_equal(f.image, pattern(i, 40, 30))   # PNG is lossless
    assert (health.frames, health.corrupt, health.fps) == (3, 0, pytest.approx(15.0))


def test_custom_fps_and_range(folder: Path) -> None:
    with ImageFolderSource(folder, fps=4.0, start=1, end=1) as source:
        frames = list(source)
        assert source.last_index == 1
    assert len(frames) == 1
    assert frames[0].media_t == pytest.approx(0.25)
    assert np.array_equal(frames[0].image, pattern(2, 40, 30))


def test_range_past_the_folder(folder: Path) -> None:
    with pytest.raises(InputError, match="starts at 3 .* only 3 images"):
        ImageFolderSource(folder, start=3).open()


def test_corrupt_image_is_skipped_and_counted(folder: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    (folder / "frame3.jpg").write_bytes(np.random.default_rng(0).bytes(500))
    with caplog.at_level(logging.WARNING), ImageFolderSource(folder) as source:
        frames = list(source)
        health = source.health
    assert [f.seq for f in frames] == [0, 1, 2]              # no gap for the skipped file
    assert [f.media_t for f in frames] == pytest.approx([0.0, 1 / 15, 3 / 15])
    assert health.corrupt == 1
    assert "frame3.jpg" in (health.last_error or "")
    assert "frame3.jpg: not a decodable image" in caplog.text


def test_nothing_decodes(tmp_path: Path) -> None:
    for name in ("a.jpg", "b.png"):
        (tmp_path / name).write_bytes(b"\x00" * 64)
    with ImageFolderSource(tmp_path) as source, pytest.raises(
            InputError, match="none of the 2 images of .* could be decoded"):
        source.read()


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="holds no image files"):
        ImageFolderSource(tmp_path)


def test_folder_without_images(tmp_path: Path) -> None:
    (tmp_path / "readme.md").write_text("#")
    with pytest.raises(InputError, match=r"holds no image files \(only 1 non-image files\)"):
        ImageFolderSource(tmp_path)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        ImageFolderSource(tmp_path / "nope")


def test_file_is_not_a_folder(tmp_path: Path) -> None:
    path = tmp_path / "x.png"
    write_png(path, 0)
    with pytest.raises(InputError, match="is not a folder"):
        ImageFolderSource(path)


def test_single_image_is_a_one_frame_source(tmp_path: Path) -> None:
    path = tmp_path / "face.png"
    image = write_png(path, 4)
    with ImageFileSource(path) as source:
        frames = list(source)
    assert len(frames) == 1
    assert (frames[0].seq, frames[0].media_t) == (0, 0.0)
    assert np.array_equal(frames[0].image, image)


def test_single_corrupt_image(tmp_path: Path) -> None:
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"\xff\xd8\xff" + b"\x00" * 100)
    with ImageFileSource(path) as source, pytest.raises(
            InputError, match=r"image file .*broken\.jpg cannot be decoded"):
        source.read()


def test_single_missing_and_empty_image(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        ImageFileSource(tmp_path / "gone.png").open()
    empty = tmp_path / "empty.png"
    empty.touch()
    with pytest.raises(InputError, match=r"empty \(0 bytes\)"):
        ImageFileSource(empty).open()


def test_grey_and_alpha_images_become_bgr(tmp_path: Path) -> None:
    grey = np.arange(12 * 16, dtype=np.uint8).reshape(12, 16)
    bgra = np.dstack([pattern(0, 16, 12), np.full((12, 16), 128, np.uint8)])
    cv2.imwrite(str(tmp_path / "grey.png"), grey)
    cv2.imwrite(str(tmp_path / "alpha.png"), bgra)
    assert np.array_equal(read_image(tmp_path / "grey.png"), np.dstack([grey] * 3))
    assert np.array_equal(read_image(tmp_path / "alpha.png"), bgra[:, :, :3])


def test_non_ascii_path(tmp_path: Path) -> None:
    path = tmp_path / "visage é 顔.png"
    image = write_png(path, 1)
    assert np.array_equal(read_image(path), image)


def test_paced_sequence(folder: Path, clock: FakeClock) -> None:
    with ImageFolderSource(folder, fps=5.0, paced=True, clock=clock,
                           sleep=clock.sleep) as source:
        frames = list(source)
    assert clock.sleeps == pytest.approx([0.2, 0.2])
    assert [f.t for f in frames] == pytest.approx([100.0, 100.2, 100.4])


def test_sequence_rejects_bad_fps(folder: Path) -> None:
    with pytest.raises(ValueError, match="fps"):
        ImageSequenceSource([folder / "frame1.png"], fps=0)


def test_natural_key() -> None:
    names = ["img10.png", "img2.png", "IMG1.png", "img2b.png"]
    assert sorted(names, key=natural_key) == ["IMG1.png", "img2.png", "img2b.png", "img10.png"]


@pytest.mark.data
def test_shared_folder_of_stills(shared_data: Path) -> None:
    with ImageFolderSource(shared_data / REALS) as source:
        frames = list(source)
        assert source.health.corrupt == 0
    assert [p.name for p in source.paths] == ["1.jpg", "3.jpg", "5.jpg", "8.jpg", "11.jpg",
                                              "12.jpg"]
    assert len(frames) == 6
    assert all(f.image.ndim == 3 and f.image.shape[2] == 3 for f in frames)


def test_an_oversized_image_is_refused_from_its_header(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # A 20000x20000 JPEG (400 megapixels, 1.2 GB decoded) must be refused before decoding.
    path = tmp_path / "bomb.jpg"
    path.write_bytes(oversized_jpeg(20000, 20000))
    decoded: list[int] = []
    monkeypatch.setattr(cv2, "imdecode", lambda *a, **k: decoded.append(1))
    with ImageFileSource(path) as source, pytest.raises(
            InputError, match=r"bomb\.jpg has more than 179 megapixels; the limit is 50"):
        source.read()
    # Below Pillow's own refusal the size is named; the limit is the kiosk's.
    path.write_bytes(oversized_jpeg(9000, 6000))
    with pytest.raises(InputError, match=r"is 9000x6000 pixels \(54 megapixels\)"):
        read_image(path)
    assert decoded == []
    assert MAX_IMAGE_PIXELS == 50_000_000


def test_an_oversized_image_in_a_folder_stops_the_source(folder: Path) -> None:
    (folder / "frame5.jpg").write_bytes(oversized_jpeg(12000, 9000))
    with ImageFolderSource(folder) as source:
        assert source.read() is not None and source.read() is not None
        with pytest.raises(InputError, match="frame5.jpg is 12000x9000 pixels"):
            source.read()


def test_an_image_at_the_limit_decodes(tmp_path: Path) -> None:
    path = tmp_path / "wide.png"
    write_png(path, 3)
    assert read_image(path, max_pixels=40 * 30) is not None
    with pytest.raises(InputError, match="40x30 pixels"):
        read_image(path, max_pixels=40 * 30 - 1)
