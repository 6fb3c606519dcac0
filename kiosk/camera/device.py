"""A live camera through OpenCV, with a virtual-camera check and reconnection after unplug.

Reconnection never blocks: after a failed read the source is *disconnected*; each later
``read()`` raises :class:`CameraDisconnected` (with ``retry_in``) until the next attempt is
due, then tries to reopen the device. Attempts are spaced by an exponential backoff
(``reconnect_min_s``, doubling, capped at ``reconnect_max_s``) that resets after a success.
The caller decides how to wait (:class:`~kiosk.camera.capture.CaptureThread` waits
``retry_in`` on its stop event). The virtual-camera check runs on every (re)connection:
unplugging the real camera and loading a loopback device at the same index must not work.

Automatic exposure and white balance are locked on request from any thread
(:meth:`DeviceSource.lock_light_controls`); the reading thread applies the request at its next
read and again after every reconnection, and ``health`` reports what the driver did
(:mod:`kiosk.camera.controls`).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import cv2

from kiosk.camera.controls import LightControls
from kiosk.camera.health import ControlStatus
from kiosk.camera.source import BaseSource, CaptureFactory, Clock, as_bgr
from kiosk.camera.v4l2 import (
    DEV_ROOT,
    SYSFS_ROOT,
    QueryCap,
    VideoDevice,
    find_device,
    node_of,
    query_capability,
)
from kiosk.errors import CameraError
from kiosk.model import Frame
from kiosk.vocabulary import ControlState

log = logging.getLogger(__name__)

# Consecutive unusable frames (wrong shape or dtype) tolerated within one read() call.
_MAX_BAD_FRAMES = 5


class CameraDisconnected(CameraError):
    """The device stopped delivering; reconnection is scheduled in ``retry_in`` seconds."""

    def __init__(self, message: str, retry_in: float) -> None:
        super().__init__(message)
        self.retry_in = retry_in


class VirtualCameraRefused(CameraError):
    """The device is a virtual camera and ``camera.allow_virtual`` is false."""


def parse_device(spec: int | str) -> int | str:
    """A device index (``0``, ``"0"``) as an int, a device path as a str.

    Raises
    ------
    CameraError
        Anything else (an empty string, a negative index).
    """
    if isinstance(spec, int) and not isinstance(spec, bool):
        if spec < 0:
            raise CameraError(f"camera index {spec} is not valid; use 0, 1, ... or a path")
        return spec
    text = str(spec).strip()
    if re.fullmatch(r"\d+", text):
        return int(text)
    if not text:
        raise CameraError("no camera device given; use an index (0) or a path (/dev/video0)")
    return text


def _default_factory(source: Any, api_preference: int) -> Any:
    return cv2.VideoCapture(source, api_preference)


class DeviceSource(BaseSource):
    """Frames from a camera (``/dev/videoN`` on Linux) through ``cv2.VideoCapture``.

    Parameters
    ----------
    device : int or str
        Camera index or device path (``/dev/video0``, ``/dev/v4l/by-id/...``).
    width, height, fps : int
        Requested resolution and rate (the driver may choose others: see
        :attr:`resolution` and :attr:`fps` after opening).
    allow_virtual : bool
        Accept devices flagged virtual (development only).
    reconnect_min_s, reconnect_max_s : float
        First delay and cap of the reconnection backoff.
    capture_factory : callable, optional
        ``factory(device, api_preference) -> capture`` with ``isOpened``, ``read``, ``set``,
        ``get``, ``release``; ``cv2.VideoCapture`` by default. Tests pass a fake.
    clock : callable
        Monotonic clock for timestamps and the backoff schedule.
    sysfs_root, dev_root, querycap :
        Where the virtual-camera check looks (see :mod:`kiosk.camera.v4l2`).
    platform : str
        ``sys.platform``; the V4L2 backend and the virtual-camera check are Linux only.

    Notes
    -----
    ``t`` is the clock when ``read()`` got the frame; ``media_t`` counts from the first frame.
    ``seq`` keeps counting across reconnections. ``open()`` raises when the first connection
    fails, but the source stays open and ``read()`` keeps retrying on the backoff schedule;
    ``close()`` gives up.

    :meth:`lock_light_controls` may be called from any thread; the thread that reads applies
    it before its next frame, and each (re)connection applies the request in force again
    (a replugged camera starts from its defaults). Until the first request a connection only
    reads the state. Closing a source that holds a lock switches auto back on first.
    """

    is_live = True
    _light_default = ControlStatus(ControlState.UNKNOWN, detail="the camera is not connected")

    def __init__(self, device: int | str, *, width: int = 640, height: int = 480,
                 fps: float = 30, allow_virtual: bool = False, reconnect_min_s: float = 0.5,
                 reconnect_max_s: float = 8.0, capture_factory: CaptureFactory | None = None,
                 clock: Clock = time.monotonic, sysfs_root: Path = SYSFS_ROOT,
                 dev_root: Path = DEV_ROOT, querycap: QueryCap = query_capability,
                 platform: str = sys.platform) -> None:
        if reconnect_min_s <= 0 or reconnect_max_s < reconnect_min_s:
            raise ValueError("reconnect_min_s must be positive and reconnect_max_s >= "
                             f"reconnect_min_s, got {reconnect_min_s!r} and {reconnect_max_s!r}")
        self._device = parse_device(device)
        super().__init__(f"camera {self._device}", nominal_fps=fps, clock=clock)
        self._width = int(width)
        self._height = int(height)
        self._requested_fps = float(fps)
        self._allow_virtual = allow_virtual
        self._backoff_min = float(reconnect_min_s)
        self._backoff_max = float(reconnect_max_s)
        self._factory = capture_factory or _default_factory
        self._sysfs_root = Path(sysfs_root)
        self._dev_root = Path(dev_root)
        self._querycap = querycap
        self._platform = platform
        self._capture: Any = None
        self._info: VideoDevice | None = None
        self._resolution: tuple[int, int] | None = None
        self._failures = 0            # failed attempts since the last success
        self._next_attempt = 0.0      # clock time of the next reconnection attempt
        self._t0: float | None = None
        self._shape: tuple[int, ...] | None = None  # of this connection's frames
        self._ever_connected = False
        self._controls: LightControls | None = None
        self._light_applied = 0       # generation of the light request last applied

    @classmethod
    def from_settings(cls, settings: Any, *, device: int | str | None = None,
                      **kwargs: Any) -> DeviceSource:
        """A device source configured by ``settings.camera`` (``device`` overrides it)."""
        camera = settings.camera
        return cls(camera.device if device is None else device, width=camera.width,
                   height=camera.height, fps=camera.fps, allow_virtual=camera.allow_virtual,
                   reconnect_min_s=min(camera.reconnect_min_s, camera.reconnect_max_s),
                   reconnect_max_s=camera.reconnect_max_s, **kwargs)

    # -- state ------------------------------------------------------------------------------
    @property
    def device(self) -> int | str:
        return self._device

    @property
    def allow_virtual(self) -> bool:
        """Devices flagged virtual are accepted (``camera.allow_virtual``, development only)."""
        return self._allow_virtual

    @property
    def device_info(self) -> VideoDevice | None:
        """What the virtual-camera check found at the last connection (Linux only)."""
        return self._info

    @property
    def resolution(self) -> tuple[int, int] | None:
        """(width, height) the driver granted, None before the first connection."""
        return self._resolution

    @property
    def connected(self) -> bool:
        return self._capture is not None

    @property
    def retry_in(self) -> float:
        """Seconds until the next reconnection attempt is due (0 when connected or due)."""
        if not self._active or self._capture is not None:
            return 0.0
        return max(0.0, self._next_attempt - self._clock())

    # -- BaseSource hooks --------------------------------------------------------------------
    def _open(self) -> None:
        self._failures = 0
        self._t0 = None
        self._ever_connected = False
        try:
            self._connect()
        except CameraError as exc:
            # Stay open and retry from read(): a kiosk may boot before its camera is plugged.
            self._active = True
            self._schedule_retry(str(exc))
            raise

    def _read(self) -> Frame | None:
        if self._capture is None:
            self._reconnect_if_due()
        self._apply_light()
        for _ in range(_MAX_BAD_FRAMES):
            ok, raw = self._capture.read()
            now = self._clock()
            if not ok:
                raise self._lose(f"{self.description} stopped delivering frames (unplugged?)")
            image = as_bgr(raw)
            if image is not None:
                self._check_shape(image.shape)
                if self._t0 is None:
                    self._t0 = now
                return self._emit(image, now - self._t0, t=now)
            self._monitor.note_corrupt(error=f"{self.description} delivered an unusable frame "
                                             f"({_describe_array(raw)})")
        raise self._lose(f"{self.description} delivers unusable frames "
                         f"({_describe_array(raw)})")

    def _check_shape(self, shape: tuple[int, ...]) -> None:
        """Raise CameraDisconnected when this connection's frames change size: the camera
        renegotiated its mode. Passed on, the new size would read to the session's continuity
        check as a face that changed scale (an attack, FACE_CHANGED); reconnecting asks for
        the configured mode again, and the session in progress ends as a camera failure."""
        if self._shape is None:
            self._shape = shape
        elif shape != self._shape:
            before, self._shape = self._shape, None
            raise self._lose(f"{self.description} changed its picture size from "
                             f"{before[1]}x{before[0]} to {shape[1]}x{shape[0]} (the camera "
                             "switched its mode)")

    def _close(self) -> None:
        if self._controls is not None and self._light_request is not None:
            # Never leave the camera locked, even with an unlock request not yet applied.
            exposure, white_balance = self._controls.unlock()
            log.info("%s closed: exposure %s, white balance %s", self.description,
                     exposure.state, white_balance.state)
        self._release()

    # -- light controls (the reading thread) ------------------------------------------------
    def _light_pending_at_reset(self) -> bool:
        return self._light_request is not None

    def _light_requested(self, locked: bool) -> None:
        health = self._monitor.snapshot()
        self._monitor.set_light_controls(health.exposure, health.white_balance, locked=locked,
                                         pending=True, applied_t=None)

    def _apply_light(self, *, force: bool = False) -> None:
        """Apply the request in force if it is new (or always, after a connection)."""
        controls = self._controls
        if controls is None:
            return
        with self._light_guard:
            request, generation = self._light_request, self._light_generation
        if generation == self._light_applied and not force:
            return
        exposure, white_balance = controls.apply(request)
        self._light_applied = generation
        applied_t = self._clock() if request is not None else None
        with self._light_guard:
            self._monitor.set_light_controls(
                exposure, white_balance, locked=request,
                pending=generation != self._light_generation, applied_t=applied_t)
        what = {None: "read", True: "locked", False: "unlocked"}[request]
        log.info("%s: light controls %s: exposure %s%s, white balance %s%s", self.description,
                 what, exposure.state, _detail(exposure), white_balance.state,
                 _detail(white_balance))

    # -- connection management ---------------------------------------------------------------
    def _check_virtual(self) -> None:
        if not self._platform.startswith("linux"):
            log.warning("%s: the virtual-camera check needs Linux sysfs; not checked",
                        self.description)
            return
        node = node_of(self._device)
        info = None if node is None else find_device(
            self._device, sysfs_root=self._sysfs_root, dev_root=self._dev_root,
            querycap=self._querycap)
        if info is None:
            raise CameraError(f"cannot open {self.description}: no such video device "
                              f"({self._sysfs_root / 'class' / 'video4linux'} does not list "
                              "it; check the cable and `kiosk cameras`)")
        self._info = info
        if info.is_virtual:
            if not self._allow_virtual:
                raise VirtualCameraRefused(
                    f"virtual camera refused: {info.path} {info.name!r} ({info.why_virtual}); "
                    "an injected video stream is an attack. Set camera.allow_virtual = true "
                    "only for development")
            log.warning("%s is a virtual camera (%s); accepted because camera.allow_virtual "
                        "is true", info.path, info.why_virtual)
        if info.is_capture is False:
            raise CameraError(f"cannot open {self.description}: {info.path} {info.name!r} is "
                              "not a video-capture node (a metadata or codec node; try the "
                              "next /dev/video index)")

    def _connect(self) -> None:
        self._check_virtual()
        linux = self._platform.startswith("linux")
        api = cv2.CAP_V4L2 if linux else cv2.CAP_ANY
        capture = self._factory(self._device, api)
        if not capture.isOpened():
            capture.release()
            raise CameraError(f"cannot open {self.description}{self._access_hint()}")
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, self._width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self._height)
        capture.set(cv2.CAP_PROP_FPS, self._requested_fps)
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
        granted_fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        if width > 0 and height > 0:
            self._resolution = (width, height)
            if (width, height) != (self._width, self._height):
                log.info("%s: requested %dx%d, driver granted %dx%d", self.description,
                         self._width, self._height, width, height)
        if granted_fps > 0:
            self._fps = granted_fps
            self._monitor.set_nominal_fps(granted_fps)
        self._capture = capture
        self._shape = None
        self._failures = 0
        if self._ever_connected:
            self._monitor.note_reconnect()
            log.info("%s reconnected", self.description)
        self._ever_connected = True
        self._monitor.set_connected(True)
        self._controls = LightControls(capture, v4l2=linux)
        self._apply_light(force=True)

    def _reconnect_if_due(self) -> None:
        wait = self.retry_in
        if wait > 0:
            raise CameraDisconnected(f"{self.description} disconnected; next reconnection "
                                     f"attempt in {wait:.1f} s", retry_in=wait)
        try:
            self._connect()
        except CameraError as exc:
            delay = self._schedule_retry(str(exc))
            raise type(exc)(f"{exc}; retrying in {delay:.1f} s") from None

    def _schedule_retry(self, message: str) -> float:
        delay = min(self._backoff_max, self._backoff_min * 2.0 ** self._failures)
        self._failures += 1
        self._next_attempt = self._clock() + delay
        self._monitor.note_error(message)
        return delay

    def _lose(self, message: str) -> CameraDisconnected:
        """Drop the capture after a failure; return the error for the caller to raise."""
        self._release()
        self._failures = 0
        delay = self._schedule_retry(message)
        self._monitor.set_connected(False)
        log.warning("%s; reconnecting in %.1f s", message, delay)
        return CameraDisconnected(f"{message}; reconnecting in {delay:.1f} s", retry_in=delay)

    def _release(self) -> None:
        self._controls = None
        self._reset_light_health()
        if self._capture is not None:
            capture, self._capture = self._capture, None
            try:
                capture.release()
            except cv2.error as exc:  # releasing an unplugged device may complain
                log.debug("%s: release failed: %s", self.description, exc)

    def _access_hint(self) -> str:
        node = node_of(self._device) if self._platform.startswith("linux") else None
        if node is None:
            return ""
        path = self._dev_root / node
        if not path.exists():
            return f": no device node {path} (unplugged, or not created by the driver yet)"
        if not os.access(path, os.R_OK | os.W_OK):
            return (f": permission denied on {path} (add the kiosk user to the group that "
                    "owns it, usually 'video')")
        return ": the device exists but OpenCV cannot open it (busy in another program?)"


def _detail(status: ControlStatus) -> str:
    return f" ({status.detail})" if status.detail else ""


def _describe_array(raw: Any) -> str:
    shape = getattr(raw, "shape", None)
    dtype = getattr(raw, "dtype", None)
    return "nothing" if raw is None else f"shape {shape}, dtype {dtype}"
