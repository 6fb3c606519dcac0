"""Staffed desk identity step: the ID photo from a file, a scanner folder or the camera, and
an optional badge or ID number.

The screen only asks; the worker loads and checks the photo (decoding and face detection
take too long for the UI thread) and answers with ``show_photo`` or ``show_error``.
"""

from __future__ import annotations

import math

import cv2
from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal, Slot
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.identity import IdPhoto, number_problem
from kiosk.ui.widgets import BAD, GOOD, BigButton, FlowRow, PreviewWidget, text_label
from kiosk.ui.widgets.common import font

THUMB_PX = 260
#: Smallest side of the thumbnail when a long message needs the height beside the preview.
THUMB_MIN_PX = 48
#: The camera preview's smallest size (px).
PREVIEW_MIN_PX = (240, 180)
PHOTO_FILTER = "Photos (*.jpg *.jpeg *.png *.JPG *.JPEG *.PNG)"
PHOTO_DIALOG_TITLE = "Choose the ID photo"


def photo_dialog(parent: QWidget, folder: str | None) -> QFileDialog:
    """A file dialog for one ID photo that can change no file.

    A staffed desk is left alone at times, and whoever stands there can reach this dialog:
    it is read-only (its Rename, Delete and New Folder, by menu or key, do nothing), lists
    photos only, and its views have no context menu (whose Show hidden files is not for
    them either). Qt's own dialog, so the option holds with or without a desktop.

    Parameters
    ----------
    parent : QWidget
        The identity screen: the dialog is modal to its window.
    folder : str or None
        Where it opens: the scanner drop folder, else the kiosk's working folder.
    """
    dialog = QFileDialog(parent, PHOTO_DIALOG_TITLE, folder or "", PHOTO_FILTER)
    dialog.setOptions(QFileDialog.Option.DontUseNativeDialog | QFileDialog.Option.ReadOnly)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    for view in dialog.findChildren(QAbstractItemView):
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
    return dialog


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


class Thumbnail(QLabel):
    """The ID photo as large as the room its layout leaves, at most ``THUMB_PX`` square.

    A fixed size drew the photo over the message under it when the screen was short of
    height; this one gives way to the message instead. Hidden while there is no photo, so
    the message has the whole column.
    """

    def __init__(self) -> None:
        super().__init__()
        self._photo: IdPhoto | None = None
        self._side = 0  # the side the shown pixmap was drawn for
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(THUMB_MIN_PX, THUMB_MIN_PX)
        self.setMaximumSize(THUMB_PX, THUMB_PX)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.hide()

    # QLabel's hints follow its pixmap; these follow the photo's largest and smallest size.
    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(THUMB_PX, THUMB_PX)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(THUMB_MIN_PX, THUMB_MIN_PX)

    def set_photo(self, photo: IdPhoto | None) -> None:
        """Show the ID photo with its face boxed.

        Parameters
        ----------
        photo : IdPhoto or None
            The checked photo; None clears and hides the thumbnail.
        """
        self._photo = photo
        self._side = 0
        self.setVisible(photo is not None)
        self._draw()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._draw()

    def _draw(self) -> None:
        """Draw the photo again at the label's size: a scaled-down pixmap thins the box."""
        if self._photo is None:
            self.clear()
            return
        side = min(self.width(), self.height())
        if side != self._side:
            self._side = side
            self.setPixmap(thumbnail(self._photo, side))


