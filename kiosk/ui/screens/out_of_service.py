"""Out of service: a plain message for the public, a line for staff, and that the kiosk
keeps retrying: a camera that comes back clears by itself; an audit log fault usually needs
staff (a log gone, altered or keyed otherwise), so the kiosk only says it starts again once the
fault is put right. A configuration error or a part that cannot be built (a model, the staffed
desk's matcher) needs staff to correct the set-up. An internal error (a bug) needs a restart:
staff's, or the service manager's when the kiosk runs under one.

The screen stands in public, often unattended: staff's line names the class of fault and
when it began, and where the detail is (the kiosk's log); never the detail itself, whose
paths, settings and error texts tell a passer-by how the kiosk is built."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

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
    out_of_service_for_staff,
)

STARTING_TITLE = "Starting"
STARTING_ADVICE = "The kiosk is getting ready. One moment, please."


def _local_now() -> datetime:
    return datetime.now().astimezone()


class OutOfServiceScreen(QWidget):
    """The screen while the kiosk cannot serve anyone (or is still starting).

    Parameters
    ----------
    clock : callable
        The local time now (aware), for the time staff's line names.
    """

    def __init__(self, clock: Callable[[], datetime] = _local_now) -> None:
        super().__init__()
        self._clock = clock
        self.detail = ""
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
                   causes: frozenset[str] = frozenset(), restarting: bool = False,
                   since: datetime | None = None) -> None:
        """Say why the kiosk is out of service.

        Parameters
        ----------
        reason : str
            The detail for staff: kept in :attr:`detail`, never shown (the window logs it).
        starting : bool
            The kiosk is still loading: nothing has failed, and staff are told nothing.
        causes : frozenset of str
            The active :class:`~kiosk.vocabulary.FaultCause` values: staff's line names
            their class, and they decide the promise: an internal error needs a restart, a
            configuration or start-up fault a correction; an audit log fault, or no room
            left for `kiosk record`'s sessions, clears once it is put right, a camera fault
            by itself.
        restarting : bool
            The kiosk is about to exit for its service manager to start it again.
        since : datetime or None
            When the oldest of ``causes`` began (local, aware); None: now.
        """
        self.detail = reason
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
        now = self._clock()
        self.reason.setText("" if starting else
                            out_of_service_for_staff(causes, since or now, now))

    def set_status(self, text: str) -> None:
        self.status.setText(text)
