"""The operator panel (PySide6): PIN dialog and pages over :class:`kiosk.operator.OperatorContext`.

Open it with ``PinDialog(context)``; when accepted, show ``OperatorPanel(context)`` and hide it
again on its ``closed`` signal.
"""

from kiosk.ui.operator.charts_page import BarChart
from kiosk.ui.operator.panel import OperatorPanel
from kiosk.ui.operator.pin_dialog import PinDialog
from kiosk.ui.operator.tasks import TaskRunner, UiThreadGarbageCollector

__all__ = ["BarChart", "OperatorPanel", "PinDialog", "TaskRunner", "UiThreadGarbageCollector"]
