"""The analysis worker: newest camera frame -> face tracking -> guidance, off the UI thread.

The worker lives in its own QThread. It owns the capture thread (plain threading, from
kiosk.camera) and the face tracker, which is created inside the worker thread so MediaPipe's
graph is only used from one thread. The UI thread only receives signals and draws.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QImage

from kiosk.analysis.guidance import guidance
from kiosk.camera import CaptureThread, FrameSource, LatestFrameSlot
from kiosk.errors import KioskError

log = logging.getLogger(__name__)

# How long the worker waits for a frame before it checks whether it should stop.
POLL_S = 0.2


@dataclass(frozen=True)
class PreviewFrame:
    """What the live screen draws: the mirrored picture and the face box in its coordinates."""

    image: QImage
    box: tuple[float, float, float, float] | None
    guidance_code: str
    guidance_text: str


def mirrored_qimage(image: np.ndarray) -> QImage:
    """A mirrored RGB QImage of a BGR frame (H, W, 3) uint8; it owns its pixels."""
    rgb = cv2.cvtColor(cv2.flip(image, 1), cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class AnalysisWorker(QObject):
    """Runs in a QThread; ``run`` loops until :meth:`stop`.

    Parameters
    ----------
    source : FrameSource
        The camera, or a video file / image folder in its place.
    tracker_factory : callable
        Builds the face tracker inside the worker thread (``kiosk.analysis.face.FaceTracker``).
    loop_finite : bool
        Start a finite source again when it ends (demos on a video file).
    """

    frame_ready = Signal(object)
    camera_failed = Signal(str)
    camera_recovered = Signal()
    stopped = Signal()

    def __init__(self, source: FrameSource, tracker_factory: Callable[[], object],
                 loop_finite: bool = True) -> None:
        super().__init__()
        self._source = source
        self._tracker_factory = tracker_factory
        self._loop_finite = loop_finite
        self._stop = threading.Event()
        self._failing = False

    def stop(self) -> None:
        """Ask the loop to end; safe from any thread."""
        self._stop.set()

    def _on_capture_error(self, exc: Exception) -> None:
        # Called from the capture thread; Qt queues the signal to the UI thread.
        self._failing = True
        self.camera_failed.emit(str(exc))

    def _start_capture(self) -> CaptureThread:
        capture = CaptureThread(self._source, LatestFrameSlot(), on_error=self._on_capture_error)
        capture.start()
        return capture

    @Slot()
    def run(self) -> None:
        capture = None
        try:
            tracker = self._tracker_factory()
        except KioskError as exc:
            self.camera_failed.emit(f"face tracker unavailable: {exc}")
            self.stopped.emit()
            return
        try:
            capture = self._start_capture()
            while not self._stop.is_set():
                frame = capture.slot.get(timeout=POLL_S)
                if frame is None:
                    if not capture.is_alive() and not self._stop.is_set():
                        if capture.error is not None or not self._loop_finite:
                            self.camera_failed.emit(str(capture.error or "video source ended"))
                            self._stop.wait(1.0)
                        capture = self._start_capture()
                    continue
                if self._failing:
                    self._failing = False
                    self.camera_recovered.emit()
                obs = tracker.observe(frame)
                hint = guidance(obs)
                box = None
                if obs.face is not None:
                    x0, y0, x1, y1 = obs.face.box
                    w = frame.shape[1]
                    box = (w - x1, y0, w - x0, y1)  # mirrored like the picture
                self.frame_ready.emit(PreviewFrame(mirrored_qimage(frame.image), box,
                                                   hint.code, hint.message))
        finally:
            if capture is not None:
                capture.stop()
            close = getattr(tracker, "close", None)
            if close is not None:
                close()
            self.stopped.emit()
