"""Whether another X client's window covers the kiosk's, asked of the X server.

Qt tells its window when it is minimised, unmapped or loses the keyboard, but not when
another client's window is stacked over it: only the X server keeps the stacking order. A
window that covers the kiosk without taking the keyboard (a notification, a file manager a
desktop opens on a USB stick) is found here. Qt-free: xcffib through :mod:`kiosk.ui.xclient`,
on a connection of its own (Qt's is Qt's).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from kiosk.ui.xclient import open_display, xcb

log = logging.getLogger(__name__)

#: ``GetWindowAttributes``' map state of a window that is mapped and whose parents are.
VIEWABLE = 2
#: The class of a window that draws (an input-only window covers nothing).
INPUT_OUTPUT = 1


class XStacking:
    """The X server's stacking order of the root window's children.

    Parameters
    ----------
    xcffib : module
        The ``xcffib`` module (:func:`kiosk.ui.xclient.xcb`), for its errors.
    connection : xcffib.Connection
        Owned from now on: :meth:`close` closes it.
    """

    def __init__(self, xcffib: ModuleType, connection: Any) -> None:
        self._unanswered = xcffib.XcffibException
        self._x = connection
        self._root = connection.get_setup().roots[connection.pref_screen].root

    @classmethod
    def open(cls) -> XStacking | None:
        """Connect to the display Qt's xcb platform opened (libxcb reads ``DISPLAY`` as it
        does for Qt); None without libxcb or a display (logged)."""
        module = xcb()
        if module is None:
            return None
        connection, why = open_display(None)
        if connection is None:
            log.warning("cannot ask the X server what covers the kiosk: %s", why)
            return None
        try:
            return cls(module, connection)
        except module.XcffibException as exc:
            connection.disconnect()
            log.warning("cannot ask the X server what covers the kiosk: %s", exc)
            return None

    def close(self) -> None:
        self._x.disconnect()

    def cover(self, window: int, own: Iterable[int] = ()) -> int | None:
        """The topmost window stacked over ``window`` that overlaps it, or None.

        Parameters
        ----------
        window : int
            The kiosk's X window (Qt's ``winId()``).
        own : iterable of int
            The kiosk's other windows (a dialog, a tooltip): none of them is a cover.

        Returns
        -------
        int or None
            The covering window (under a window manager, the frame around it); None also
            when the server could not answer (a window went away meanwhile: asked again
            next time).
        """
        try:
            return self._cover(window, own)
        except self._unanswered as exc:
            log.debug("stacking order not read: %r", exc)
            return None

    def _cover(self, window: int, own: Iterable[int]) -> int | None:
        top = self._top_level(window)
        stack = list(self._x.core.QueryTree(self._root).reply().children)  # bottom first
        if top not in stack:
            return None  # reparented between the two questions: asked again next time
        above = stack[stack.index(top) + 1:]
        if not above:
            return None
        mine = {self._top_level(w) for w in own}
        box = self._box(top)
        for other in reversed(above):
            if other not in mine and self._draws(other) and _overlap(box, self._box(other)):
                return other
        return None

    def _top_level(self, window: int) -> int:
        """``window``'s ancestor among the root's children (itself without a window
        manager; the frame a reparenting one put around it)."""
        while True:
            parent = self._x.core.QueryTree(window).reply().parent
            if parent == self._root:
                return window
            window = parent

    def _draws(self, window: int) -> bool:
        attributes = self._x.core.GetWindowAttributes(window).reply()
        return attributes.map_state == VIEWABLE and attributes._class == INPUT_OUTPUT

    def _box(self, window: int) -> tuple[int, int, int, int]:
        """``(left, top, right, bottom)`` in the root's pixels, border included."""
        g = self._x.core.GetGeometry(window).reply()
        return (g.x, g.y, g.x + g.width + 2 * g.border_width,
                g.y + g.height + 2 * g.border_width)


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
