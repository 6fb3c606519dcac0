"""Image files in, JPEG bytes out: ID-photo loading and Rekognition's 5 MB limit.

Rekognition accepts at most 5 MB of image bytes per call; botocore and Stubber do not check it,
so :func:`encode_jpeg` does. ID photos come from files (JPEG or PNG, up to 15 MB); their EXIF
orientation is applied so that a phone photo taken sideways is upright before any detector
sees it.
"""

from __future__ import annotations

import io
import logging
import math
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from kiosk.cloud.errors import ImageRejected, InvalidImage

log = logging.getLogger(__name__)

#: Rekognition's limit for images passed as bytes (API reference, Image.Bytes).
REKOGNITION_MAX_BYTES = 5 * 1024 * 1024
#: Largest ID-photo file accepted (the issue's limit; Rekognition's S3 limit is also 15 MB).
PHOTO_MAX_BYTES = 15 * 1024 * 1024
#: Largest photo decoded, in pixels, checked from the header before any pixel is decoded: above
#: any phone's default output (12-50 MP) and an A4 page scanned at 600 dpi (35 MP). The same
#: limit as ``kiosk.camera.source.MAX_IMAGE_PIXELS`` for frame sources.
PHOTO_MAX_PIXELS = 50_000_000
#: Pillow format names accepted as "JPEG or PNG" (MPO is the multi-picture JPEG of phones).
PHOTO_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG"}


