"""All the kiosk's screens in one stacked widget, shown by flow state."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QStackedWidget, QWidget

from kiosk.settings import Settings
from kiosk.ui.screens.consent import ConsentScreen
from kiosk.ui.screens.identity import IdentityScreen
from kiosk.ui.screens.idle import IdleScreen
from kiosk.ui.screens.live import LiveScreen
from kiosk.ui.screens.out_of_service import OutOfServiceScreen
from kiosk.ui.screens.processing import ProcessingScreen
from kiosk.ui.screens.result import ResultScreen
from kiosk.vocabulary import FlowState
from kiosk.wording import consent_text


class ScreenStack(QStackedWidget):
    """The screens, one per :class:`~kiosk.vocabulary.FlowState`; the operator panel joins
    while it is open.

    The stack is as small as the screen it shows allows (:meth:`minimumSizeHint`), not as
    large as the largest of all of them: Qt's stack takes the largest minimum of its pages,
    and the staff's identity step (864 px wide, in the stack even at an unattended kiosk)
    made the window wider than a portrait screen.

    Parameters
    ----------
    settings : Settings
    scan_folder : str or None
        Scanner drop folder offered by the identity step.
    """

    def __init__(self, settings: Settings, scan_folder: str | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.idle = IdleScreen(settings)
        self.consent = ConsentScreen(consent_text(settings))
        self.identity = IdentityScreen(scan_folder)
        self.live = LiveScreen()
        self.processing = ProcessingScreen()
        self.result = ResultScreen()
        self.out_of_service = OutOfServiceScreen()
        self._panel: Any = None
        for screen in self.pages().values():
            self.addWidget(screen)
        self.currentChanged.connect(self._on_current_changed)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        """The shown page's minimum only (a hidden page's cannot cut anything)."""
        page = self.currentWidget()
        if page is None:
            return super().minimumSizeHint()
        return page.minimumSizeHint().expandedTo(page.minimumSize())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        page = self.currentWidget()
        return super().sizeHint() if page is None else page.sizeHint()

    def _on_current_changed(self, _index: int) -> None:
        self.updateGeometry()  # the window asks for the new page's minimum

    def pages(self) -> dict[str, QWidget]:
        """The widget shown in each state."""
        pages: dict[str, QWidget] = {
            FlowState.IDLE: self.idle, FlowState.CONSENT: self.consent,
            FlowState.IDENTITY: self.identity, FlowState.LIVE: self.live,
            FlowState.PROCESSING: self.processing, FlowState.RESULT: self.result,
            FlowState.OUT_OF_SERVICE: self.out_of_service}
        if self._panel is not None:
            pages[FlowState.OPERATOR] = self._panel
        return pages

    @property
    def panel(self) -> Any:
        """The open operator panel, or None."""
        return self._panel

    def set_panel(self, panel: Any) -> Any:
        """Add the operator panel (None removes it); returns the panel that was there."""
        old, self._panel = self._panel, panel
        if old is not None:
            self.removeWidget(old)
        if panel is not None:
            self.addWidget(panel)
        return old

    def show_state(self, state: str) -> QWidget:
        """Show the screen of ``state`` (out of service for an unknown one) and focus its
        primary control."""
        page = self.pages().get(state, self.out_of_service)
        self.setCurrentWidget(page)
        primary = getattr(page, "primary", None)
        if primary is not None:
            primary.setFocus(Qt.FocusReason.OtherFocusReason)
        return page
