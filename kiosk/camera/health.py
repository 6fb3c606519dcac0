"""Camera health, measured continuously from the frames a source delivers.

:class:`HealthMonitor` is a small pure class: feed it every frame (``observe``) and the events
the source sees (drops, corrupt frames, reconnects, errors); read a :class:`CameraHealth`
snapshot at any time, from any thread. The source also reports the state of the camera's
automatic exposure and white balance (``set_light_controls``), which the light challenge
needs fixed while the screen flashes.

Frozen frames are frames identical to the previous one. A live sensor always has noise, so an
exact repeat means a stalled driver or an injected stream (a still image, or a video replayed
at a lower rate than the device's). The check is cheap: a strided sample of about 64 x 48
pixels is compared first (no averaging, so sensor noise survives); only when the samples are
equal are the whole images compared.

A picture without colour (every sampled pixel with its three channels within GREY_SPREAD of
each other) is what an infrared or night-mode sensor gives, or a laptop's face-login camera
chosen by mistake: a colour sensor's independent channel noise alone parts its channels
somewhere in the 3,072 samples. The light check and the colour cues cannot work on it, so the
run of such frames is counted (frames too dark to tell, a covered lens, are left out).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

from kiosk.model import Frame
from kiosk.vocabulary import ControlState

# Strided sample size used for the cheap frozen-frame pre-check.
_SAMPLE_COLUMNS = 64
_SAMPLE_ROWS = 48

GREY_SPREAD = 3
"""Largest difference between a pixel's channels in a picture without colour: a grey sensor's
picture converted to BGR repeats one value, give or take the rounding of the conversion."""

FROZEN_S = 1.0
"""Seconds of identical frames (at the nominal rate) after which a camera counts as frozen: a
live sensor's noise changes every frame, so a second of exact repeats is a stalled driver, a
lens covered so that the sensor reads black, or a still image fed in place of a camera."""

FROZEN_MIN_FRAMES = 5
"""Identical frames in a row that make a camera frozen at the least (for a source whose
nominal rate is unknown or very low)."""

GREY_MIN_MEAN = 20.0
"""A sample darker than this on average tells nothing about colour (a covered lens, a black
screen): its frames neither start nor end a run of grey frames."""


@dataclass(frozen=True)
class ControlStatus:
    """The state of one automatic camera control: exposure or white balance.

    Attributes
    ----------
    state : ControlState
        ``locked`` (the kiosk switched auto off and holds ``value``), ``auto``, ``manual``
        (auto off, not by the kiosk), ``not_supported``, ``not_applicable`` (a recording) or
        ``unknown`` (not connected yet).
    value : float or None
        The value held while locked or manual, as the driver reads it back: exposure time in
        units of 100 microseconds (V4L2 ``exposure_time_absolute``), white balance in kelvin.
        None when auto, or when the driver did not say.
    unit : str
        ``"100us"``, ``"K"``, or empty when the value is in no known unit.
    detail : str
        What the driver refused or changed, in words for staff; empty when all went as asked.
    """

    state: ControlState = ControlState.UNKNOWN
    value: float | None = None
    unit: str = ""
    detail: str = ""


RECORDING_CONTROLS = ControlStatus(ControlState.NOT_APPLICABLE,
                                   detail="a recording: nothing to lock")
"""What recordings (video files, image folders) report for exposure and white balance."""


@dataclass(frozen=True)
class CameraHealth:
    """A snapshot of a source's health.

    Attributes
    ----------
    frames : int
        Frames observed (delivered by the source).
    fps : float
        Actual frames per second over the sliding window, from the frames' ``t``; 0.0 until
        two frames were seen. For an unpaced file this is the media rate.
    nominal_fps : float
        The rate the source claims (requested device rate, file rate, folder rate).
    dropped : int
        Frames lost: gaps in ``seq`` plus frames replaced in a latest-frame slot before anyone
        took them.
    frozen : int
        Frames identical to their predecessor, in total.
    frozen_run : int
        Identical frames in a row right now (0 when the last frame differed from the previous).
    grey_run : int
        Frames without colour in a row right now (see the module docstring; 0 after a frame
        with colour).
    corrupt : int
        Frames or images that could not be decoded or had an unusable shape.
    reconnects : int
        Successful reconnections after the device was lost.
    connected : bool
        True while the source is open and delivering (False after an unplug, before the next
        successful reconnection, and after close).
    last_error : str or None
        The latest error message, None when there was none.
    last_t : float or None
        ``t`` of the latest frame.
    exposure, white_balance : ControlStatus
        The camera's automatic exposure and white balance (see
        :meth:`~kiosk.camera.device.DeviceSource.lock_light_controls`).
    light_locked : bool or None
        The request in force: True lock, False automatic, None never asked.
    light_pending : bool
        True while a request has not yet been applied by the capture thread (it is applied at
        the next read, and again at every reconnection).
    light_applied_t : float or None
        Clock time (the scale of frames' ``t``) at which the capture thread applied the request
        in force; frames read before it were captured under the previous state, and a camera
        may take a few more frames to act on it (not measured: no camera here). None while
        pending, or when nothing was applied.
    """

    frames: int = 0
    fps: float = 0.0
    nominal_fps: float = 0.0
    dropped: int = 0
    frozen: int = 0
    frozen_run: int = 0
    grey_run: int = 0
    corrupt: int = 0
    reconnects: int = 0
    connected: bool = False
    last_error: str | None = None
    last_t: float | None = None
    exposure: ControlStatus = ControlStatus()
    white_balance: ControlStatus = ControlStatus()
    light_locked: bool | None = None
    light_pending: bool = False
    light_applied_t: float | None = None

    @property
    def frozen_ratio(self) -> float:
        """Share of observed frames that repeated their predecessor exactly."""
        return self.frozen / self.frames if self.frames else 0.0

    @property
    def is_frozen(self) -> bool:
        """Whether the picture has repeated itself exactly for ``FROZEN_S`` (see there)."""
        rate = self.nominal_fps or self.fps
        return self.frozen_run >= max(FROZEN_MIN_FRAMES, round(FROZEN_S * rate))


def is_grey(sample: np.ndarray) -> bool | None:
    """Whether a strided sample has no colour; None when it is too dark to tell.

    Parameters
    ----------
    sample : ndarray (h, w, 3) uint8 (sources deliver BGR, a grey sensor's picture included)
    """
    if float(sample.mean()) < GREY_MIN_MEAN:
        return None
    spread = sample.max(axis=2).astype(np.int16) - sample.min(axis=2)
    return bool(spread.max() <= GREY_SPREAD)


def _sample(image: np.ndarray) -> np.ndarray:
    """A strided sample of about 64 x 48 pixels (all channels), copied.

    Parameters
    ----------
    image : ndarray (H, W, C) or (H, W)
    """
    step_y = max(1, image.shape[0] // _SAMPLE_ROWS)
    step_x = max(1, image.shape[1] // _SAMPLE_COLUMNS)
    return np.ascontiguousarray(image[::step_y, ::step_x])


class HealthMonitor:
    """Accumulates the health of one source from the frames it delivers.

    Parameters
    ----------
    nominal_fps : float
        The rate the source claims, reported as is.
    window_s : float
        Length of the sliding window for the actual fps, in seconds of frame time.

    Notes
    -----
    The monitor keeps a reference to the previous image for the frozen check; sources deliver
    a fresh array per frame, so nothing is copied. All methods are thread-safe.
    """

    def __init__(self, nominal_fps: float = 0.0, window_s: float = 2.0) -> None:
        if window_s <= 0:
            raise ValueError(f"window_s must be positive, got {window_s!r}")
        self._lock = threading.Lock()
        self._window_s = float(window_s)
        self._nominal_fps = float(nominal_fps)
        self._exposure = ControlStatus()
        self._white_balance = ControlStatus()
        self._light_locked: bool | None = None
        self._light_pending = False
        self._light_applied_t: float | None = None
        self.reset()

    def reset(self) -> None:
        """Forget the frame statistics (a source that is opened again starts a new run).

        The light-control state is kept: it describes the source and its request, and the
        source updates it itself (:meth:`set_light_controls`).
        """
        with self._lock:
            self._times: deque[float] = deque()
            self._frames = 0
            self._dropped = 0
            self._frozen = 0
            self._frozen_run = 0
            self._grey_run = 0
            self._corrupt = 0
            self._reconnects = 0
            self._connected = False
            self._last_error: str | None = None
            self._last_seq: int | None = None
            self._previous: np.ndarray | None = None
            self._previous_sample: np.ndarray | None = None
            self._last_t: float | None = None

    def set_nominal_fps(self, fps: float) -> None:
        """Record the rate the source claims (known only once it is open)."""
        with self._lock:
            self._nominal_fps = float(fps)

    def observe(self, frame: Frame) -> bool:
        """Account for one delivered frame.

        Parameters
        ----------
        frame : Frame
            ``frame.image`` is (H, W, 3) uint8.

        Returns
        -------
        bool
            True when the frame repeats its predecessor exactly (frozen).
        """
        image = frame.image
        sample = _sample(image)
        grey = is_grey(sample)
        with self._lock:
            previous = self._previous
            frozen = (previous is not None and self._previous_sample is not None
                      and previous.shape == image.shape
                      and np.array_equal(sample, self._previous_sample)
                      and bool(np.array_equal(image, previous)))
            self._frames += 1
            self._connected = True
            if self._last_seq is not None and frame.seq > self._last_seq + 1:
                self._dropped += frame.seq - self._last_seq - 1
            self._last_seq = frame.seq
            if frozen:
                self._frozen += 1
                self._frozen_run += 1
            else:
                self._frozen_run = 0
            if grey is not None:
                self._grey_run = self._grey_run + 1 if grey else 0
            self._previous = image
            self._previous_sample = sample
            times = self._times
            if times and frame.t < times[-1]:
                times.clear()  # the clock went backwards: a new run, not a negative rate
            times.append(frame.t)
            self._last_t = frame.t
            while times and frame.t - times[0] > self._window_s:
                times.popleft()
        return frozen

    def note_dropped(self, count: int = 1) -> None:
        """Count frames lost outside the ``seq`` numbering (e.g. replaced in a slot)."""
        with self._lock:
            self._dropped += count

    def note_corrupt(self, count: int = 1, error: str | None = None) -> None:
        """Count frames that could not be used; ``error`` becomes the last error."""
        with self._lock:
            self._corrupt += count
            if error is not None:
                self._last_error = error

    def note_reconnect(self) -> None:
        """Count a successful reconnection."""
        with self._lock:
            self._reconnects += 1
            self._connected = True

    def note_error(self, message: str) -> None:
        """Record the latest error message."""
        with self._lock:
            self._last_error = message

    def set_connected(self, connected: bool) -> None:
        """Record whether the source is currently delivering."""
        with self._lock:
            self._connected = connected
            if not connected:
                # After a gap the next frame is not "identical to the previous one" in any
                # useful sense, and the fps window must not span the outage.
                self._previous = None
                self._previous_sample = None
                self._frozen_run = 0
                self._times.clear()

    def set_light_controls(self, exposure: ControlStatus, white_balance: ControlStatus, *,
                           locked: bool | None, pending: bool,
                           applied_t: float | None) -> None:
        """Record the state of exposure and white balance and of the request behind it.

        Parameters
        ----------
        exposure, white_balance : ControlStatus
            As read back from the driver (or ``not_applicable`` for a recording).
        locked : bool or None
            The request in force (None: never asked).
        pending : bool
            A request is waiting for the capture thread.
        applied_t : float or None
            Clock time at which the request in force was applied.
        """
        with self._lock:
            self._exposure = exposure
            self._white_balance = white_balance
            self._light_locked = locked
            self._light_pending = pending
            self._light_applied_t = applied_t

    def snapshot(self) -> CameraHealth:
        """The current health."""
        with self._lock:
            times = self._times
            span = times[-1] - times[0] if len(times) >= 2 else 0.0
            fps = (len(times) - 1) / span if span > 0 else 0.0
            return CameraHealth(
                frames=self._frames, fps=fps, nominal_fps=self._nominal_fps,
                dropped=self._dropped, frozen=self._frozen, frozen_run=self._frozen_run,
                grey_run=self._grey_run, corrupt=self._corrupt, reconnects=self._reconnects,
                connected=self._connected,
                last_error=self._last_error, last_t=self._last_t, exposure=self._exposure,
                white_balance=self._white_balance, light_locked=self._light_locked,
                light_pending=self._light_pending, light_applied_t=self._light_applied_t)
