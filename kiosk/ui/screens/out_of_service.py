"""Out of service: a plain message for the public, the reason for staff, and that the kiosk
keeps retrying: a camera that comes back clears by itself; an audit log fault usually needs
staff (a log gone, altered or keyed otherwise), so the kiosk only says it starts again once the
fault is put right. A configuration error or a part that cannot be built (a model, the staffed
desk's matcher) needs staff to correct the set-up. An internal error (a bug) needs a restart:
staff's, or the service manager's when the kiosk runs under one."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from kiosk.ui.widgets import ATTENTION, IconWidget, text_label
from kiosk.vocabulary import FaultCause
from kiosk.wording import (
    OUT_OF_SERVICE_ADVICE,
    OUT_OF_SERVICE_FIX,
    OUT_OF_SERVICE_RESTART,
    OUT_OF_SERVICE_RESTARTING,
    OUT_OF_SERVICE_RETRY,
    OUT_OF_SERVICE_TITLE,
    OUT_OF_SERVICE_WAIT,
)

STARTING_TITLE = "Starting"
STARTING_ADVICE = "The kiosk is getting ready. One moment, please."


class OutOfServiceScreen(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.icon = IconWidget("staff", ATTENTION, size=150)
        self.title = text_label(OUT_OF_SERVICE_TITLE, 44, "Title", bold=True)
        self.advice = text_label(OUT_OF_SERVICE_ADVICE, 26, "Advice")
        self.retry = text_label(OUT_OF_SERVICE_RETRY, 18, "Retrying")
        self.reason = text_label("", 16, "Reason for staff")
        self.status = text_label("", 16, "Status message")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(80, 40, 80, 40)
        layout.addStretch(1)
        for widget in (self.icon, self.title, self.advice, self.retry):
            layout.addWidget(widget)
        layout.addStretch(1)
        layout.addWidget(self.reason)
        layout.addWidget(self.status)
        self.primary = None

    def set_reason(self, reason: str, *, starting: bool = False,
                   causes: frozenset[str] = frozenset(), restarting: bool = False) -> None:
        """``starting``: the kiosk is still loading, nothing has failed. ``causes`` decide what
        staff are told: an internal error needs a restart (``restarting``: the kiosk is about
        to exit for its service manager to start it again), a configuration or start-up fault
        a correction; an audit log fault, or no room left for `kiosk record`'s sessions,
        clears once it is put right, a camera fault by itself."""
        self.title.setText(STARTING_TITLE if starting else OUT_OF_SERVICE_TITLE)
        self.advice.setText(STARTING_ADVICE if starting else OUT_OF_SERVICE_ADVICE)
        internal = FaultCause.INTERNAL in causes
        self.retry.setText(OUT_OF_SERVICE_RESTARTING if internal and restarting else
                           OUT_OF_SERVICE_RESTART if internal else
                           OUT_OF_SERVICE_FIX if causes & {FaultCause.CONFIG,
                                                           FaultCause.STARTUP} else
                           OUT_OF_SERVICE_WAIT if causes & {FaultCause.AUDIT,
                                                            FaultCause.RECORDING} else
                           OUT_OF_SERVICE_RETRY)
        self.retry.setVisible(not starting)
        self.reason.setText("" if starting else f"For staff: {reason}")

    def set_status(self, text: str) -> None:
        self.status.setText(text)
