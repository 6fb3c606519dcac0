"""Still images as a frame source: a folder of images, or one image file."""

from __future__ import annotations

import io
import logging
import re
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from kiosk.camera.source import (
    MAX_IMAGE_PIXELS,
    BaseSource,
    Clock,
    Sleep,
    as_bgr,
    megapixels,
)
from kiosk.camera.video import check_file, check_frame_range
from kiosk.errors import InputError
from kiosk.model import Frame

log = logging.getLogger(__name__)

# Still formats OpenCV decodes to 8-bit BGR. GIF is deliberately absent: an animated GIF is a
# video (VideoFileSource); HDR/EXR decode to floats.
IMAGE_EXTENSIONS = frozenset({
    ".bmp", ".dib", ".jpg", ".jpeg", ".jpe", ".jp2", ".png", ".webp", ".avif",
    ".pbm", ".pgm", ".ppm", ".pnm", ".tif", ".tiff", ".sr", ".ras",
})

DEFAULT_IMAGE_FPS = 15.0

_ORIENTATION = 0x0112  # the EXIF orientation tag


def is_image_path(path: str | Path) -> bool:
    """True when the file name has a still-image extension (case-insensitive)."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def natural_key(name: str) -> list[object]:
    """Sort key that orders ``frame2`` before ``frame10``."""
    return [int(part) if part.isdigit() else part.lower()
            for part in re.split(r"(\d+)", name)]


def pillow_ceiling() -> int:
    """Pixel count above which Pillow refuses to open an image, even to read its size.

    Pillow warns above ``Image.MAX_IMAGE_PIXELS`` (89,478,485) and raises
    ``DecompressionBombError`` above twice that (178,956,970); 0 when its check is off.
    """
    return 2 * (Image.MAX_IMAGE_PIXELS or 0)


class Header(NamedTuple):
    """What an image's header declares: its stored size and its EXIF orientation."""

    width: int
    height: int
    orientation: int = 1
    """EXIF orientation, 1 (as stored) when the header carries none; 5-8 turn it a quarter."""

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) as stored."""
        return self.width, self.height

    @property
    def upright(self) -> tuple[int, int]:
        """(width, height) once the EXIF orientation is applied, as OpenCV decodes it."""
        return (self.height, self.width) if self.orientation in (5, 6, 7, 8) else self.size


def read_header(source: bytes | Path, what: str, limit: int = MAX_IMAGE_PIXELS
                ) -> Header | None:
    """What an image's header declares, read without decoding its pixels.

    Pillow's ``Image.open`` parses only the header; it recognises every extension of
    :data:`IMAGE_EXTENSIONS`.

    Parameters
    ----------
    source : bytes or Path
        The file's bytes, or its path (only the header is read).
    what : str
        How a message names the image.
    limit : int
        The limit a refusal quotes.

    Returns
    -------
    Header or None
        None when the header is not an image header (a damaged file: decoding would fail).

    Raises
    ------
    InputError
        Pillow refuses the header: it declares more than :func:`pillow_ceiling` pixels.
    """
    try:
        with warnings.catch_warnings():
            # Pillow warns above MAX_IMAGE_PIXELS: the size is still read, checked by the caller.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as img:
                width, height = img.size
                exif = img.info.get("exif")
    except Image.DecompressionBombError:
        # Pillow's refusal comes before the size is returned: all that is known is that the
        # image is above its ceiling (rounded down, so the claim holds for every such image).
        raise InputError(f"{what} has more than {pillow_ceiling() // 1_000_000} megapixels; "
                         f"the limit is {limit / 1e6:g} megapixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    return Header(width, height, _orientation(exif))


def _orientation(exif: object) -> int:
    """The orientation tag of an EXIF block the header carried; 1 without one.

    Only the block already read with the header is parsed: ``getexif()`` of a PNG without
    one would decode the whole picture.
    """
    if not isinstance(exif, bytes):
        return 1
    tags = Image.Exif()
    try:
        tags.load(exif)
        value = int(tags.get(_ORIENTATION, 1))
    except Exception:  # a malformed block: as stored, and the decoded size is checked anyway
        return 1
    return value if 1 <= value <= 8 else 1


def check_pixels(size: tuple[int, int], what: str, limit: int = MAX_IMAGE_PIXELS) -> None:
    """Raise :class:`InputError` when ``size`` (width, height) has more than ``limit`` pixels."""
    width, height = size
    if width * height > limit:
        shown, cap = megapixels(width * height, limit)
        raise InputError(f"{what} is {width}x{height} pixels ({shown} megapixels); the limit "
                         f"is {cap} megapixels")


def check_header(data: bytes, what: str, limit: int = MAX_IMAGE_PIXELS) -> bool:
    """Read an image's size from its header, without decoding its pixels, and check it.

    Parameters
    ----------
    data : bytes
        The file's bytes.
    what : str
        How the message names the image.
    limit : int
        Largest pixel count accepted.

    Returns
    -------
    bool
        False when the header is not an image header (a damaged file: decoding would fail).

    Raises
    ------
    InputError
        The header declares more than ``limit`` pixels.
    """
    header = read_header(data, what, limit)
    if header is None:
        return False
    check_pixels(header.size, what, limit)
    return True


def read_image(path: Path, *, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray | None:
    """Decode one image file to (H, W, 3) uint8 BGR; None when it cannot be decoded.

    Reads the bytes with numpy so non-ASCII paths work on every platform; EXIF orientation
    is applied (phone photos come out upright). The pixel count is read from the header
    first, so an oversized picture is refused before anything is allocated for its pixels.

    Raises
    ------
    InputError
        The header declares more than ``max_pixels`` pixels.
    """
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0:
        return None
    if not check_header(data.tobytes(), f"image {path}", max_pixels):
        return None
    return as_bgr(cv2.imdecode(data, cv2.IMREAD_COLOR))


class ImageSequenceSource(BaseSource):
    """A fixed list of image files delivered as frames at a nominal rate.

    Parameters
    ----------
    paths : sequence of path-like
        The images, in delivery order.
    fps : float
        Nominal rate: frame ``i`` of the list has ``media_t = i / fps``.
    paced : bool
        Sleep so the images come out in real time at ``fps``.
    start, end : int
        Inclusive range of list positions (0-based); ``end=None`` reads to the end.
    description : str, optional
        What the source reads, for messages (the folder); the single path by default.
    clock, sleep :
        Injectable for tests.

    Notes
    -----
    An image that cannot be decoded is skipped, counted in ``health.corrupt`` and logged;
    ``read()`` raises :class:`InputError` at the end only when no image at all decoded.
    ``seq`` counts delivered frames, so a skipped image leaves no gap in it. Every image must
    have the size of the first one delivered: ``read()`` raises :class:`InputError` naming
    the file and both sizes at the first that does not.
    """

    def __init__(self, paths: Sequence[str | Path], *, fps: float = DEFAULT_IMAGE_FPS,
                 paced: bool = False, start: int = 0, end: int | None = None,
                 description: str | None = None, clock: Clock = time.monotonic,
                 sleep: Sleep = time.sleep) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps!r}")
        check_frame_range(start, end)
        self._paths = [Path(p) for p in paths]
        if description is None:
            description = str(self._paths[0]) if len(self._paths) == 1 else "image sequence"
        super().__init__(description, nominal_fps=fps, paced=paced, clock=clock, sleep=sleep)
        self._start = start
        self._end = end
        self._position = start
        self._last_index = -1

    @property
    def paths(self) -> list[Path]:
        """The image files, in delivery order."""
        return list(self._paths)

    @property
    def last_index(self) -> int:
        """List position of the latest delivered image, -1 before the first."""
        return self._last_index

    def _open(self) -> None:
        if not self._paths:
            raise InputError(f"{self._description} has no images")
        if len(self._paths) == 1:
            check_file(self._paths[0], "image file")
        if self._start >= len(self._paths):
            raise InputError(f"frame range starts at {self._start} but {self._description} "
                             f"has only {len(self._paths)} images")
        self._check_headers()
        self._position = self._start
        self._last_index = -1

    def _check_headers(self) -> None:
        """Refuse, before the first frame, a folder whose headers show it cannot be read whole.

        A picture above the pixel limit, or one whose size differs from the first picture's
        (either way round: EXIF rotation may swap width and height), would stop the source
        mid-run; found here, a command refuses the folder before it records anything (an
        attempt of ``kiosk verify``). Only headers are read: sizes that differ once turned
        upright are refused when they differ as stored too, or when an orientation tag the
        header reading saw turns one of them (a picture stored as the others but tagged to
        turn a quarter decodes to another size); a change hidden by an EXIF tag the header
        reading does not see is still caught when the pictures are decoded (:meth:`_read`).

        Raises
        ------
        InputError
            Naming the file, its size and the first picture's size (or the limit).
        """
        if len(self._paths) == 1:
            return  # read() checks the one image as it decodes it
        first: tuple[Path, Header] | None = None
        for path in self._paths[self._start:self._stop() + 1]:
            header = read_header(path, f"image {path}")
            if header is None:
                continue  # not an image: skipped (and counted) when read
            check_pixels(header.size, f"image {path}")
            if first is None:
                first = (path, header)
            elif header.upright != first[1].upright and (
                    header.size != first[1].size or header.orientation != first[1].orientation):
                (width, height), (first_width, first_height) = header.upright, first[1].upright
                raise InputError(
                    f"image {path} is {width}x{height} pixels but the first image "
                    f"({first[0].name}) is {first_width}x{first_height}; every frame of "
                    f"{self._description} must have the same size")

    def _stop(self) -> int:
        last = len(self._paths) - 1
        return last if self._end is None else min(self._end, last)

    def _read(self) -> Frame | None:
        while self._position <= self._stop():
            index = self._position
            self._position += 1
            path = self._paths[index]
            image = read_image(path)
            if image is None:
                log.warning("skipping %s: not a decodable image", path)
                self._monitor.note_corrupt(error=f"image {path} cannot be decoded")
                continue
            # A size change would reach the analysis mid-run (the flow cues crop every frame
            # at the first frame's face box): refuse the folder instead.
            self._keep_size(image, f"image {path}", f"the first image ({path.name})")
            self._last_index = index
            return self._emit(image, index / self._fps)
        if self._seq == 0:
            count = self._stop() - self._start + 1
            if len(self._paths) == 1:
                raise InputError(f"image file {self._paths[0]} cannot be decoded (corrupt or "
                                 "unsupported format)")
            raise InputError(f"none of the {count} images of {self._description} could be "
                             "decoded (corrupt or unsupported files)")
        return None

    def _close(self) -> None:
        """Nothing to release: images are read one at a time."""


def list_images(folder: Path) -> tuple[list[Path], list[Path]]:
    """The image files of a folder (natural order) and the other files that were skipped.

    Hidden files and sub-folders are ignored.

    Raises
    ------
    InputError
        The folder does not exist, is not a folder or cannot be listed.
    """
    if not folder.exists():
        raise InputError(f"image folder {folder} does not exist")
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder")
    try:
        entries = [p for p in folder.iterdir()
                   if not p.name.startswith(".") and p.is_file()]
    except OSError as exc:
        raise InputError(f"image folder {folder} cannot be listed ({exc.strerror})") from None
    entries.sort(key=lambda p: natural_key(p.name))
    images = [p for p in entries if is_image_path(p)]
    others = [p for p in entries if not is_image_path(p)]
    return images, others


class ImageFolderSource(ImageSequenceSource):
    """The image files of one folder in natural name order (``2.jpg`` before ``10.jpg``).

    Parameters
    ----------
    folder : path-like
    fps, paced, start, end, clock, sleep :
        As for :class:`ImageSequenceSource`.

    Raises
    ------
    InputError
        From the constructor: the folder is missing or holds no image file. Files without an
        image extension are skipped with a warning (see :attr:`skipped`).
    """

    def __init__(self, folder: str | Path, *, fps: float = DEFAULT_IMAGE_FPS,
                 paced: bool = False, start: int = 0, end: int | None = None,
                 clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self._folder = Path(folder)
        images, others = list_images(self._folder)
        if not images:
            detail = f" (only {len(others)} non-image files)" if others else ""
            raise InputError(f"image folder {self._folder} holds no image files{detail}; "
                             "expected " + ", ".join(sorted(IMAGE_EXTENSIONS)))
        if others:
            shown = ", ".join(p.name for p in others[:3]) + (", ..." if len(others) > 3 else "")
            log.warning("%s: skipping %d non-image files (%s)", self._folder, len(others),
                        shown)
        self._skipped = tuple(others)
        super().__init__(images, fps=fps, paced=paced, start=start, end=end,
                         description=str(self._folder), clock=clock, sleep=sleep)

    @property
    def folder(self) -> Path:
        return self._folder

    @property
    def skipped(self) -> tuple[Path, ...]:
        """Files of the folder that were not images."""
        return self._skipped


class ImageFileSource(ImageSequenceSource):
    """One still image as a one-frame source (``seq 0``, ``media_t 0.0``).

    Raises
    ------
    InputError
        From ``open()``: the file is missing or empty; from ``read()``: it cannot be decoded.
    """

    def __init__(self, path: str | Path, *, fps: float = DEFAULT_IMAGE_FPS,
                 clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        super().__init__([path], fps=fps, clock=clock, sleep=sleep)
