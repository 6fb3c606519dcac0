"""What the out-of-service screen promises depends on what failed."""

from __future__ import annotations

import logging
import re

import pytest

from kiosk.ui.app import STARTING as STARTING_REASON
from kiosk.ui.screens.out_of_service import OutOfServiceScreen
from kiosk.vocabulary import FaultCause
from kiosk.wording import (
    OUT_OF_SERVICE_FIX,
    OUT_OF_SERVICE_RESTART,
    OUT_OF_SERVICE_RESTARTING,
    OUT_OF_SERVICE_RETRY,
    OUT_OF_SERVICE_WAIT,
)


@pytest.mark.parametrize(("causes", "supervised", "promise"), [
    ({FaultCause.CAMERA}, False, OUT_OF_SERVICE_RETRY),   # a camera comes back by itself
    ({FaultCause.CAMERA}, True, OUT_OF_SERVICE_RETRY),
    ({FaultCause.AUDIT}, False, OUT_OF_SERVICE_WAIT),     # a lost or altered log needs staff
    ({FaultCause.AUDIT, FaultCause.CAMERA}, False, OUT_OF_SERVICE_WAIT),
    ({FaultCause.RECORDING}, False, OUT_OF_SERVICE_WAIT),  # `kiosk record`: staff free space
    ({FaultCause.CONFIG, FaultCause.AUDIT}, False, OUT_OF_SERVICE_FIX),
    ({FaultCause.STARTUP}, True, OUT_OF_SERVICE_FIX),     # a model or matcher that cannot load
    ({FaultCause.INTERNAL, FaultCause.CAMERA}, False, OUT_OF_SERVICE_RESTART),
    ({FaultCause.INTERNAL, FaultCause.CONFIG}, True, OUT_OF_SERVICE_RESTARTING),
])
def test_the_promise_matches_the_cause(qtbot, causes, supervised, promise):
    screen = OutOfServiceScreen()
    qtbot.addWidget(screen)
    screen.set_reason("audit: the audit log /x/kiosk.db is gone", causes=frozenset(causes),
                      restarting=supervised)
    assert screen.retry.text() == promise


#: What staff need and the public must not read: a reason for each cause, as the parts of the
#: kiosk word them (the paths, keys, values and exception texts the audit's t05 read there).
DETAILS = {
    FaultCause.CAMERA: "cannot open camera 0: no such video device (/sys/class/video4linux "
                       "does not list it; check the cable and `kiosk cameras`)",
    FaultCause.AUDIT: "audit.db_path /nonexistent/secret/place/kiosk.db: the folder "
                      "/nonexistent/secret/place does not exist",
    FaultCause.RECORDING: "only 1861 MB free on /srv/recordings; a session needs 2048 MB",
    FaultCause.CONFIG: "/etc/liveness-kiosk/kiosk.toml: liveness.confidence_threshold = 20.0 "
                       "is out of range; allowed: float from 50 to 100",
    FaultCause.STARTUP: "face matcher unavailable: [Errno 2] No such file or directory: "
                        "'/opt/models/shape_predictor.dat'",
    FaultCause.SESSION: "the verification stopped responding",
    FaultCause.INTERNAL: "internal error in the kiosk window; see "
                         "/home/kiosk/.local/share/liveness-kiosk/logs/kiosk.log",
}
#: Words of each detail that must not reach the public screen.
HIDDEN = {
    FaultCause.CAMERA: ["video4linux", "camera 0", "no such video device"],
    FaultCause.AUDIT: ["db_path", "nonexistent", "does not exist"],
    FaultCause.RECORDING: ["1861", "recordings;", "2048"],
    FaultCause.CONFIG: ["kiosk.toml", "confidence_threshold", "20.0", "out of range"],
    FaultCause.STARTUP: ["Errno", "No such file", "shape_predictor"],
    FaultCause.SESSION: ["stopped responding"],
    FaultCause.INTERNAL: ["kiosk window;", ".local", "kiosk.log"],
}
#: The class of fault the public screen names instead.
CLASS = {FaultCause.CAMERA: "the camera", FaultCause.AUDIT: "the audit log",
         FaultCause.RECORDING: "recordings", FaultCause.CONFIG: "the settings",
         FaultCause.STARTUP: "start", FaultCause.SESSION: "the verification",
         FaultCause.INTERNAL: "software"}


