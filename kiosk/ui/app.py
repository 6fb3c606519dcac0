"""The kiosk window: a live screen and an out-of-service screen, composed in a stack.

The window does no computer vision and no I/O: the :class:`AnalysisWorker` in its own thread
sends it frames and guidance, and it only draws.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, QThread, Slot
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QLabel, QMainWindow, QStackedWidget, QVBoxLayout, QWidget

from kiosk.ui.worker import AnalysisWorker, PreviewFrame

BACKGROUND = "#101418"
FOREGROUND = "#ffffff"
GOOD, ATTENTION = QColor("#3ddc84"), QColor("#ffb300")


def _label(text: str, point_size: int, name: str) -> QLabel:
    label = QLabel(text)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    font = QFont()
    font.setPointSize(point_size)
    label.setFont(font)
    label.setAccessibleName(name)
    return label


class LiveScreen(QWidget):
    """Mirrored preview with an oval guide and one line of guidance in large text."""

    def __init__(self) -> None:
        super().__init__()
        self.preview = QLabel()
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(320, 240)
        self.preview.setAccessibleName("Camera preview")
        self.guidance = _label("Starting the camera...", 28, "Guidance")
        layout = QVBoxLayout(self)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.guidance)

    def show_frame(self, frame: PreviewFrame) -> None:
        pixmap = QPixmap.fromImage(frame.image)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = pixmap.width(), pixmap.height()
        colour = GOOD if frame.guidance_code == "OK" else ATTENTION
        painter.setPen(QPen(colour, max(3, w // 160)))
        # The oval guide: where a face of comfortable size sits (see analysis.guidance).
        painter.drawEllipse(QRectF(w * 0.32, h * 0.12, w * 0.36, h * 0.70))
        painter.end()
        self.preview.setPixmap(pixmap.scaled(self.preview.size(),
                                             Qt.AspectRatioMode.KeepAspectRatio,
                                             Qt.TransformationMode.SmoothTransformation))
        self.guidance.setText(frame.guidance_text)


class OutOfServiceScreen(QWidget):
    """Shown when the camera, the database or the configuration fails; the reason is for staff."""

    def __init__(self) -> None:
        super().__init__()
        self.title = _label("Out of service", 40, "Out of service")
        self.advice = _label("Please ask a member of staff for help.", 24, "Advice")
        self.reason = _label("", 14, "Reason for staff")
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        for widget in (self.title, self.advice, self.reason):
            layout.addWidget(widget)
        layout.addStretch(1)

    def set_reason(self, reason: str) -> None:
        self.reason.setText(f"For staff: {reason}")


class MainWindow(QMainWindow):
    """Composes the screens and routes the worker's signals to them.

    Parameters
    ----------
    worker : AnalysisWorker or None
        Started in its own thread by :meth:`start`; None when the kiosk cannot run at all
        (e.g. a bad configuration), in which case ``failure`` is shown.
    failure : str
        Reason shown on the out-of-service screen when there is no worker.
    """

    def __init__(self, worker: AnalysisWorker | None, failure: str = "") -> None:
        super().__init__()
        self.setWindowTitle("Liveness kiosk")
        self.setStyleSheet(f"background: {BACKGROUND}; color: {FOREGROUND};")
        self.live = LiveScreen()
        self.out_of_service = OutOfServiceScreen()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.live)
        self.stack.addWidget(self.out_of_service)
        self.setCentralWidget(self.stack)
        self._worker = worker
        self._thread: QThread | None = None
        if worker is None:
            self._on_camera_failed(failure or "the kiosk could not start")

    def start(self) -> None:
        """Start the worker thread (if any)."""
        if self._worker is None or self._thread is not None:
            return
        self._thread = QThread(self)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.frame_ready.connect(self._on_frame_ready)
        self._worker.camera_failed.connect(self._on_camera_failed)
        self._worker.camera_recovered.connect(self._on_camera_recovered)
        self._worker.stopped.connect(self._thread.quit)
        self._thread.start()

    def shutdown(self) -> None:
        """Stop the worker and wait for its thread."""
        if self._worker is not None:
            self._worker.stop()
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait(5000)
            self._thread = None

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.shutdown()
        super().closeEvent(event)

    @Slot(object)
    def _on_frame_ready(self, frame: PreviewFrame) -> None:
        if self.stack.currentWidget() is not self.live:
            self.stack.setCurrentWidget(self.live)
        self.live.show_frame(frame)

    @Slot(str)
    def _on_camera_failed(self, reason: str) -> None:
        self.out_of_service.set_reason(reason)
        self.stack.setCurrentWidget(self.out_of_service)

    @Slot()
    def _on_camera_recovered(self) -> None:
        self.stack.setCurrentWidget(self.live)
