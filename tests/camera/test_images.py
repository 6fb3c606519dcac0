"""Image folders and single images as frame sources."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from kiosk.camera.images import (
    MAX_IMAGE_PIXELS,
    ImageFileSource,
    ImageFolderSource,
    ImageSequenceSource,
    natural_key,
    pillow_ceiling,
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
    # Photos of several sizes are not one recording: refused at open, naming the first misfit.
    source = ImageFolderSource(shared_data / REALS)
    assert [p.name for p in source.paths] == ["1.jpg", "3.jpg", "5.jpg", "8.jpg", "11.jpg",
                                              "12.jpg"]
    with pytest.raises(InputError, match=r"image .*/5\.jpg is 960x1706 pixels but the first "
                                         r"image \(1\.jpg\) is 1455x1944"):
        source.open()
    # A range of pictures of one size (1108x1478) reads as frames.
    with ImageFolderSource(shared_data / REALS, start=3, end=5) as source:
        frames = list(source)
        assert source.health.corrupt == 0
    assert len(frames) == 3
    assert all(f.image.shape == (1478, 1108, 3) for f in frames)


def test_an_oversized_image_is_refused_from_its_header(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # A 20000x20000 JPEG (400 megapixels, 1.2 GB decoded) must be refused before decoding.
    path = tmp_path / "bomb.jpg"
    path.write_bytes(oversized_jpeg(20000, 20000))
    decoded: list[int] = []
    monkeypatch.setattr(cv2, "imdecode", lambda *a, **k: decoded.append(1))
    with ImageFileSource(path) as source, pytest.raises(
            InputError, match=r"bomb\.jpg has more than 178 megapixels; the limit is 50 "):
        source.read()
    # Below Pillow's own refusal the size is named; the limit is the kiosk's.
    path.write_bytes(oversized_jpeg(9000, 6000))
    with pytest.raises(InputError, match=r"is 9000x6000 pixels \(54 megapixels\)"):
        read_image(path)
    assert decoded == []
    assert MAX_IMAGE_PIXELS == 50_000_000


def test_an_oversized_image_in_a_folder_is_refused_at_open(folder: Path) -> None:
    # From its header, before any frame: a command refuses the folder before it starts.
    (folder / "frame5.jpg").write_bytes(oversized_jpeg(12000, 9000))
    source = ImageFolderSource(folder)
    with pytest.raises(InputError, match="frame5.jpg is 12000x9000 pixels"):
        source.open()
    assert not source.is_open


def test_an_image_at_the_limit_decodes(tmp_path: Path) -> None:
    path = tmp_path / "wide.png"
    write_png(path, 3)
    assert read_image(path, max_pixels=40 * 30) is not None
    with pytest.raises(InputError, match="40x30 pixels"):
        read_image(path, max_pixels=40 * 30 - 1)


def test_pillows_refusal_quotes_a_figure_every_refused_image_exceeds(tmp_path: Path) -> None:
    # Pillow refuses above 2 x Image.MAX_IMAGE_PIXELS = 178,956,970 pixels; 13378 x 13378 is
    # 178,970,884: refused, yet not "more than 179 megapixels".
    assert pillow_ceiling() == 2 * Image.MAX_IMAGE_PIXELS == 178_956_970
    path = tmp_path / "just_above.jpg"
    path.write_bytes(oversized_jpeg(13378, 13378))
    with pytest.raises(InputError, match=r"has more than 178 megapixels; the limit is 50 "
                                         r"megapixels$"):
        read_image(path)


def test_a_size_just_above_the_limit_is_not_printed_as_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    path.write_bytes(oversized_jpeg(8200, 6100))    # 50,020,000 pixels
    with pytest.raises(InputError, match=r"is 8200x6100 pixels \(50\.02 megapixels\); the "
                                         r"limit is 50\.00 megapixels"):
        read_image(path)


def write_sized(path: Path, width: int, height: int, orientation: int = 0) -> None:
    """A grey picture of ``width`` x ``height`` as stored, with an EXIF orientation if given."""
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    Image.new("RGB", (width, height), (90, 90, 90)).save(path, exif=exif.tobytes())


def test_a_folder_of_two_sizes_is_refused_before_any_frame(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_sized(tmp_path / "a.png", 40, 30)
    write_sized(tmp_path / "b.png", 30, 40)   # the same pixels turned: still another size
    decoded: list[int] = []
    monkeypatch.setattr(cv2, "imdecode", lambda *a, **k: decoded.append(1))
    source = ImageFolderSource(tmp_path)
    with pytest.raises(InputError) as refused:
        source.open()
    assert str(refused.value) == (
        f"image {tmp_path / 'b.png'} is 30x40 pixels but the first image (a.png) is 40x30; "
        f"every frame of {tmp_path} must have the same size")
    assert decoded == []


def test_a_size_change_an_orientation_tag_makes_is_refused_before_any_frame(
        tmp_path: Path) -> None:
    """Same stored size, but a.jpg is turned upright by its EXIF tag: 20x40 once decoded.
    Before, the folder opened and stopped at b.jpg: `kiosk verify` had opened its attempt,
    left INTERRUPTED, a failure counted toward the subject's lockout."""
    write_sized(tmp_path / "a.jpg", 40, 20, orientation=6)
    write_sized(tmp_path / "b.jpg", 40, 20)
    with pytest.raises(InputError, match=r"b\.jpg is 40x20 pixels but the first image "
                                         r"\(a\.jpg\) is 20x40"):
        ImageFolderSource(tmp_path).open()


def test_a_size_change_only_the_decoder_shows_stops_the_source(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A tag the header reading does not see (here: hidden from it) is still caught decoding.
    import kiosk.camera.images as images

    write_sized(tmp_path / "a.jpg", 40, 20, orientation=6)
    write_sized(tmp_path / "b.jpg", 40, 20)
    real = images.read_header
    monkeypatch.setattr(images, "read_header",
                        lambda path, what, *a: real(path, what, *a)._replace(orientation=1))
    with ImageFolderSource(tmp_path) as source:
        first = source.read()
        assert first is not None and first.image.shape == (40, 20, 3)
        with pytest.raises(InputError, match=r"b\.jpg is 40x20 pixels but the first image "
                                             r"\(a\.jpg\) is 20x40"):
            source.read()


def test_pictures_of_one_size_once_upright_make_a_folder(tmp_path: Path) -> None:
    write_sized(tmp_path / "a.jpg", 40, 20, orientation=6)   # a phone picture taken turned
    write_sized(tmp_path / "b.jpg", 20, 40)
    with ImageFolderSource(tmp_path) as source:
        assert [f.image.shape for f in source] == [(40, 20, 3), (40, 20, 3)]


def test_a_range_checks_only_its_own_pictures(folder: Path) -> None:
    write_sized(folder / "frame0.png", 64, 64)   # before the range: never read
    with ImageFolderSource(folder, start=1) as source:
        assert len(list(source)) == 3
