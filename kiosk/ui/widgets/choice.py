"""A large toggle button whose state is said in words as well as in colour."""

from __future__ import annotations

from kiosk.ui.widgets.common import BigButton


class ChoiceButton(BigButton):
    """A checkable :class:`BigButton` that shows ``label_on`` while chosen.

    The state must not rest on colour alone (the checked style is green): the words change
    with it.
    """

    def __init__(self, label: str, label_on: str, *, description: str = "") -> None:
        super().__init__(label, label, description=description)
        self._labels = (label, label_on)
        self.setCheckable(True)
        self.toggled.connect(self._on_toggled)

    def show_choice(self, on: bool) -> None:
        """Show the choice made elsewhere (emits ``toggled`` only when it changes)."""
        if self.isChecked() != on:
            self.setChecked(on)

    def _on_toggled(self, on: bool) -> None:
        self.setText(self._labels[on])
