"""Video files (MP4, AVI, animated GIF, ...) decoded by OpenCV's FFmpeg backend."""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

import cv2

from kiosk.camera.source import (
    MAX_IMAGE_PIXELS,
    BaseSource,
    CaptureFactory,
    Clock,
    Sleep,
    as_bgr,
    megapixels,
)
from kiosk.errors import InputError
from kiosk.model import Frame

log = logging.getLogger(__name__)

# Rates outside this range are container nonsense (0, NaN, 90000): fall back to the default.
_SANE_FPS = (0.5, 1000.0)
#: Frames in a row that may fail to decode, where the container says more follow, before the
#: rest of the file is taken as lost: a damaged patch of a recording costs its own frames,
#: not the rest (a few corrupt packets cut d9 at frame 282 of 587; OpenCV decodes the 304
#: after them). A file cut short fails this many reads at its end, which cost nothing.
MAX_BAD_RUN = 30


def parse_frame_range(text: str) -> tuple[int, int | None]:
    """Parse a frame range such as ``"62-87"``, ``"62-"`` or ``"5"`` (inclusive, 0-based).

    Returns
    -------
    (start, end) : tuple
        ``end`` is None for an open range.

    Raises
    ------
    InputError
        The text is not a range or ``end < start``.
    """
    raw = text.strip()
    first, sep, second = raw.partition("-")
    try:
        start = int(first)
        end = (int(second) if second.strip() else None) if sep else start
    except ValueError:
        raise InputError(f"frame range {text!r} is not valid; expected START-END, e.g. 62-87 "
                         "(inclusive, 0-based)") from None
    check_frame_range(start, end)
    return start, end


def check_frame_range(start: int, end: int | None) -> None:
    """Raise :class:`InputError` unless ``0 <= start`` and ``end`` is None or ``>= start``."""
    if start < 0 or (end is not None and end < start):
        raise InputError(f"frame range {start}-{'' if end is None else end} is not valid: "
                         "frames are numbered from 0 and the end must not precede the start")


def check_file(path: Path, what: str) -> None:
    """Raise :class:`InputError` when ``path`` is missing, a folder or empty."""
    if not path.exists():
        raise InputError(f"{what} {path} does not exist")
    if path.is_dir():
        raise InputError(f"{what} {path} is a folder, not a file")
    if path.stat().st_size == 0:
        raise InputError(f"{what} {path} is empty (0 bytes)")


def decodable_name(path: str | Path) -> str:
    """``path`` as the text OpenCV takes.

    Raises
    ------
    InputError
        The file name is not valid UTF-8 (a name copied from older media or a share in
        Latin-1): OpenCV's VideoCapture crashes the whole process on such a name.
    """
    name = str(path)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        shown = name.encode("utf-8", "backslashreplace").decode("ascii", "replace")
        raise InputError(f"the name of {shown} is not valid UTF-8 (copied from older media "
                         "or a share that uses another encoding?): rename the file") from None
    return name


def _default_factory(source: Any, api_preference: int) -> Any:
    return cv2.VideoCapture(source, api_preference)


