"""Staffed desk identity step: the ID photo from a file, a scanner folder or the camera, and
an optional badge or ID number.

The screen only asks; the worker loads and checks the photo (decoding and face detection
take too long for the UI thread) and answers with ``show_photo`` or ``show_error``.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from kiosk.identity import IdPhoto
from kiosk.ui.widgets import BAD, GOOD, BigButton, PreviewWidget, text_label
from kiosk.ui.widgets.common import font

THUMB_PX = 260
PHOTO_FILTER = "Photos (*.jpg *.jpeg *.png *.JPG *.JPEG *.PNG);;All files (*)"


def _choose_file(parent: QWidget) -> str:
    path, _ = QFileDialog.getOpenFileName(
        parent, "Choose the ID photo", "", PHOTO_FILTER,
        options=QFileDialog.Option.DontUseNativeDialog)
    return path


def thumbnail(photo: IdPhoto, side: int = THUMB_PX) -> QPixmap:
    """A small RGB picture of the ID photo with its face boxed."""
    image = photo.image
    scale = side / max(image.shape[:2])
    small = cv2.resize(image, (max(int(image.shape[1] * scale), 1),
                               max(int(image.shape[0] * scale), 1)),
                       interpolation=cv2.INTER_AREA)
    b = photo.box
    cv2.rectangle(small, (int(b.x0 * scale), int(b.y0 * scale)),
                  (int(b.x1 * scale), int(b.y1 * scale)), (132, 220, 61), 2)
    rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    return QPixmap.fromImage(QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy())


class IdentityScreen(QWidget):
    """Emits requests (``file_chosen``, ``scan_requested``, ``card_requested``) and then
    ``confirmed`` (read :attr:`photo` and :attr:`number`) or ``cancelled``.

    Parameters
    ----------
    scan_folder : str or None
        The scanner drop folder (``--id-folder``); its button is hidden when None.
    choose_file : callable, optional
        ``(parent) -> path or ''``; a file dialog by default (tests inject one).
    """

    file_chosen = Signal(str)
    scan_requested = Signal()
    card_requested = Signal()
    confirmed = Signal()
    cancelled = Signal()

    def __init__(self, scan_folder: str | None = None,
                 choose_file: Callable[[QWidget], str] = _choose_file) -> None:
        super().__init__()
        self._choose_file = choose_file
        self.photo: IdPhoto | None = None
        self.title = text_label("Staff: check the ID", 36, "Title", bold=True)
        self.open_file = BigButton("Open photo file\u2026", "Open ID photo file",
                                   description="Choose the ID photo from a file")
        self.use_scan = BigButton("Use latest scan", "Use latest scan",
                                  description="Load the newest image from the scanner folder")
        self.use_scan.setVisible(scan_folder is not None)
        self.capture = BigButton("Capture ID card", "Capture ID card with the camera",
                                 description="Hold only the ID card up to the camera, then "
                                             "press")
        self.preview = PreviewWidget()
        self.preview.setMinimumSize(320, 240)
        self.thumb = QLabel()
        self.thumb.setFixedSize(THUMB_PX, THUMB_PX)
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumb.setAccessibleName("ID photo")
        self.message = text_label("Load the ID photo to continue.", 18, "Message")
        number_label = text_label("Badge or ID number (optional)", 20, "ID number label",
                                  align=Qt.AlignmentFlag.AlignLeft)
        self.number_edit = QLineEdit()
        self.number_edit.setAccessibleName("Badge or ID number")
        self.number_edit.setMaxLength(64)
        self.number_edit.setFont(font(22))
        number_label.setBuddy(self.number_edit)
        self.cancel = BigButton("Cancel", "Cancel", description="Stop and go back to the start")
        self.proceed = BigButton("Continue", "Continue", description="Start the live check",
                                 primary=True)
        self.proceed.setEnabled(False)

        self.open_file.clicked.connect(self._on_open_file_clicked)
        self.use_scan.clicked.connect(self._on_request(self.scan_requested))
        self.capture.clicked.connect(self._on_request(self.card_requested))
        self.proceed.clicked.connect(self.confirmed)
        self.cancel.clicked.connect(self.cancelled)
        self.number_edit.returnPressed.connect(self._on_number_entered)

        sources = QHBoxLayout()
        for button in (self.open_file, self.use_scan, self.capture):
            sources.addWidget(button)
        grid = QGridLayout()
        grid.addWidget(self.preview, 0, 0, 2, 1)
        grid.addWidget(self.thumb, 0, 1)
        grid.addWidget(self.message, 1, 1)
        grid.setColumnStretch(0, 2)
        grid.setColumnStretch(1, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel)
        buttons.addStretch(1)
        buttons.addWidget(self.proceed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 20, 40, 20)
        layout.addWidget(self.title)
        layout.addLayout(sources)
        layout.addLayout(grid, 1)
        layout.addWidget(number_label)
        layout.addWidget(self.number_edit)
        layout.addLayout(buttons)
        order = [self.open_file, self.use_scan, self.capture, self.number_edit, self.proceed,
                 self.cancel]
        for a, b in zip(order, order[1:], strict=False):
            self.setTabOrder(a, b)
        self.primary = self.open_file

    @property
    def number(self) -> str:
        return self.number_edit.text().strip()

    def reset(self) -> None:
        """Forget the previous person's photo and number."""
        self.photo = None
        self.thumb.clear()
        self.number_edit.clear()
        self.proceed.setEnabled(False)
        self._say("Load the ID photo to continue.", None)
        self.preview.clear()

    def show_photo(self, photo: IdPhoto) -> None:
        self.photo = photo
        self.thumb.setPixmap(thumbnail(photo))
        self.proceed.setEnabled(True)
        self._say(f"ID photo ready ({photo.name}). Press Continue when the person is in "
                  "front of the camera.", GOOD)
        self.proceed.setFocus()

    def show_error(self, message: str) -> None:
        self._say(message, BAD)

    def show_frame(self, image) -> None:
        self.preview.set_frame(image)

    def _say(self, text: str, colour) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("" if colour is None else f"color: {colour.name()};")

    def _on_request(self, signal):
        def emit() -> None:
            self._say("Loading\u2026", None)
            signal.emit()
        return emit

    def _on_open_file_clicked(self) -> None:
        path = self._choose_file(self)
        if path:
            self._say("Loading\u2026", None)
            self.file_chosen.emit(path)

    def _on_number_entered(self) -> None:
        if self.proceed.isEnabled():
            self.proceed.animateClick()
