"""The :class:`FrameSource` protocol and the machinery its implementations share.

A source is opened, read frame by frame and closed::

    with open_source("clip.mp4") as source:
        for frame in source:
            ...

``read()`` returns None at the end of a finite source (file, folder); a live device never
ends, it raises :class:`~kiosk.errors.CameraError` when it fails. Every frame carries a
sequence number (0, 1, 2, ... per delivered frame), a monotonic timestamp ``t`` and the media
time ``media_t`` (see :class:`kiosk.model.Frame`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np

from kiosk.camera.health import RECORDING_CONTROLS, CameraHealth, ControlStatus, HealthMonitor
from kiosk.errors import CameraError, InputError
from kiosk.model import Frame

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], None]
CaptureFactory = Callable[[Any, int], Any]
"""``factory(source, api_preference) -> capture`` (``cv2.VideoCapture`` by default): an object
with ``isOpened()``, ``read()``, ``grab()``, ``get(prop)``, ``set(prop, value)``, ``release()``."""



@dataclass(frozen=True)
class SourceInfo:
    """What the kiosk reads its frames from, as staff see it.

    Attributes
    ----------
    description : str
        The device or the path of the recording.
    is_live : bool
        True for a camera, False for a recording (video file, image folder).
    switchable : bool
        True when a change of ``camera.device`` switches the feed; False when the source was
        fixed at start-up (``main.py --source``).
    """

    description: str
    is_live: bool
    switchable: bool


#: Largest image decoded as a frame (image files and video frames), in pixels. 50 megapixels
#: is above any phone's default output (12-50 MP) and an A4 page scanned at 600 dpi (35 MP);
#: decoded it is 150 MB of BGR. A 20000x20000 JPEG of 6 MB would need 1.2 GB (more with
#: OpenCV's working copies). ``kiosk.cloud.images.PHOTO_MAX_PIXELS`` is the same limit for
#: ID and member photos.
MAX_IMAGE_PIXELS = 50_000_000


def megapixels(pixels: int, limit: int) -> tuple[str, str]:
    """``pixels`` and ``limit`` in megapixels, for a refusal that quotes both.

    Whole numbers, unless rounding would print a count above the limit as the limit itself
    ("50 megapixels; the limit is 50"): then as few decimals as tell them apart.

    Returns
    -------
    (pixels, limit) : tuple of str
    """
    for decimals in range(7):
        shown = f"{pixels / 1e6:.{decimals}f}", f"{limit / 1e6:.{decimals}f}"
        if shown[0] != shown[1] or pixels == limit:
            return shown
    return f"{pixels / 1e6:.6f}", f"{limit / 1e6:.6f}"  # whole pixels differ at 6 decimals


# A paced source that falls further behind than this re-anchors its schedule instead of
# delivering a burst of overdue frames at full speed.
MAX_PACING_LAG_S = 0.25


@runtime_checkable
class FrameSource(Protocol):
    """Anything that delivers :class:`~kiosk.model.Frame` objects.

    ``open()`` is idempotent; ``close()`` may be called any number of times; ``open()`` after
    ``close()`` starts a new run (``seq`` from 0, fresh health). Used as a context manager the
    source is opened on entry and closed on exit; iterating opens it and stops at the end of
    a finite source.
    """

    @property
    def fps(self) -> float:
        """Nominal frames per second (requested, or the file's own rate)."""
        ...

    @property
    def health(self) -> CameraHealth:
        """A snapshot of the source's health."""
        ...

    @property
    def is_live(self) -> bool:
        """True for a camera (never ends, may disconnect), False for files and folders."""
        ...

    @property
    def description(self) -> str:
        """What the source reads, for messages and logs (a path or a device)."""
        ...

    def open(self) -> None: ...

    def read(self) -> Frame | None: ...

    def close(self) -> None: ...

    def lock_light_controls(self, locked: bool) -> None:
        """Ask for automatic exposure and white balance off (True) or on (False); any thread.

        Applied by the thread that reads the source; the outcome is in ``health``.
        """
        ...

    def __enter__(self) -> FrameSource: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def __iter__(self) -> Iterator[Frame]: ...


def as_bgr(image: np.ndarray | None) -> np.ndarray | None:
    """Normalise a decoded picture to (H, W, 3) uint8 BGR, or None when it is unusable.

    Parameters
    ----------
    image : ndarray (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) uint8, or None
        Grey and BGRA pictures are converted; anything else (other dtypes, empty arrays,
        other channel counts) is unusable.

    Returns
    -------
    ndarray (H, W, 3) uint8 or None
    """
    if image is None or not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        return None
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim < 2 or image.shape[0] == 0 or image.shape[1] == 0:
        return None
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return None


class BaseSource:
    """Shared behaviour of the sources: open/close state, stamping, pacing, health.

    Subclasses implement ``_open()``, ``_read()`` and ``_close()``; ``_read()`` returns the
    next frame (through :meth:`_emit`) or None at the end.

    Parameters
    ----------
    description : str
        What the source reads (a path or a device), for messages.
    nominal_fps : float
        The rate known before opening (updated by subclasses once it is known).
    paced : bool
        Sleep so frames come out at their media time (finite sources only).
    clock : callable
        Monotonic clock in seconds (``time.monotonic``); injectable for tests.
    sleep : callable
        Sleep function (``time.sleep``); injectable for tests.
    """

    is_live: bool = False
    _light_default: ControlStatus = RECORDING_CONTROLS
    """Exposure and white balance until the source says otherwise (recordings: for good)."""

    def __init__(self, description: str, *, nominal_fps: float = 0.0, paced: bool = False,
                 clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self._description = description
        self._paced = paced
        self._clock = clock
        self._sleep = sleep
        self._fps = float(nominal_fps)
        self._monitor = HealthMonitor(nominal_fps=nominal_fps)
        self._active = False
        self._seq = 0
        self._anchor: tuple[float, float] | None = None  # (clock, media_t) of pacing origin
        self._first_size: tuple[int, int, str] | None = None  # width, height, what, of seq 0
        # The light-control request: written by any thread, applied by the reading thread.
        self._light_guard = threading.Lock()
        self._light_request: bool | None = None
        self._light_generation = 0
        self._reset_light_health()

    # -- public API -------------------------------------------------------------------------
    @property
    def fps(self) -> float:
        return self._fps

    @property
    def health(self) -> CameraHealth:
        return self._monitor.snapshot()

    @property
    def description(self) -> str:
        return self._description

    @property
    def paced(self) -> bool:
        """True when frames are delivered in real time at their media time."""
        return self._paced

    @property
    def is_open(self) -> bool:
        return self._active

    def open(self) -> None:
        """Open the source (idempotent).

        Raises
        ------
        InputError
            A file or folder is missing or unusable.
        CameraError
            A device cannot be opened.
        """
        if self._active:
            return
        self._seq = 0
        self._anchor = None
        self._first_size = None
        self._monitor.reset()
        self._monitor.set_nominal_fps(self._fps)
        self._reset_light_health()
        self._open()
        self._active = True

    def read(self) -> Frame | None:
        """The next frame, or None at the end of a finite source.

        Raises
        ------
        CameraError
            The source is not open, or a device failed.
        InputError
            A file turned out to be unusable.
        """
        if not self._active:
            raise CameraError(f"{self._description} is not open")
        return self._read()

    def close(self) -> None:
        """Release the source (idempotent)."""
        if self._active:
            self._active = False
            self._close()
        self._monitor.set_connected(False)

    def lock_light_controls(self, locked: bool) -> None:
        """Ask for automatic exposure and white balance off (True) or back on (False).

        Safe from any thread. A recording accepts the request and reports both controls
        ``not_applicable``; a camera applies it in its reading thread (see
        :class:`~kiosk.camera.device.DeviceSource`). The outcome is in :attr:`health`.
        """
        with self._light_guard:
            self._light_request = bool(locked)
            self._light_generation += 1
            self._light_requested(bool(locked))

    def __enter__(self) -> BaseSource:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Frame]:
        self.open()
        while (frame := self.read()) is not None:
            yield frame

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._description!r})"

    # -- for subclasses ---------------------------------------------------------------------
    def _reset_light_health(self) -> None:
        with self._light_guard:
            self._monitor.set_light_controls(
                self._light_default, self._light_default, locked=self._light_request,
                pending=self._light_pending_at_reset(), applied_t=None)

    def _light_pending_at_reset(self) -> bool:
        """Whether a request waits for the source at (re)opening: never for a recording."""
        return False

    def _light_requested(self, locked: bool) -> None:
        """Record a new request (called with ``_light_guard`` held); recordings: at once."""
        self._monitor.set_light_controls(RECORDING_CONTROLS, RECORDING_CONTROLS, locked=locked,
                                         pending=False, applied_t=None)

    def _open(self) -> None:
        raise NotImplementedError

    def _read(self) -> Frame | None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError

    def _emit(self, image: np.ndarray, media_t: float, t: float | None = None) -> Frame:
        """Stamp one image, pace it when asked, feed the health monitor.

        Parameters
        ----------
        image : ndarray (H, W, 3) uint8, BGR
        media_t : float
            Media time of the image in seconds.
        t : float, optional
            Capture time on the monotonic clock (live sources). When None, a paced source
            uses its delivery time and an unpaced one uses ``media_t``.
        """
        if t is None:
            t = self._pace(media_t) if self._paced else media_t
        frame = Frame(image=image, seq=self._seq, t=t, media_t=media_t)
        self._seq += 1
        self._monitor.observe(frame)
        return frame

    def _keep_size(self, image: np.ndarray, what: str, first: str) -> None:
        """Raise :class:`InputError` when ``image`` differs in size from the run's first frame.

        Every consumer of a recording (the tracker's buffers, the motion and flow cues, the
        light challenge) assumes one frame size per run; a folder of mixed pictures, or a
        video whose stream changes resolution, is refused here rather than deep inside them.

        Parameters
        ----------
        image : ndarray (H, W, 3)
            The frame about to be delivered.
        what : str
            How the message names this frame ("image /x/b.jpg").
        first : str
            How the message names the first frame, should this one become it.
        """
        height, width = image.shape[:2]
        if self._first_size is None:
            self._first_size = (width, height, first)
            return
        first_width, first_height, first_what = self._first_size
        if (width, height) != (first_width, first_height):
            raise InputError(f"{what} is {width}x{height} pixels but {first_what} is "
                             f"{first_width}x{first_height}; every frame of "
                             f"{self._description} must have the same size")

    def _pace(self, media_t: float) -> float:
        """Sleep until ``media_t`` is due on the clock; return the delivery time."""
        now = self._clock()
        if self._anchor is None:
            self._anchor = (now, media_t)
            return now
        due = self._anchor[0] + (media_t - self._anchor[1])
        if due > now:
            self._sleep(due - now)
            return self._clock()
        if now - due > MAX_PACING_LAG_S:
            log.debug("%s: %.3f s behind schedule, re-anchoring", self._description, now - due)
            self._anchor = (now, media_t)
        return now