class IdentityScreen(QWidget):
    """Emits requests (``file_chosen``, ``scan_requested``, ``card_requested``) and then
    ``confirmed`` (read :attr:`photo` and :attr:`number`) or ``cancelled``.

    The file dialog (:func:`photo_dialog`) does not block: :attr:`file_dialog` while it is
    open, closed by :meth:`reset` when the step ends, so it never outlives the step.

    Parameters
    ----------
    scan_folder : str or None
        The scanner drop folder (``--id-folder``); its button is hidden when None, and the
        file dialog opens there when given.
    """

    file_chosen = Signal(str)
    scan_requested = Signal()
    card_requested = Signal()
    confirmed = Signal()
    cancelled = Signal()

    def __init__(self, scan_folder: str | None = None) -> None:
        super().__init__()
        self._scan_folder = scan_folder
        self.file_dialog: QFileDialog | None = None
        self.photo: IdPhoto | None = None
        self._frame_aspect = 4 / 3  # the camera's default 640x480 until a frame says more
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
        # Small enough for the screen to fit 614 px high (1366x768 at 125 %).
        self.preview.setMinimumSize(PREVIEW_MIN_PX[0], PREVIEW_MIN_PX[1])
        self.thumb = Thumbnail()
        self.thumb.setAccessibleName("ID photo")
        self.message = text_label("Load the ID photo to continue.", 18, "Message")
        number_label = text_label("Badge or ID number (optional)", 20, "ID number label",
                                  align=Qt.AlignmentFlag.AlignLeft)
        self.number_edit = QLineEdit()
        self.number_edit.setAccessibleName("Badge or ID number")
        # No maxLength: it cut a pasted number silently and the cut one was hashed. Its cap
        # counts once spaces and dashes are dropped; Continue checks it and says so.
        self.number_edit.setFont(font(22))
        number_label.setBuddy(self.number_edit)
        # Under the field, the whole width: the message beside the photo is too narrow.
        self.number_message = text_label("", 18, "ID number problem",
                                         align=Qt.AlignmentFlag.AlignLeft, colour=BAD)
        self.number_message.hide()
        self.cancel = BigButton("Cancel", "Cancel", description="Stop and go back to the start")
        self.proceed = BigButton("Continue", "Continue", description="Start the live check",
                                 primary=True)
        self.proceed.setEnabled(False)

        self.open_file.clicked.connect(self._on_open_file_clicked)
        self.use_scan.clicked.connect(self._on_request(self.scan_requested))
        self.capture.clicked.connect(self._on_request(self.card_requested))
        self.proceed.clicked.connect(self._on_proceed_clicked)
        self.cancel.clicked.connect(self.cancelled)
        self.number_edit.returnPressed.connect(self._on_number_entered)
        self.number_edit.textEdited.connect(self._on_number_edited)

        self._lay_out(number_label)
        order = [self.open_file, self.use_scan, self.capture, self.number_edit, self.proceed,
                 self.cancel]
        for a, b in zip(order, order[1:], strict=False):
            self.setTabOrder(a, b)
        self.primary = self.open_file

    def _lay_out(self, number_label: QLabel) -> None:
        """Title, photo sources, preview beside the ID photo and its message, number, buttons.

        Parameters
        ----------
        number_label : QLabel
            The number field's caption, placed above it.
        """
        # Wrapped onto two rows on a narrow (portrait) screen: three side by side are 864 px.
        sources = FlowRow(spacing=6)
        for button in (self.open_file, self.use_scan, self.capture):
            sources.addWidget(button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel)
        buttons.addStretch(1)
        buttons.addWidget(self.proceed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 20, 40, 20)
        layout.addWidget(self.title)
        layout.addLayout(sources)
        layout.addLayout(self._photo_row(), 1)
        layout.addWidget(number_label)
        layout.addWidget(self.number_edit)
        layout.addWidget(self.number_message)
        layout.addLayout(buttons)

    def _photo_row(self) -> QHBoxLayout:
        """The preview beside a column of the ID photo over its message.

        The row is short of height (on a 1280x800 screen, and shorter still with the number
        message), so the ID photo and its message sit beside the preview, not under it, and
        the preview is only as wide as its picture at the row's height
        (:meth:`_fit_preview`): the column gets the rest, and the wider it is the fewer
        lines the message wraps into. In the column the message takes the height its text
        needs and the thumbnail shrinks to what is left.
        """
        self.preview.installEventFilter(self)
        # The width comes from the picture's, not from the preview's 640 px hint.
        self.preview.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
        self.message.setMinimumWidth(THUMB_PX)  # a wide camera still leaves the column room
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        column = QVBoxLayout()
        column.setContentsMargins(14, 0, 0, 0)  # text off the picture, drawn to the edge
        column.addWidget(self.thumb, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addWidget(self.message)
        column.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.preview, 1)  # first the picture's width, up to its maximum ...
        row.addLayout(column, 0)        # ... then the column, with all that is left
        return row

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self.preview and event.type() == QEvent.Type.Resize:
            self._fit_preview()
        return super().eventFilter(watched, event)

    def _fit_preview(self) -> None:
        """Cap the preview's width at its picture's for its height.

        The row's height does not depend on the split (the row takes what the rest of the
        screen leaves), so the resize this causes changes only the width, and it settles.
        """
        # Rounded down, the width would make the picture a pixel short of the height.
        width = math.ceil(self.preview.height() * self._frame_aspect)
        self.preview.setMaximumWidth(max(width, self.preview.minimumWidth()))

    @property
    def number(self) -> str:
        return self.number_edit.text().strip()

    def reset(self) -> None:
        """Forget the previous person's photo and number, and close the file dialog: the
        step is over (its time ran out, Cancel, a fault), and the dialog is not for
        whoever comes next."""
        if self.file_dialog is not None:
            self.file_dialog.reject()
        self.photo = None
        self.thumb.set_photo(None)
        self.number_edit.clear()
        self._show_number_problem("")
        self.proceed.setEnabled(False)
        self._say("Load the ID photo to continue.", None)
        self.preview.clear()

    def show_photo(self, photo: IdPhoto) -> None:
        self.photo = photo
        self.thumb.set_photo(photo)
        self.proceed.setEnabled(True)
        self._say(f"ID photo ready ({photo.name}). Press Continue when the person is in "
                  "front of the camera.", GOOD)
        self.proceed.setFocus()

    def show_error(self, message: str) -> None:
        """The photo staff asked for cannot be used. It replaces the one shown, if any: the
        refusal drawn under an earlier photo read as that photo's, and Continue went on with
        the photo staff had meant to replace."""
        self.photo = None
        self.thumb.set_photo(None)
        self.proceed.setEnabled(False)
        self._say(message, BAD)

    def show_frame(self, image) -> None:
        aspect = image.shape[1] / image.shape[0]
        if aspect != self._frame_aspect:  # another camera or resolution: fit its picture
            self._frame_aspect = aspect
            self._fit_preview()
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
        if self.file_dialog is not None:
            return  # open already (modal: its window takes no clicks)
        dialog = photo_dialog(self, self._scan_folder)
        dialog.fileSelected.connect(self._on_file_selected)
        dialog.finished.connect(self._on_dialog_finished)
        self.file_dialog = dialog
        dialog.open()

    @Slot(str)
    def _on_file_selected(self, path: str) -> None:
        self._say("Loading\u2026", None)
        self.file_chosen.emit(path)

    @Slot()
    def _on_dialog_finished(self) -> None:
        dialog, self.file_dialog = self.file_dialog, None
        if dialog is not None:
            dialog.deleteLater()
        # Without a window manager nobody hands the keyboard back to the kiosk window.
        self.window().activateWindow()

    def _on_proceed_clicked(self) -> None:
        """Continue only with a number that can be used (or none): the live check is not
        started for a number the session would refuse, and the photo and number stay."""
        problem = number_problem(self.number)
        self._show_number_problem(problem)
        if problem:
            self.number_edit.setFocus()
            return
        self.confirmed.emit()

    def _on_number_edited(self, _text: str) -> None:
        self._show_number_problem("")  # what it said was about the number as it was

    def _show_number_problem(self, text: str) -> None:
        self.number_message.setText(text)
        self.number_message.setVisible(bool(text))
        self.number_edit.setAccessibleDescription(text)

    def _on_number_entered(self) -> None:
        if self.proceed.isEnabled():
            self.proceed.animateClick()
