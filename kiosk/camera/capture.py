"""The camera thread: reads a :class:`FrameSource` into a :class:`LatestFrameSlot`.

Plain ``threading`` (no Qt): the GUI worker takes the newest frame from the slot, and turns
the error callback into a Qt signal itself.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable

from kiosk.camera.health import CameraHealth
from kiosk.camera.slot import LatestFrameSlot
from kiosk.camera.source import FrameSource
from kiosk.errors import KioskError
from kiosk.logrepeat import RepeatGate

log = logging.getLogger(__name__)

ErrorCallback = Callable[[Exception], None]



class CaptureThread(threading.Thread):
    """Reads frames from ``source`` into ``slot`` until stopped or the source ends.

    Parameters
    ----------
    source : FrameSource
        Opened by the thread (``open()`` is idempotent) and closed by it when it ends, so
        the capture object is only ever touched from this thread.
    slot : LatestFrameSlot, optional
        Where frames go; a new slot by default (see :attr:`slot`). Closed when the thread ends.
    on_error : callable, optional
        ``on_error(exc)``, called **from the capture thread** with each error: a
        :class:`~kiosk.errors.KioskError` from the source, or an unexpected exception.
    retry_s : float
        Wait before retrying a live source that failed and gives no ``retry_in`` of its own.
    clock : callable
        Monotonic seconds, for logging a repeated error at most every
        :data:`kiosk.logrepeat.REPEAT_LOG_S`
        (``on_error`` still gets every one).

    Notes
    -----
    A live source (``is_live``) that raises :class:`~kiosk.errors.KioskError` is retried:
    the thread waits the source's ``retry_in`` (its reconnection backoff) or ``retry_s``,
    interruptibly, and reads again. A finite source that raises, or any unexpected exception,
    ends the thread; the error stays in :attr:`error`. ``stop()`` returns within about one
    blocking ``read()`` of the source (one frame interval; for a stalled V4L2 device up to
    OpenCV's select timeout).
    """

    def __init__(self, source: FrameSource, slot: LatestFrameSlot | None = None, *,
                 on_error: ErrorCallback | None = None, retry_s: float = 0.5,
                 name: str = "kiosk-capture",
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(name=name, daemon=True)
        # An unplugged camera is retried every few seconds all night: the same error is
        # logged again only every REPEAT_LOG_S (cleared when a frame comes through).
        self._logged = RepeatGate(clock=clock)
        self._source = source
        self._slot = slot if slot is not None else LatestFrameSlot()
        self._on_error = on_error
        self._retry_s = retry_s
        self._stop_event = threading.Event()
        self._lock = threading.Lock()
        self._error: Exception | None = None
        self._finished = False

    @property
    def source(self) -> FrameSource:
        return self._source

    @property
    def slot(self) -> LatestFrameSlot:
        return self._slot

    @property
    def error(self) -> Exception | None:
        """The latest error (None when there was none); kept after a recovery."""
        with self._lock:
            return self._error

    @property
    def finished(self) -> bool:
        """True when a finite source reached its end normally."""
        return self._finished

    @property
    def health(self) -> CameraHealth:
        """The source's health, with the frames the slot dropped added to ``dropped``."""
        health = self._source.health
        return dataclasses.replace(health, dropped=health.dropped + self._slot.dropped)

    def stop(self, timeout: float | None = 5.0) -> bool:
        """Ask the thread to stop and wait for it; True when it has ended."""
        self._stop_event.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)
        return not self.is_alive()

    def run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # a bug in a source must not die silently in a thread
            log.exception("camera thread failed")
            self._report(exc)
        finally:
            try:
                self._source.close()
            finally:
                self._slot.close()

    def _loop(self) -> None:
        opened = False
        while not self._stop_event.is_set():
            try:
                if not opened:
                    opened = True
                    self._source.open()
                frame = self._source.read()
            except KioskError as exc:
                self._report(exc)
                if not self._source.is_live:
                    return
                self._stop_event.wait(self._retry_delay())
                continue
            if frame is None:
                self._finished = True
                return
            ended = self._logged.clear()
            if ended is not None:
                log.warning("camera: working again (after: %s)", ended)
            self._slot.put(frame)

    def _retry_delay(self) -> float:
        retry_in = getattr(self._source, "retry_in", None)
        if isinstance(retry_in, (int, float)):
            return max(float(retry_in), 0.01)  # never spin on a source that is "due now"
        return self._retry_s

    def _report(self, exc: Exception) -> None:
        with self._lock:
            self._error = exc
        text = str(exc)
        if self._logged.due(text):
            log.warning("camera: %s", text)
        else:
            log.debug("camera: %s (again)", text)
        if self._on_error is not None:
            try:
                self._on_error(exc)
            except Exception:
                log.exception("camera error callback failed")
