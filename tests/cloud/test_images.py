"""JPEG within Rekognition's 5 MB, and ID-photo loading with its errors and EXIF orientation."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from kiosk.cloud.detect import HogFaceDetector
from kiosk.cloud.errors import ImageRejected, InvalidImage
from kiosk.cloud.images import (
    PHOTO_MAX_BYTES,
    PHOTO_MAX_PIXELS,
    REKOGNITION_MAX_BYTES,
    decode_photo,
    encode_jpeg,
    load_photo,
)
from kiosk.errors import InputError
from tests.camera.fakes import oversized_jpeg
from tests.cloud.conftest import OBAMA


def _decode(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def test_small_frame_is_encoded_once_at_full_size():
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    before = frame.copy()
    data = encode_jpeg(frame)
    assert data[:2] == b"\xff\xd8"
    assert _decode(data).shape == (48, 64, 3)
    np.testing.assert_array_equal(frame, before)  # input untouched


def test_huge_noisy_frame_is_brought_under_5_mb():
    # Noise is the worst case for JPEG: 4000x3000 at quality 92 is far above 5 MB.
    rng = np.random.default_rng(2)
    frame = rng.integers(0, 256, (3000, 4000, 3), dtype=np.uint8)
    data = encode_jpeg(frame)
    assert len(data) <= REKOGNITION_MAX_BYTES
    decoded = _decode(data)
    assert decoded is not None
    height, width = decoded.shape[:2]
    assert width < 4000 and height < 3000
    assert abs(width / height - 4000 / 3000) < 0.01  # aspect ratio kept
    # The predicted downscale should not throw away far more than needed.
    assert len(data) > 0.5 * REKOGNITION_MAX_BYTES


def test_lowering_quality_is_tried_before_downscaling():
    rng = np.random.default_rng(3)
    smooth = cv2.GaussianBlur(rng.integers(0, 256, (400, 600, 3), dtype=np.uint8), (0, 0), 2)
    full = len(encode_jpeg(smooth, 10**9))
    low = len(encode_jpeg(smooth, 10**9, quality=75))
    data = encode_jpeg(smooth, max_bytes=(full + low) // 2)
    assert len(data) <= (full + low) // 2
    assert _decode(data).shape == (400, 600, 3)  # fitted by quality alone


def test_image_that_cannot_fit_is_rejected():
    rng = np.random.default_rng(4)
    frame = rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)
    with pytest.raises(ImageRejected, match="80 pixels"):
        encode_jpeg(frame, max_bytes=500)


@pytest.mark.parametrize("bad", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32),
                                 np.zeros((10, 10, 4), np.uint8), "frame"])
def test_encode_checks_the_array(bad):
    with pytest.raises(ValueError, match="image must be an \\(H, W, 3\\) uint8"):
        encode_jpeg(bad)


def test_missing_photo(tmp_path: Path):
    with pytest.raises(InvalidImage, match="does not exist"):
        load_photo(tmp_path / "nope.jpg")


def test_empty_photo(tmp_path: Path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(InvalidImage, match=r"is empty \(0 bytes\)"):
        load_photo(path)


def test_photo_over_15_mb(tmp_path: Path):
    path = tmp_path / "huge.jpg"
    with path.open("wb") as fh:  # sparse: no 16 MB written to disk
        fh.truncate(PHOTO_MAX_BYTES + 1)
    with pytest.raises(InvalidImage, match=r"is too large \(15.0 MB\); the limit is 15 MB"):
        load_photo(path, what="ID photo")


def test_text_file_is_not_an_image(tmp_path: Path):
    path = tmp_path / "notes.jpg"
    path.write_text("this is not a photo\n")
    with pytest.raises(InvalidImage, match="is not an image") as info:
        load_photo(path)
    assert isinstance(info.value, InputError)  # the CLI treats it as a user-input error


@pytest.mark.parametrize("brand, says", [(b"heic", "HEIC"), (b"mif1", "HEIF"),
                                         (b"avif", "AVIF")])
def test_a_phones_heic_photo_is_named_as_such(tmp_path: Path, brand: bytes, says: str):
    """A phone's photo said "is not an image"; it is one, in a format the kiosk cannot read."""
    path = tmp_path / "IMG_0042.heic"
    path.write_bytes(b"\x00\x00\x00\x18ftyp" + brand + b"\x00" * 40)
    with pytest.raises(InvalidImage, match=f"is a {says} image; use a JPEG or PNG file"):
        load_photo(path)


def test_gif_is_refused_with_the_accepted_formats(tmp_path: Path):
    path = tmp_path / "photo.gif"
    Image.new("RGB", (32, 32), (10, 20, 30)).save(path, format="GIF")
    with pytest.raises(InvalidImage, match="is a GIF image; use a JPEG or PNG"):
        load_photo(path)


