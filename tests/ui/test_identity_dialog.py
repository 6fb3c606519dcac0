"""The staffed desk's file dialog for the ID photo: read-only, photos only, not blocking,
opened in the scanner folder, and gone with the identity step.

The audit (t06) found Qt's own dialog opened by a blocking static call: anyone at a desk whose
staff stepped away could rename, delete and make folders from its context menu, and the
dialog stayed open over the idle screen after the identity step timed out.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractItemView, QApplication, QFileDialog, QToolButton

from kiosk.vocabulary import FaultCause, FlowState
from tests.ui.harness import FixedMatcher, match

#: Longer than any test below waits with the dialog open: on a blocking dialog (the code
#: before) the click would never return, and the test would hang instead of failing.
RESCUE_MS = 3000


def staffed(window_for, settings, tmp_path, **options):
    scans = tmp_path / "scans"
    scans.mkdir(exist_ok=True)
    window = window_for(settings.replace("kiosk", mode="staffed"),
                        matcher=FixedMatcher(match(True)), scan_folder=str(scans), **options)
    window.flow.start()
    window.flow.accept()
    assert window.current_screen() is window.identity
    return window, scans


def open_dialog(qtbot, window) -> QFileDialog:
    """Click "Open photo file..." as staff do; the dialog it opened."""
    rescue = QTimer()
    rescue.setSingleShot(True)
    rescue.timeout.connect(lambda: _reject(QApplication.activeModalWidget()))
    rescue.start(RESCUE_MS)
    qtbot.mouseClick(window.identity.open_file, Qt.MouseButton.LeftButton)
    assert rescue.isActive(), "the click waited for the dialog to close: it blocks"
    rescue.stop()
    dialog = window.identity.file_dialog
    assert isinstance(dialog, QFileDialog) and dialog.isVisible()
    return dialog


def _reject(widget) -> None:
    if widget is not None:
        widget.reject()


def shown_dialogs() -> list[QFileDialog]:
    return [w for w in QApplication.topLevelWidgets()
            if isinstance(w, QFileDialog) and w.isVisible()]


def test_the_dialog_can_change_no_file(qtbot, window_for, settings, tmp_path):
    window, scans = staffed(window_for, settings, tmp_path)
    dialog = open_dialog(qtbot, window)
    assert dialog.testOption(QFileDialog.Option.ReadOnly)
    # Qt's own dialog, the same with or without a desktop: the read-only option is Qt's.
    assert dialog.testOption(QFileDialog.Option.DontUseNativeDialog)
    for name in ("qt_rename_action", "qt_delete_action"):  # by the menu or a key
        action = dialog.findChild(QAction, name)
        assert action is not None and not action.isEnabled(), name
    new_folder = dialog.findChild(QToolButton, "newFolderButton")
    assert new_folder is not None and not new_folder.isEnabled()
    # No context menu at all: the one place New Folder is offered besides its button (and
    # Show hidden files, not for the public either).
    views = dialog.findChildren(QAbstractItemView)
    assert views and all(v.contextMenuPolicy() == Qt.ContextMenuPolicy.NoContextMenu
                         for v in views)
    assert dialog.fileMode() == QFileDialog.FileMode.ExistingFile
    # Photos only, no "All files (*)".
    filters = " ".join(dialog.nameFilters())
    assert "*.jpg" in filters and "*.png" in filters and "(*)" not in filters
    assert dialog.directory().absolutePath() == str(scans)
    dialog.reject()


def test_a_photo_chosen_in_the_dialog_is_loaded(qtbot, window_for, settings, tmp_path):
    window, scans = staffed(window_for, settings, tmp_path)
    photo = scans / "id.png"
    cv2.imwrite(str(photo), np.full((200, 160, 3), 120, np.uint8))
    dialog = open_dialog(qtbot, window)
    dialog.selectFile(str(photo))
    dialog.accept()
    qtbot.waitUntil(lambda: window.identity.photo is not None, timeout=5000)
    assert window.identity.file_dialog is None and not shown_dialogs()


def test_the_dialog_is_closed_when_the_identity_step_times_out(qtbot, window_for, settings,
                                                               tmp_path):
    """Looked at from a timer, so that a dialog that blocks (the code before) is seen too:
    the flow returned to idle and the dialog stayed over the idle screen."""
    window, _ = staffed(window_for, settings, tmp_path)
    window.flow.config = dataclasses.replace(window.flow.config, identity_timeout_s=1.0)
    seen: dict[str, object] = {}

    def look() -> None:
        seen.update(state=window.flow.state, dialogs=len(shown_dialogs()))
        _reject(QApplication.activeModalWidget())  # a blocking dialog returns, to fail below

    QTimer.singleShot(2000, look)
    qtbot.mouseClick(window.identity.open_file, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert seen == {"state": FlowState.IDLE, "dialogs": 0}
    assert window.identity.file_dialog is None


@pytest.mark.parametrize("ending", ["cancel", "fault"])
def test_the_dialog_goes_with_the_identity_step(qtbot, window_for, settings, tmp_path, ending):
    window, _ = staffed(window_for, settings, tmp_path)
    open_dialog(qtbot, window)
    if ending == "cancel":
        window.identity.cancelled.emit()  # the screen's Cancel (the dialog blocks its window)
        assert window.flow.state == FlowState.IDLE
    else:
        window.fault(FaultCause.CAMERA, "unplugged")
        assert window.flow.state == FlowState.OUT_OF_SERVICE
    assert window.identity.file_dialog is None
    assert not shown_dialogs()
