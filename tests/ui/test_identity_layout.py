"""The staff's ID step at 1280x800 and 1920x1080 (offscreen): in every state no widget
overlaps another or sticks out, no text is cut, the ID photo gives way to its message and
the camera preview keeps its whole picture."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import combinations
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QWidget

from kiosk.cloud.detect import single_face
from kiosk.cloud.errors import NoFaceInImage
from kiosk.cloud.results import FaceBox
from kiosk.identity import IdPhoto, IdPhotoError, check_photo_quality
from kiosk.reasons import Reason
from kiosk.ui.screens.identity import THUMB_MIN_PX, THUMB_PX, IdentityScreen
from kiosk.ui.widgets import STYLE_SHEET
from kiosk.ui.widgets.preview import fit_size
from tests.ui.geometry import layout_faults

SIZES = [(1280, 800), (1920, 1080)]
CAMERA = (480, 640)  # the default camera frame, (H, W)
PHOTO_NAME = "scan-0412.jpg"
QUALITY_CODES = (Reason.ID_PHOTO_TOO_SMALL, Reason.ID_PHOTO_BLURRED, Reason.ID_PHOTO_DARK,
                 Reason.ID_PHOTO_NOT_FRONTAL)


def no_face_message() -> str:
    """What staff read for a photo with no face (two or three lines beside the preview)."""
    try:
        single_face([], f"the ID photo {PHOTO_NAME}")
    except NoFaceInImage as exc:
        return str(exc)
    raise AssertionError("single_face found a face in no boxes")


def quality_message() -> str:
    """The longest refusal: the quality gate finds every problem with the photo."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("kiosk.identity.photo_gate", lambda image, box, aligner: (
            QUALITY_CODES, SimpleNamespace(interocular=10.0)))
        try:
            check_photo_quality(np.zeros((8, 8, 3), np.uint8), FaceBox(0, 0, 8, 8),
                                SimpleNamespace(aligner=object()),
                                f"the ID photo {PHOTO_NAME}")
        except IdPhotoError as exc:
            return str(exc)
    raise AssertionError("the quality gate passed the photo")


def id_photo() -> IdPhoto:
    """A portrait card photo, as a scanner gives one."""
    return IdPhoto(np.full((400, 320, 3), 128, np.uint8), FaceBox(60, 40, 260, 330), "scan",
                   PHOTO_NAME)


def show_number_problem(screen: IdentityScreen) -> None:
    """A number past the cap and Continue: the red message under the field."""
    screen.number_edit.setText("A" * 500)
    screen.proceed.click()
    assert screen.number_message.isVisible()


def show_id_photo(screen: IdentityScreen) -> None:
    screen.show_photo(id_photo())


def show_photo_and_number_problem(screen: IdentityScreen) -> None:
    show_id_photo(screen)
    show_number_problem(screen)


def show_number_and_refusal(screen: IdentityScreen) -> None:
    """The tallest column: a photo kept, another one refused, the number message."""
    show_photo_and_number_problem(screen)
    screen.show_error(quality_message())


#: Each state of the screen, reached from a reset one with the camera running.
STATES: dict[str, Callable[[IdentityScreen], None]] = {
    "no photo yet": lambda screen: None,
    "photo ready": show_id_photo,
    "no face": lambda screen: screen.show_error(no_face_message()),
    "quality refused": lambda screen: screen.show_error(quality_message()),
    "number problem": show_photo_and_number_problem,
    "number problem, photo kept, another refused": show_number_and_refusal,
}


def settle(screen: IdentityScreen) -> None:
    """Run the event loop until the layout stops moving (the preview's fit takes a pass)."""
    before: list[QRect] = []
    for _ in range(20):
        QApplication.processEvents()
        now = [w.geometry() for w in screen.findChildren(QWidget)]
        if now == before:
            return
        before = now
    raise AssertionError("the layout did not settle")


