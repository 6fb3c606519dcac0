"""The staff's way into the operator panel on a touch screen: a long press on a corner.

Ctrl+Alt+O needs a keyboard, and a kiosk with only a touch screen has none. A finger held
still for :data:`HOLD_S` seconds on the screen's top-left corner (a :data:`CORNER_PX`
square, where no control is) opens the same PIN dialog; the PIN still guards the panel, and
a dialog nobody answers cancels itself after a minute. Nobody presses a blank corner that
long by chance; a person who does meets a PIN prompt, as with the keys.

This module has no Qt (the window's event filter, :class:`kiosk.ui.escape.CornerHoldFilter`,
feeds it): positions are the kiosk window's pixels, times the monotonic clock's seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Seconds a finger must stay on the corner.
HOLD_S = 5.0
#: Side (px) of the corner's square: about 2.5 cm on a 96-dpi screen, so a finger finds it.
CORNER_PX = 96
#: A finger moves a little while held: more than this (px) and it is a swipe, not a hold.
SLOP_PX = 32


@dataclass
class CornerHold:
    """One finger's long press on the top-left corner.

    :meth:`press` starts a hold when it lands in the corner, :meth:`move` and a second
    finger (:meth:`cancel`) end it, :meth:`release` too; :meth:`due` says, once, that it has
    lasted ``hold_s``.
    """

    hold_s: float = HOLD_S
    corner_px: int = CORNER_PX
    slop_px: int = SLOP_PX
    _at: tuple[float, float] | None = None
    _since: float | None = None

    @property
    def holding(self) -> bool:
        """A finger is on the corner now."""
        return self._at is not None

    def in_corner(self, x: float, y: float) -> bool:
        return 0 <= x < self.corner_px and 0 <= y < self.corner_px

    def press(self, x: float, y: float, now: float) -> bool:
        """A finger (or the mouse button) went down at ``(x, y)``; True when in the corner."""
        if not self.in_corner(x, y):
            self.cancel()
            return False
        self._at, self._since = (x, y), now
        return True

    def move(self, x: float, y: float) -> None:
        """The finger moved: more than the slop, or out of the corner, ends the hold."""
        if self._at is None:
            return
        x0, y0 = self._at
        if abs(x - x0) > self.slop_px or abs(y - y0) > self.slop_px or not self.in_corner(x, y):
            self.cancel()

    def release(self) -> None:
        self.cancel()

    def cancel(self) -> None:
        self._at, self._since = None, None

    def due(self, now: float) -> bool:
        """True once the hold has lasted ``hold_s`` (the hold then ends: one dialog a press)."""
        if self._since is None or now - self._since < self.hold_s - 1e-3:
            return False
        self.cancel()
        return True
