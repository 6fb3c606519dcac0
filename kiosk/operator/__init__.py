"""The operator panel's logic, without Qt: PIN, attempts, lockouts, settings, camera, audit.

``kiosk.ui.operator`` only renders what :class:`OperatorContext` returns, and runs its
methods off the UI thread.
"""

from kiosk.operator.attempts import (
    DECISION_FILTERS,
    AttemptDetail,
    AttemptFilter,
    AttemptPage,
    AttemptRow,
    SignalLine,
    TimelineStep,
)
from kiosk.operator.camera import CameraChoice, CameraStatus
from kiosk.operator.charts import ChartData
from kiosk.operator.context import PANEL_ACTOR, OperatorContext, SettingsChange, check_who
from kiosk.operator.pin import EMPTY_HINT, MAX_WRONG, REFUSAL, PinResult
from kiosk.operator.settings_edit import EDITABLE, SettingField
from kiosk.operator.verify import VerifyOutcome
from kiosk.operator.zone import start_of_day

__all__ = [
    "DECISION_FILTERS", "EDITABLE", "EMPTY_HINT", "MAX_WRONG", "PANEL_ACTOR", "REFUSAL",
    "AttemptDetail", "AttemptFilter", "AttemptPage", "AttemptRow", "CameraChoice",
    "CameraStatus", "ChartData", "OperatorContext", "PinResult", "SettingField",
    "SettingsChange", "SignalLine", "TimelineStep", "VerifyOutcome", "check_who", "start_of_day",
]
