"""The mirrored camera preview with the oval guide.

The picture is scaled and mirrored with OpenCV (released GIL, about 2 ms for a 1440x1080
target) into a 32-bit buffer that QPainter copies without conversion, so a frame costs the UI
thread a few milliseconds at most. The oval is the session's placement target
(:func:`kiosk.analysis.guidance.target_oval`) drawn mirrored with the picture: dashed amber
until the face is placed, then solid green (the two colours are about as bright, so the line's
pattern says it too).
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from kiosk.analysis.guidance import Oval, target_oval
from kiosk.ui.widgets.common import ATTENTION, GOOD


def fit_size(frame_w: int, frame_h: int, box_w: int, box_h: int) -> tuple[int, int]:
    """The largest (w, h) with the frame's aspect ratio inside (box_w, box_h), at least 1x1."""
    if frame_w <= 0 or frame_h <= 0:
        raise ValueError(f"frame size must be positive, got {frame_w}x{frame_h}")
    scale = min(box_w / frame_w, box_h / frame_h)
    return max(int(frame_w * scale), 1), max(int(frame_h * scale), 1)


def mirrored_bgra(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` (H, W, 3) uint8 BGR resized to ``size`` (w, h), mirrored, as (h, w, 4) BGRA.

    BGRA bytes are Qt's ``Format_RGB32`` on little-endian machines, so painting needs no
    conversion.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be (H, W, 3) uint8, got {image.shape} {image.dtype}")
    w, h = size
    resized = cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.cvtColor(cv2.flip(resized, 1), cv2.COLOR_BGR2BGRA)


class PreviewWidget(QWidget):
    """Draws the newest camera frame mirrored, with the oval guide.

    ``frames_shown`` counts the frames handed to :meth:`set_frame` and ``paints`` the
    repaints, for the benchmark.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Camera preview")
        self.setAccessibleDescription("Your picture, as in a mirror, with an oval to put your "
                                      "face in")
        self._pixels: np.ndarray | None = None
        self._image: QImage | None = None
        self._ok = False
        self._oval: Oval | None = None
        self._frame_shape: tuple[int, int] | None = None
        self.frames_shown = 0
        self.paints = 0

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(640, 480)

    def clear(self) -> None:
        self._pixels = None
        self._image = None
        self._ok = False
        self.update()

    def set_guidance_ok(self, ok: bool) -> None:
        """Green oval when the face is placed."""
        if ok != self._ok:
            self._ok = ok
            self.update()

    def set_oval(self, oval: Oval | None) -> None:
        """The placement target in the unmirrored frame's pixels (None: the default one for
        the frame shown)."""
        if oval != self._oval:
            self._oval = oval
            self.update()

    def oval_rect(self) -> QRectF | None:
        """Where the oval is drawn, in widget pixels, mirrored with the picture."""
        rect = self.picture_rect()
        if rect is None or self._frame_shape is None:
            return None
        h, w = self._frame_shape
        oval = self._oval if self._oval is not None else target_oval((h, w))
        cx, cy, rx, ry = oval.ellipse()
        scale = rect.width() / w
        mirrored_cx = w - cx
        return QRectF(rect.x() + (mirrored_cx - rx) * scale, rect.y() + (cy - ry) * scale,
                      2 * rx * scale, 2 * ry * scale)

    def set_frame(self, image: np.ndarray) -> None:
        """Show ``image`` (H, W, 3) uint8 BGR, unmirrored as the camera delivers it."""
        w, h = fit_size(image.shape[1], image.shape[0], self.width(), self.height())
        self._frame_shape = (int(image.shape[0]), int(image.shape[1]))
        self._pixels = mirrored_bgra(image, (w, h))
        # The QImage borrows the buffer; self._pixels keeps it alive until the next frame.
        self._image = QImage(self._pixels.data, w, h, 4 * w, QImage.Format.Format_RGB32)
        self.frames_shown += 1
        self.update()

    def picture_rect(self) -> QRectF | None:
        """Where the picture is drawn, in widget pixels (None before the first frame)."""
        if self._image is None:
            return None
        w, h = self._image.width(), self._image.height()
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def oval_pen(self, width: float) -> QPen:
        """The oval's line: solid green when the face is placed, dashed amber until then."""
        pen = QPen(GOOD if self._ok else ATTENTION, width)
        if not self._ok:
            pen.setStyle(Qt.PenStyle.DashLine)
        return pen

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        self.paints += 1
        rect = self.picture_rect()
        if rect is None or self._image is None:
            return
        p = QPainter(self)
        p.drawImage(rect.topLeft(), self._image)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        oval = self.oval_rect()
        if oval is not None:
            p.setPen(self.oval_pen(max(rect.width() / 110, 3)))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(oval)
        p.end()
