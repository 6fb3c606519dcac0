"""The kiosk's screens, one thin widget per module; their state lives in kiosk.flow."""

from kiosk.ui.screens.consent import ConsentScreen
from kiosk.ui.screens.identity import IdentityScreen
from kiosk.ui.screens.idle import IdleScreen
from kiosk.ui.screens.live import LiveScreen
from kiosk.ui.screens.out_of_service import OutOfServiceScreen
from kiosk.ui.screens.processing import ProcessingScreen
from kiosk.ui.screens.result import ResultScreen

__all__ = ["ConsentScreen", "IdentityScreen", "IdleScreen", "LiveScreen",
           "OutOfServiceScreen", "ProcessingScreen", "ResultScreen"]