def test_truncated_jpeg_is_reported_as_damaged(tmp_path: Path):
    buffer = io.BytesIO()
    rng = np.random.default_rng(5)
    Image.fromarray(rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)).save(buffer, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buffer.getvalue()[:600])
    with pytest.raises(InvalidImage, match="damaged"):
        load_photo(path)


def test_folder_is_not_a_photo(tmp_path: Path):
    with pytest.raises(InvalidImage, match="is a folder"):
        load_photo(tmp_path)


def test_png_transparency_becomes_white(tmp_path: Path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 200  # red where opaque
    rgba[:2, :, 3] = 255  # top half opaque, bottom half transparent
    path = tmp_path / "alpha.png"
    Image.fromarray(rgba, "RGBA").save(path)
    bgr = load_photo(path)
    assert bgr.shape == (4, 4, 3)
    np.testing.assert_array_equal(bgr[0, 0], [0, 0, 200])
    np.testing.assert_array_equal(bgr[3, 3], [255, 255, 255])


def test_16_bit_grey_png_is_scaled_not_clipped(tmp_path: Path):
    grey = np.array([[0, 32896], [65535, 65535]], dtype=np.uint16)
    path = tmp_path / "grey16.png"
    Image.fromarray(grey).save(path)
    bgr = load_photo(path)
    assert bgr.dtype == np.uint8
    assert list(bgr[:, :, 0].ravel()) == [0, 128, 255, 255]


def _jpeg_with_orientation(pixels_rgb: np.ndarray, orientation: int) -> bytes:
    img = Image.fromarray(pixels_rgb)
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation tag
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=95, exif=exif.tobytes())
    return buffer.getvalue()


def test_exif_orientation_is_applied():
    # Stored 40 wide x 20 high: left half red, right half blue. Orientation 6 means "rotate
    # 90 degrees clockwise to display": the stored left edge becomes the displayed top.
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:, :20] = (255, 0, 0)
    stored[:, 20:] = (0, 0, 255)
    bgr = decode_photo(_jpeg_with_orientation(stored, 6))
    assert bgr.shape == (40, 20, 3)
    assert bgr[5, 10, 2] > 200 and bgr[5, 10, 0] < 60  # top is red (BGR: R last)
    assert bgr[35, 10, 0] > 200 and bgr[35, 10, 2] < 60  # bottom is blue


def test_sideways_phone_photo_is_upright_for_the_detector(shared_data: Path,
                                                          detector: HogFaceDetector,
                                                          tmp_path: Path):
    upright = np.asarray(Image.open(shared_data / OBAMA).convert("RGB"))
    # A phone held sideways stores the picture rotated and records orientation 6.
    stored = np.ascontiguousarray(np.rot90(upright, k=1))  # 90 degrees counter-clockwise
    path = tmp_path / "sideways.jpg"
    path.write_bytes(_jpeg_with_orientation(stored, 6))
    raw = cv2.imread(str(path), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    assert detector.detect(raw) == []  # the frontal detector cannot see a sideways face
    loaded = load_photo(path)
    assert loaded.shape[:2] == upright.shape[:2]
    assert len(detector.detect(loaded)) == 1


def test_oversized_photo_is_refused_from_its_header(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch):
    # 9000x6000 = 54 megapixels in a file of a few hundred bytes: refused before decoding.
    loads: list[int] = []
    monkeypatch.setattr(Image.Image, "load", lambda self: loads.append(1))
    path = tmp_path / "scan.jpg"
    path.write_bytes(oversized_jpeg(9000, 6000))
    with pytest.raises(InvalidImage, match=r"scan\.jpg is 9000x6000 pixels \(54 megapixels\); "
                                           "the limit is 50 megapixels"):
        load_photo(path, what="member photo")
    # Pillow warns above 89.5 megapixels and refuses outright above 179, before the size is
    # known: each quotes the bound that was passed (the camera's sources say the same).
    path.write_bytes(oversized_jpeg(10000, 10000))
    with pytest.raises(InvalidImage, match="more than 89 megapixels; the limit is 50"):
        load_photo(path)
    path.write_bytes(oversized_jpeg(20000, 20000))
    with pytest.raises(InvalidImage, match="more than 178 megapixels; the limit is 50"):
        load_photo(path)
    assert loads == []
    assert PHOTO_MAX_PIXELS == 50_000_000
    small = tmp_path / "small.png"
    Image.new("RGB", (40, 30), (1, 2, 3)).save(small)
    monkeypatch.undo()
    assert load_photo(small, max_pixels=1200).shape == (30, 40, 3)
    with pytest.raises(InvalidImage, match="40x30 pixels"):
        load_photo(small, max_pixels=1199)