def check_image(image: np.ndarray, name: str = "image") -> None:
    """Raise ValueError naming ``name`` unless it is an (H, W, 3) uint8 array."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 \
            or image.shape[2] != 3 or image.shape[0] < 1 or image.shape[1] < 1:
        shape = getattr(image, "shape", None)
        dtype = getattr(image, "dtype", type(image).__name__)
        raise ValueError(f"{name} must be an (H, W, 3) uint8 BGR array, got shape {shape} "
                         f"dtype {dtype}")


def _imencode(image: np.ndarray, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - OpenCV only fails on invalid input, checked above
        raise ImageRejected("the image could not be encoded as JPEG")
    return buf.tobytes()


def encode_jpeg(image: np.ndarray, max_bytes: int = REKOGNITION_MAX_BYTES, *,
                quality: int = 92, min_quality: int = 75, min_side: int = 80) -> bytes:
    """Encode a frame as JPEG no larger than ``max_bytes``.

    Quality is lowered first (to ``min_quality``), keeping the resolution that small faces need;
    after that the image is downscaled, by a factor predicted from the byte count (JPEG size
    grows roughly with the pixel count), until it fits.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8
        BGR pixels; not modified.
    max_bytes : int
        Size limit, Rekognition's 5 MB by default.

    Returns
    -------
    bytes
        A baseline JPEG of at most ``max_bytes`` bytes.

    Raises
    ------
    ValueError
        ``image`` is not an (H, W, 3) uint8 array.
    ImageRejected
        The image cannot fit without a side shrinking below ``min_side`` pixels (Rekognition's
        minimum is 80).
    """
    check_image(image)
    data = _imencode(image, quality)
    if len(data) <= max_bytes:
        return data
    mid_quality = (quality + min_quality) // 2
    for q in (mid_quality, min_quality):
        data = _imencode(image, q)
        if len(data) <= max_bytes:
            log.info("JPEG fitted under %d bytes at quality %d", max_bytes, q)
            return data
    current = image
    while len(data) > max_bytes:
        factor = min(0.9, 0.95 * math.sqrt(max_bytes / len(data)))
        height, width = current.shape[:2]
        new_size = (max(1, round(width * factor)), max(1, round(height * factor)))
        if min(new_size) < min_side:
            raise ImageRejected(f"the image cannot be made smaller than {max_bytes} bytes "
                                f"without falling below {min_side} pixels")
        current = cv2.resize(current, new_size, interpolation=cv2.INTER_AREA)
        data = _imencode(current, min_quality)
    log.info("JPEG fitted under %d bytes by downscaling %dx%d to %dx%d", max_bytes,
             image.shape[1], image.shape[0], current.shape[1], current.shape[0])
    return data


def load_photo(path: str | Path, *, what: str = "ID photo",
               max_bytes: int = PHOTO_MAX_BYTES,
               max_pixels: int = PHOTO_MAX_PIXELS) -> np.ndarray:
    """Load a JPEG or PNG photo upright, as BGR pixels.

    Parameters
    ----------
    path : path-like
        The file.
    what : str
        How the message names the file ("ID photo", "member photo").
    max_bytes : int
        Largest file accepted (15 MB).
    max_pixels : int
        Largest pixel count accepted, read from the header before decoding (50 MP).

    Returns
    -------
    ndarray (H, W, 3) uint8
        BGR pixels with the EXIF orientation applied; transparency is flattened onto white.

    Raises
    ------
    InvalidImage
        Missing, unreadable, empty, too large, not a JPEG or PNG, damaged, or too many pixels.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InvalidImage(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise InvalidImage(f"{what} {path} cannot be read ({exc.strerror})") from None
    if path.is_dir():
        raise InvalidImage(f"{what} {path} is a folder, not an image file")
    if size == 0:
        raise InvalidImage(f"{what} {path} is empty (0 bytes)")
    if size > max_bytes:
        raise InvalidImage(f"{what} {path} is too large ({size / 2**20:.1f} MB); the limit "
                           f"is {max_bytes / 2**20:.0f} MB")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidImage(f"{what} {path} cannot be read ({exc.strerror})") from None
    return decode_photo(data, what=f"{what} {path}", max_pixels=max_pixels)


def decode_photo(data: bytes, *, what: str = "photo",
                 max_pixels: int = PHOTO_MAX_PIXELS) -> np.ndarray:
    """Decode JPEG or PNG bytes upright, as BGR pixels (see :func:`load_photo`).

    The pixel count comes from the header (Pillow's ``open`` reads nothing else) and is
    checked before the pixels are decoded.
    """
    if not data:
        raise InvalidImage(f"{what} is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            # Pillow warns (rather than fails) between 89 and 179 megapixels; fail instead.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                kind = PHOTO_FORMATS.get(img.format or "")
                if kind is None:
                    raise InvalidImage(f"{what} is a {img.format or 'unknown'} image; use a "
                                       "JPEG or PNG file")
                width, height = img.size
                if width * height > max_pixels:
                    raise InvalidImage(f"{what} is {width}x{height} pixels "
                                       f"({width * height / 1e6:.0f} megapixels); the limit "
                                       f"is {max_pixels / 1e6:.0f} megapixels")
                img.load()
                upright = ImageOps.exif_transpose(img)
                rgb = _flatten_to_rgb(upright)
    except InvalidImage:
        raise
    except UnidentifiedImageError:
        brand = _heif_brand(data)
        if brand is not None:  # a phone's photo: Pillow cannot read it without a plug-in
            raise InvalidImage(f"{what} is a {brand} image; use a JPEG or PNG file (export "
                               "the photo as JPEG)") from None
        raise InvalidImage(f"{what} is not an image (expected a JPEG or PNG file)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow warns above MAX_IMAGE_PIXELS and refuses outright above twice that, before
        # the size is known: quote the bound that was passed, rounded down.
        ceiling = (Image.MAX_IMAGE_PIXELS or 0) * (
            2 if isinstance(exc, Image.DecompressionBombError) else 1)
        raise InvalidImage(f"{what} has more than {ceiling // 1_000_000} megapixels; the "
                           f"limit is {max_pixels / 1e6:.0f} megapixels") from None
    except (OSError, SyntaxError, ValueError) as exc:
        # Pillow reports truncated or corrupt data as OSError/SyntaxError/ValueError.
        raise InvalidImage(f"{what} is damaged and cannot be decoded ({exc})") from None
    array = np.asarray(rgb, dtype=np.uint8)
    return np.ascontiguousarray(array[:, :, ::-1])


#: ISO base media brands of HEIF stills (``ftyp`` box): iPhones and many Android phones.
_HEIF_BRANDS = {b"heic": "HEIC", b"heix": "HEIC", b"hevc": "HEIC", b"heim": "HEIC",
                b"heis": "HEIC", b"mif1": "HEIF", b"msf1": "HEIF", b"avif": "AVIF"}


def _heif_brand(data: bytes) -> str | None:
    """``HEIC``, ``HEIF`` or ``AVIF`` when ``data`` starts with such a file's ``ftyp`` box."""
    if len(data) < 12 or data[4:8] != b"ftyp":
        return None
    return _HEIF_BRANDS.get(data[8:12])


def _flatten_to_rgb(img: Image.Image) -> Image.Image:
    """RGB copy of any Pillow mode; transparent pixels become white, not black."""
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if img.mode.startswith("I"):
        # 16-bit greyscale PNG: scale 0-65535 to 0-255 (a plain conversion would clip).
        array = np.asarray(img, dtype=np.float64)
        if array.max() > 255:
            array = array / 257.0
        return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8)).convert("RGB")
    return img.convert("RGB")