def public_text(screen) -> str:
    """Everything the out-of-service screen shows."""
    from PySide6.QtWidgets import QLabel

    text = " ".join(label.text() for label in screen.findChildren(QLabel)
                    if label.isVisibleTo(screen))
    return text.replace("\u2011", "-").replace("\u00a0", " ")  # commands kept unbroken


def assert_only_the_class_shows(text: str, cause: str) -> None:
    assert "/" not in text, text                       # no path
    assert not re.search(r"\b[a-z]+\.[a-z_]+\b", text), text   # no settings key (a.b)
    for word in HIDDEN[cause]:
        assert word not in text, (word, text)
    assert CLASS[cause] in text, text
    assert re.search(r"\bsince \d\d:\d\d\b", text), text
    assert "kiosk's log" in text, text


@pytest.mark.parametrize("cause", [c for c in DETAILS if c != FaultCause.CONFIG])
def test_the_public_screen_names_the_fault_not_its_detail(qtbot, window_for, settings, caplog,
                                                          cause):
    window = window_for(settings)
    with caplog.at_level(logging.WARNING):
        window.fault(cause, DETAILS[cause])
    assert window.current_screen() is window.out_of_service
    assert_only_the_class_shows(public_text(window.out_of_service), cause)
    assert DETAILS[cause] in caplog.text  # staff read it in the log


def test_a_fault_is_logged_once_however_its_retries_word_it(qtbot, window_for, settings,
                                                            caplog):
    """The camera's part logs each retry itself; the window logs when the fault began."""
    window = window_for(settings)
    with caplog.at_level(logging.WARNING, logger="kiosk.ui.app"):
        for wait_s in (1, 2, 4):
            window.fault(FaultCause.CAMERA, f"cannot open camera 0; retrying in {wait_s}.0 s")
    assert caplog.text.count("out of service (camera)") == 1
    assert "retrying in 1.0 s" in caplog.text


def test_a_settings_error_names_the_settings_and_the_command_that_prints_it(qtbot, caplog):
    from kiosk.ui.app import KioskWindow

    with caplog.at_level(logging.WARNING):
        window = KioskWindow(None, None, failure=DETAILS[FaultCause.CONFIG])
    qtbot.addWidget(window)
    window.show()
    text = public_text(window.out_of_service)
    assert_only_the_class_shows(text, FaultCause.CONFIG)
    assert "kiosk settings" in text
    assert DETAILS[FaultCause.CONFIG] in caplog.text


def test_the_operator_escape_there_shows_no_exception_text(qtbot, caplog):
    """Ctrl+Alt+O without an audit log: the panel cannot open, and says so plainly."""
    from kiosk.ui.app import KioskWindow

    window = KioskWindow(None, None, failure=DETAILS[FaultCause.CONFIG])
    qtbot.addWidget(window)
    window.show()
    with caplog.at_level(logging.WARNING):
        window.escape.activated.emit()
    status = window.out_of_service.status.text()
    assert status.startswith("Operator panel unavailable")
    assert "not open" not in status and "kiosk's log" in status
    assert "the audit log is not open" in caplog.text


def test_the_time_is_when_the_fault_began(qtbot):
    from datetime import datetime, timedelta

    now = datetime(2026, 12, 7, 15, 0).astimezone()
    screen = OutOfServiceScreen(clock=lambda: now)
    qtbot.addWidget(screen)
    camera = frozenset({FaultCause.CAMERA})
    screen.set_reason(DETAILS[FaultCause.CAMERA], causes=camera,
                      since=now.replace(hour=9, minute=5))
    assert f"since 09:05 {now.tzname()}." in screen.reason.text()
    assert screen.detail == DETAILS[FaultCause.CAMERA]  # kept for staff's tools, not drawn
    screen.set_reason("", causes=camera, since=now - timedelta(days=1, hours=6))
    assert "since 6 Dec 09:00" in screen.reason.text()  # not today's: the day too
    assert f"since 6 Dec 09:00 {now.tzname()}." in screen.reason.text()
    screen.set_reason(STARTING_REASON, starting=True, causes=frozenset({FaultCause.STARTUP}))
    assert screen.reason.text() == ""  # nothing has failed