class VideoFileSource(BaseSource):
    """Frames of a video file, in decode order.

    Parameters
    ----------
    path : path-like
        The video file (anything FFmpeg reads: MP4, AVI, MOV, MKV, animated GIF, ...).
    paced : bool
        False (default): decode as fast as the caller reads, ``t = media_t``. True: sleep so
        frames come out at the file's own timing (demos, the GUI), ``t`` = delivery time.
    start, end : int
        Inclusive frame range in 0-based decode order; ``end=None`` reads to the end. The
        frames before ``start`` are decoded and discarded (exact, unlike container seeking).
    default_fps : float
        Nominal rate used when the container states none.
    capture_factory, clock, sleep :
        Injectable for tests.

    Notes
    -----
    ``media_t`` is the frame's presentation time in the file (so it honours variable frame
    rates and GIF delays) and stays the file's time inside a frame range. ``seq`` counts the
    delivered frames from 0; :attr:`last_index` gives the decode index of the latest one.
    A file that ends well before the frame count its container states is logged and noted
    in ``health.last_error`` (see :attr:`truncated`). A frame of another size than the first
    delivered one (a stream that changes resolution) raises :class:`InputError`.
    """

    def __init__(self, path: str | Path, *, paced: bool = False, start: int = 0,
                 end: int | None = None, default_fps: float = 30.0,
                 capture_factory: CaptureFactory | None = None,
                 clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        check_frame_range(start, end)
        self._path = Path(path)
        super().__init__(str(self._path), nominal_fps=default_fps, paced=paced, clock=clock,
                         sleep=sleep)
        self._start = start
        self._end = end
        self._default_fps = default_fps
        self._factory = capture_factory or _default_factory
        self._capture: Any = None
        self._index = -1          # decode index of the last decoded frame
        self._last_index = -1     # decode index of the last delivered frame
        self._frame_count: int | None = None
        self._last_media_t = -math.inf
        self._ended = False
        self._truncated = False
        self._bad_run = 0         # reads in a row that failed where more frames were announced

    @property
    def path(self) -> Path:
        return self._path

    @property
    def frame_count(self) -> int | None:
        """Frames the container claims (may be an estimate), None when unknown."""
        return self._frame_count

    @property
    def last_index(self) -> int:
        """Decode index in the file of the latest delivered frame, -1 before the first."""
        return self._last_index

    @property
    def frames_decoded(self) -> int:
        """Frames decoded so far from the start of the file (those before ``start`` too)."""
        return self._index + 1

    @property
    def truncated(self) -> bool:
        """True when the file ended well before its stated frame count (compare
        :attr:`frames_decoded` with :attr:`frame_count`)."""
        return self._truncated

    def _open(self) -> None:
        check_file(self._path, "video file")
        api = cv2.CAP_FFMPEG if cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG) else cv2.CAP_ANY
        capture = self._factory(decodable_name(self._path), api)
        if not capture.isOpened():
            capture.release()
            raise InputError(f"video file {self._path} cannot be decoded: not a video OpenCV "
                             "can read (corrupt, truncated or unsupported format)")
        # The container states the frame size: refuse an absurd one before any frame is
        # decoded (each frame would be decoded whole, then kept in the analysis' buffers).
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
        if width * height > MAX_IMAGE_PIXELS:
            capture.release()
            size, limit = megapixels(width * height, MAX_IMAGE_PIXELS)
            raise InputError(f"video file {self._path} has {width}x{height} frames "
                             f"({size} megapixels); the limit is {limit} megapixels")
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        if not (_SANE_FPS[0] <= fps <= _SANE_FPS[1]):
            log.warning("%s states no usable frame rate (%r); assuming %g fps",
                        self._path, fps, self._default_fps)
            fps = self._default_fps
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        self._frame_count = int(count) if count and count > 0 else None
        self._fps = fps
        self._monitor.set_nominal_fps(fps)
        self._capture = capture
        self._index = -1
        self._last_index = -1
        self._last_media_t = -math.inf
        self._ended = False
        self._truncated = False
        self._bad_run = 0
        self._skip_to_start()

    def _skip_to_start(self) -> None:
        while self._index + 1 < self._start:
            if not self._capture.grab():
                decoded = self._index + 1
                self._close()
                if decoded == 0:
                    raise InputError(f"video file {self._path} has no decodable frames")
                raise InputError(f"frame range starts at frame {self._start} but video file "
                                 f"{self._path} has only {decoded} frames")
            self._index += 1

    def _read(self) -> Frame | None:
        if self._ended:
            return None
        while True:
            if self._end is not None and self._index + 1 > self._end:
                self._finish(reached_end=True)
                return None
            ok, raw = self._capture.read()
            if not ok:
                # Only after a good frame: a file damaged from its first frame is refused
                # whole, not decoded into whatever the decoder conceals further on.
                if self._last_index >= 0 and self._bad_run < MAX_BAD_RUN \
                        and self._more_expected():
                    self._bad_run += 1
                    self._index += 1  # the damaged frame's place is used up
                    self._monitor.note_corrupt(error=f"frame {self._index} of {self._path} "
                                                     "cannot be decoded")
                    continue
                self._finish(reached_end=False)
                return None
            self._bad_run = 0
            self._index += 1
            image = as_bgr(raw)
            if image is None:
                self._monitor.note_corrupt(error=f"frame {self._index} of {self._path} has an "
                                                 "unusable format")
                continue
            # OpenCV follows a mid-stream resolution change; the analysis cannot.
            self._keep_size(image, f"frame {self._index} of video file {self._path}",
                            f"frame {self._index}")
            self._last_index = self._index
            return self._emit(image, self._media_time())

    def _more_expected(self) -> bool:
        """The container announces frames after the last one tried."""
        return self._frame_count is not None and self._index + 2 < self._frame_count

    def _media_time(self) -> float:
        """Presentation time of the frame just decoded, falling back to index / fps."""
        pos_ms = self._capture.get(cv2.CAP_PROP_POS_MSEC)
        media_t = self._index / self._fps
        if pos_ms is not None and math.isfinite(pos_ms) and pos_ms >= 0:
            candidate = pos_ms / 1000.0
            # Some containers report 0 for every frame: keep time strictly increasing.
            if candidate > self._last_media_t or self._index == 0:
                media_t = candidate
        if media_t <= self._last_media_t:
            media_t = self._last_media_t + 1.0 / self._fps
        self._last_media_t = media_t
        return media_t

    def _finish(self, reached_end: bool) -> None:
        self._ended = True
        # The failed reads at the end decoded nothing: a file cut short is still seen as one.
        self._index -= self._bad_run
        decoded = self._index + 1
        if self._seq == 0:
            if decoded == 0:
                raise InputError(f"video file {self._path} has no decodable frames")
            if decoded <= self._start:
                raise InputError(f"frame range starts at frame {self._start} but video file "
                                 f"{self._path} has only {decoded} frames")
            raise InputError(f"video file {self._path} has no usable frame in the requested "
                             f"range ({self._monitor.snapshot().corrupt} unusable)")
        if reached_end:
            return
        expected = self._frame_count
        if expected is not None and decoded < expected - max(2, expected // 100):
            self._truncated = True
            message = (f"video file {self._path} ended after {decoded} of {expected} frames "
                       "(truncated or corrupt)")
            log.warning("%s", message)
            self._monitor.note_error(message)
        if self._end is not None and decoded <= self._end:
            log.warning("frame range ends at %d but %s ended after frame %d",
                        self._end, self._path, decoded - 1)

    def _close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
