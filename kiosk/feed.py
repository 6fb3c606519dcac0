"""The camera feed of the kiosk: one capture thread, two newest-frame paths.

No Qt here. The capture thread puts every frame into two :class:`LatestFrameSlot` mailboxes:

- the analysis slot, read by the worker (face tracking and the session), which takes what it
  can and lets older frames drop;
- the preview slot, read by the UI thread's repaint timer, so the preview keeps the camera's
  frame rate however slow the analysis is.

The feed also decides when the camera is failing (an error with no frame since, no frame
at all for ``stall_s``, or, with ``check_rate``, a frame rate too slow for the liveness check
to judge anyone: :mod:`kiosk.analysis.capture`; with ``check_colour`` a picture without
colour, and with ``check_frozen`` a picture that repeats itself exactly:
:mod:`kiosk.camera.health`) and restarts a capture thread that ended: a
finite source (video file, image folder) starts again from the beginning when
``loop_finite``; a source that failed is retried every ``restart_s``. A live camera retries by
itself inside its capture thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.analysis.capture import MIN_ANALYSIS_FPS, too_slow
from kiosk.camera import (
    CameraHealth,
    CaptureThread,
    FrameSource,
    LatestFrameSlot,
    VirtualCameraRefused,
)
from kiosk.model import Frame
from kiosk.settings import Settings

log = logging.getLogger(__name__)

# A slow camera is judged once its health window holds two seconds at the slowest judged
# rate, and counts as recovered only at 20 % above that rate, so that a webcam hovering near
# the limit (auto exposure in dim light) does not flip the kiosk in and out of service.
RATE_MIN_FRAMES = round(2 * MIN_ANALYSIS_FPS)
RATE_RECOVERY = 1.2

GREY_MIN_FRAMES = 30
"""Frames without colour in a row that make the camera unusable: a second at the usual rate,
so that one odd frame (a flash, a switch of the camera's mode) does not take the kiosk out of
service; one frame with colour brings it back."""

OVERLOAD_PAUSE_S = Settings().camera.overload_pause_s
"""The default of ``camera.overload_pause_s`` (60 s): how long the kiosk stays out of service after a
session's frames reached the analysis too slowly to judge while the camera delivered enough
(the kiosk itself was too loaded): long enough for a passing load to end, short enough that
staff need not act; the next session measures again."""


@dataclass(frozen=True)
class FeedStatus:
    """Whether the camera delivers; ``reason`` says why not, for staff. ``refused``: the
    source is a camera refused as virtual (``camera.allow_virtual`` off), an injection
    attempt the kiosk records in its audit log."""

    ok: bool
    reason: str = ""
    refused: bool = False


class _TeeSlot(LatestFrameSlot):
    """The analysis slot; every frame put into it also goes to the preview slot."""

    def __init__(self, preview: LatestFrameSlot, on_put: Callable[[], None]) -> None:
        super().__init__()
        self._preview = preview
        self._on_put = on_put

    def put(self, frame: Frame) -> bool:
        self._preview.put(frame)
        self._on_put()
        return super().put(frame)


class FrameFeed:
    """A frame source read by a capture thread into an analysis slot and a preview slot.

    Parameters
    ----------
    source : FrameSource
        Camera, video file or image folder; opened and closed by the capture thread.
    loop_finite : bool
        Start a finite source again when it ends (demos); otherwise its end is a failure.
    stall_s : float
        No frame for this long means the camera is failing (a stalled driver).
    restart_s : float
        Wait before restarting a capture thread that ended with an error.
    check_rate : bool
        A camera under the slowest rate the liveness check judges is failing (the kiosk is
        out of service rather than failing every person on CAPTURE_TOO_SLOW).
    check_colour : bool
        A camera that delivers a picture without colour (an infrared sensor, a night mode) is
        failing: the light check and the colour cues would fail every person.
    check_frozen : bool
        A camera whose picture repeats itself exactly for a second (a stalled driver, a covered
        lens reading black, a still image fed in) is failing: a session on it would fail the
        person for prompts nobody could answer, and the next person after them.
    overload_pause_s : float
        Out of service this long after :meth:`note_slow_analysis` found the kiosk too loaded
        (``camera.overload_pause_s``).
    clock : callable
        Monotonic seconds.

    Notes
    -----
    :meth:`next_frame`, :meth:`status` and :meth:`note_slow_analysis` are for one consumer
    thread (the worker);
    :attr:`preview` and :attr:`health` may be read from any thread.
    """

    def __init__(self, source: FrameSource, *, loop_finite: bool = True, stall_s: float = 3.0,
                 restart_s: float = 1.0, check_rate: bool = False,
                 check_colour: bool = False, check_frozen: bool = False,
                 overload_pause_s: float = OVERLOAD_PAUSE_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if stall_s <= 0 or restart_s < 0 or overload_pause_s <= 0:
            raise ValueError("stall_s and overload_pause_s must be > 0 and restart_s >= 0")
        self._overload_pause_s = float(overload_pause_s)
        self._source = source
        self._loop_finite = loop_finite
        self._stall_s = float(stall_s)
        self._restart_s = float(restart_s)
        self._check_rate = bool(check_rate)
        self._check_colour = bool(check_colour)
        self._check_frozen = bool(check_frozen)
        self._slow = False
        self._clock = clock
        self._preview = LatestFrameSlot()
        self._lock = threading.Lock()
        # The last error with no frame after it, and whether it refused a virtual camera.
        self._error: tuple[str, bool] | None = None
        self._last_put: float | None = None
        self._started_at: float | None = None
        self._capture: CaptureThread | None = None
        self._restart_at: float | None = None
        self._stopped = threading.Event()
        self._overloaded: tuple[float, float] | None = None  # (until, camera fps)

    # -- any thread -----------------------------------------------------------------------

    @property
    def source(self) -> FrameSource:
        return self._source

    @property
    def preview(self) -> LatestFrameSlot:
        """The newest frame for the preview; poll it with ``get_nowait()``."""
        return self._preview

    @property
    def health(self) -> CameraHealth:
        """The camera's health (slot drops included)."""
        capture = self._capture
        return capture.health if capture is not None else self._source.health

    # -- the consumer thread --------------------------------------------------------------

    def start(self) -> None:
        """Start the capture thread (idempotent)."""
        if self._capture is None and not self._stopped.is_set():
            self._started_at = self._clock()
            self._launch()

    def stop(self) -> None:
        """Stop the capture thread and wake any waiting reader; the feed cannot restart."""
        self._stopped.set()
        capture, self._capture = self._capture, None
        self._preview.close()
        if capture is not None:
            capture.slot.close()  # wakes a reader even while the device blocks in read()
            capture.stop()

    def replace_source(self, source: FrameSource) -> None:
        """Read from ``source`` from now on (the operator chose another camera)."""
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.stop()
        self._source = source
        self._slow = False
        with self._lock:
            self._error = None
            self._last_put = None
        self._started_at = self._clock()
        if not self._stopped.is_set():
            self._launch()

    def next_frame(self, timeout: float) -> Frame | None:
        """The newest frame not yet taken, waiting up to ``timeout`` seconds (None if none)."""
        deadline = self._clock() + timeout
        while not self._stopped.is_set():
            self._maintain()
            capture = self._capture
            remaining = deadline - self._clock()
            if capture is not None and not capture.slot.closed:
                frame = capture.slot.get(timeout=max(remaining, 0.0))
                if frame is not None:
                    return frame
            elif capture is not None and (frame := capture.slot.get_nowait()) is not None:
                return frame
            else:
                self._stopped.wait(min(max(remaining, 0.0), 0.05))
            if self._clock() >= deadline:
                return None
        return None

    def note_slow_analysis(self) -> bool:
        """A session's frames reached the analysis too slowly to judge (CAPTURE_TOO_SLOW).

        When this camera delivers enough frames, the kiosk itself was too loaded to analyse
        them: :meth:`status` then reports it for ``overload_pause_s``, so the next people
        are not failed one after another. A camera that is itself slow is not overload
        (``check_rate`` reports that).

        Returns
        -------
        bool
            Whether it was taken as overload.
        """
        health = self.health
        if health.frames < RATE_MIN_FRAMES or health.fps < RATE_RECOVERY * MIN_ANALYSIS_FPS:
            return False
        self._overloaded = (self._clock() + self._overload_pause_s, health.fps)
        return True

    def status(self) -> FeedStatus:
        """Whether the camera is delivering right now, and the kiosk keeping up with it."""
        now = self._clock()
        if self._overloaded is not None:
            until, fps = self._overloaded
            if now < until:
                return FeedStatus(False, f"frames reached the analysis at under "
                                         f"{MIN_ANALYSIS_FPS:.0f} a second while the camera "
                                         f"delivers {fps:.0f}: the kiosk is too loaded (other "
                                         "programs, a slow machine); it takes the next person "
                                         f"after a pause of {self._overload_pause_s:.0f} s")
            self._overloaded = None
        with self._lock:
            error, last_put = self._error, self._last_put
        if error is not None:
            return FeedStatus(False, error[0], refused=error[1])
        since = last_put if last_put is not None else self._started_at
        if since is not None and now - since > self._stall_s:
            what = "no picture from the camera" if last_put is None else \
                "the camera stopped delivering pictures"
            return FeedStatus(False, f"{what} for {now - since:.0f} s ({self._source.description})")
        health = self.health
        if self._check_rate and self._rate_too_slow(health):
            return FeedStatus(False, f"the camera delivers {health.fps:.1f} frames a second; "
                                     f"the liveness check needs at least "
                                     f"{MIN_ANALYSIS_FPS:.0f} ({self._source.description})")
        if self._check_frozen and health.is_frozen:
            # No count in the reason: a changing reason would be a new failure every poll.
            return FeedStatus(False, "the picture has not changed for over a second (a "
                                     "frozen camera, a covered lens, or a still image fed in "
                                     f"place of a camera) ({self._source.description})")
        if self._check_colour and health.grey_run >= GREY_MIN_FRAMES:
            return FeedStatus(False, "the camera delivers a picture without colour (an "
                                     "infrared or night mode, or a face-login sensor chosen "
                                     "by mistake: `kiosk cameras` lists the others); the light "
                                     "check and the colour cues need colour "
                                     f"({self._source.description})")
        return FeedStatus(True)

    def _rate_too_slow(self, health: CameraHealth) -> bool:
        """Whether the camera is too slow to judge, with hysteresis (see RATE_RECOVERY)."""
        if health.frames < RATE_MIN_FRAMES or health.fps <= 0:
            return self._slow
        if self._slow:
            self._slow = health.fps < RATE_RECOVERY * MIN_ANALYSIS_FPS
        else:
            self._slow = too_slow(health.fps)
        return self._slow

    # -- internals ------------------------------------------------------------------------

    def _launch(self) -> None:
        slot = _TeeSlot(self._preview, self._note_frame)
        self._capture = CaptureThread(self._source, slot, on_error=self._note_error)
        self._restart_at = None
        self._capture.start()

    def _note_frame(self) -> None:  # capture thread
        with self._lock:
            self._last_put = self._clock()
            self._error = None

    def _note_error(self, exc: Exception) -> None:  # capture thread
        with self._lock:
            self._error = (str(exc) or type(exc).__name__,
                           isinstance(exc, VirtualCameraRefused))

    def _maintain(self) -> None:
        """Restart a capture thread that has ended (looping a finite source, retrying a
        failed one)."""
        capture = self._capture
        if capture is None or capture.is_alive() or self._stopped.is_set():
            return
        if capture.finished and capture.error is None:
            if self._loop_finite:
                log.debug("%s ended; starting it again", self._source.description)
                self._launch()
            else:
                with self._lock:
                    self._error = (f"{self._source.description} ended", False)
            return
        if self._restart_at is None:
            self._restart_at = self._clock() + self._restart_s
        elif self._clock() >= self._restart_at:
            log.info("restarting the capture of %s", self._source.description)
            self._launch()
