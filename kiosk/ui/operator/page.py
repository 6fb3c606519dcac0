"""The base of the operator pages that read or change the audit log through the runner."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from kiosk.operator import OperatorContext
from kiosk.ui.operator.tasks import TaskRunner


class OperatorPage(QWidget):
    """A page of the operator panel.

    Parameters
    ----------
    context : OperatorContext
        The Qt-free logic the page shows and drives.
    runner : TaskRunner
        Runs every database call off the UI thread.
    operator_name : callable
        Returns the name typed in the panel's header (recorded with every change).
    """

    def __init__(self, context: OperatorContext, runner: TaskRunner,
                 operator_name: Callable[[], str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self._runner = runner
        self._operator_name = operator_name