@pytest.fixture(params=SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def screen(request: Any, qtbot: Any) -> Iterator[IdentityScreen]:
    """The ID step with the kiosk's style sheet (it sets the buttons' and field's height),
    full screen, the camera running, with a scanner folder (all three source buttons)."""
    widget = IdentityScreen("/srv/id-scans")
    qtbot.addWidget(widget)
    widget.setStyleSheet(STYLE_SHEET)
    widget.resize(*request.param)
    widget.show()
    qtbot.waitExposed(widget)
    widget.reset()
    widget.show_frame(np.zeros((*CAMERA, 3), np.uint8))
    yield widget


def leaves(root: QWidget) -> list[QWidget]:
    """The visible widgets under ``root`` with no visible widget inside them."""
    shown = [w for w in root.findChildren(QWidget) if w.isVisibleTo(root)]
    return [w for w in shown if not any(k.parentWidget() is w for k in shown)]


def on_screen(widget: QWidget) -> QRect:
    return QRect(widget.mapToGlobal(widget.rect().topLeft()), widget.size())


def name(widget: QWidget) -> str:
    return widget.accessibleName() or type(widget).__name__


def overlaps(root: QWidget) -> list[str]:
    """Each pair of visible leaf widgets whose rectangles share a pixel."""
    return [f"{name(a)} {on_screen(a).getRect()} overlaps {name(b)} {on_screen(b).getRect()}"
            for a, b in combinations(leaves(root), 2) if on_screen(a).intersects(on_screen(b))]


def cut_text(root: QWidget) -> list[str]:
    """Labels and buttons smaller than their text needs."""
    faults = []
    for widget in leaves(root):
        if isinstance(widget, QLabel) and widget.text():
            need = widget.heightForWidth(widget.width()) if widget.wordWrap() else \
                widget.sizeHint().height()
            if widget.height() < need or not widget.wordWrap() and \
                    widget.width() < widget.sizeHint().width():
                faults.append(f"{name(widget)} {widget.size().toTuple()} cuts its text "
                              f"({need} px high needed)")
        elif isinstance(widget, QAbstractButton) and (
                widget.width() < widget.minimumSizeHint().width()
                or widget.height() < widget.sizeHint().height()):
            faults.append(f"{name(widget)} {widget.size().toTuple()} cuts its text")
    return faults


@pytest.mark.parametrize("state", STATES)
def test_no_widget_overlaps_another_and_no_text_is_cut(screen: IdentityScreen,
                                                       state: str) -> None:
    STATES[state](screen)
    settle(screen)
    # Before: the fixed 260 px ID photo overlapped its message beside the preview (by 24 px
    # at 1280x800, by 86 px with the number message) and a refusal's text was cut.
    assert overlaps(screen) == []
    assert cut_text(screen) == []
    assert layout_faults(screen) == []  # nothing sticks out of the screen either


@pytest.mark.parametrize("state", STATES)
def test_the_preview_keeps_its_whole_picture(screen: IdentityScreen, state: str) -> None:
    """The row is short of height, not of width: the picture fills the preview's height,
    and the ID photo's column beside it takes only the width the picture leaves."""
    STATES[state](screen)
    settle(screen)
    preview = screen.preview
    width, height = fit_size(CAMERA[1], CAMERA[0], preview.width(), preview.height())
    assert height == preview.height() and preview.width() - width <= 1
    # And the column beside it fits in the preview's height.
    assert screen.message.geometry().bottom() <= preview.geometry().bottom()


@pytest.mark.parametrize("state", ["photo ready", "number problem"])
def test_the_id_photo_shows_whole_and_as_large_as_there_is_room(screen: IdentityScreen,
                                                                state: str) -> None:
    STATES[state](screen)
    settle(screen)
    thumb, pixmap = screen.thumb, screen.thumb.pixmap()
    assert thumb.isVisible() and not pixmap.isNull()
    assert pixmap.width() <= thumb.width() and pixmap.height() <= thumb.height()
    room = screen.message.geometry().top() - screen.preview.geometry().top()
    # The full size when it fits over the message, else all the height the message leaves.
    assert pixmap.height() >= min(THUMB_PX, room - 2 * screen.layout().spacing())
    assert pixmap.height() >= THUMB_MIN_PX


def test_a_wide_camera_picture_is_fitted_too(screen: IdentityScreen) -> None:
    """A 16:9 camera: the preview widens to its picture and the column still fits."""
    show_number_and_refusal(screen)
    screen.show_frame(np.zeros((720, 1280, 3), np.uint8))
    settle(screen)
    preview = screen.preview
    width, height = fit_size(1280, 720, preview.width(), preview.height())
    assert height == preview.height() and preview.width() - width <= 1
    assert overlaps(screen) == [] and cut_text(screen) == []


def test_without_a_photo_the_message_has_the_whole_column(screen: IdentityScreen) -> None:
    screen.show_photo(id_photo())
    screen.reset()
    settle(screen)
    assert not screen.thumb.isVisible() and screen.thumb.pixmap().isNull()
    assert screen.message.geometry().top() == screen.preview.geometry().top()


def test_a_refused_photo_replaces_the_one_shown(screen: IdentityScreen) -> None:
    screen.show_photo(id_photo())
    assert screen.proceed.isEnabled()
    screen.show_error(no_face_message())
    settle(screen)
    assert screen.photo is None and not screen.proceed.isEnabled()
    assert not screen.thumb.isVisible()  # the refusal is not drawn under the old photo
    assert screen.message.text() == no_face_message()
