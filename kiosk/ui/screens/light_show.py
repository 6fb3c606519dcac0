"""The light challenge on screen: a colour sequence wiped down the live screen, with the times
each colour was actually shown.

The session draws the sequence (times from 0, colours as RGB); :class:`LightShow` paints it on
a target widget and reports, when it is over, the *painted* sequence: for each colour, the
monotonic time at which the wipe had covered the whole screen and the X server had it
(:meth:`QGuiApplication.sync` after a synchronous repaint), and the time the next colour
started to replace it. The analysis compares the face's colour with these times, never with
the times that were asked for: a busy UI thread paints late, and a late paint judged against
the requested time would look like a face that answers late.

The wipe runs top to bottom in :data:`WIPE_S`, as the public descriptions of production
systems do; segments last 350 ms or more, so at most three full-screen changes happen in any
second (WCAG 2.3.1), which the UI test checks from the painted times.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import QWidget

WIPE_S = 0.1
"""Seconds a new colour takes to wipe down the screen (six frames of a 60 Hz display)."""

TICK_MS = 8
"""Timer interval while the sequence runs: half a 60 Hz frame, so no change waits a frame."""

MIN_CHANGE_S = 1.0 / 3.0
"""Least time between two full-screen changes (WCAG 2.3.1: at most three flashes in any
second). The sequences already keep to it; this holds it even after a stalled UI thread,
which would otherwise catch up with two changes in quick succession."""


@dataclass(frozen=True)
class PaintedColour:
    """One colour as it was shown: fully on screen from ``start`` to ``end`` (monotonic
    seconds), ``rgb`` 0-255."""

    start: float
    end: float
    rgb: tuple[int, int, int]


@dataclass(frozen=True)
class Wash:
    """What the target paints now: ``current`` covers the top ``covered`` share of its height,
    ``previous`` the rest (None: the screen's own background)."""

    previous: QColor | None
    current: QColor | None
    covered: float


class LightShow(QObject):
    """Paints a colour sequence on ``target`` (which asks :attr:`wash` in its paintEvent).

    Signals: ``finished(tuple[PaintedColour, ...])`` once the last colour has left the
    screen; nothing when :meth:`stop` cut it short.

    Parameters
    ----------
    target : QWidget
        Repainted synchronously at every change.
    clock : callable
        Monotonic seconds, the frames' clock (``time.monotonic``).
    """

    finished = Signal(object)

    def __init__(self, target: QWidget, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(target)
        self._target = target
        self._clock = clock
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._segments: list[tuple[float, float, tuple[int, int, int]]] = []
        self._t0 = 0.0
        self._index = -1
        self._wipe_from = 0.0
        self._wash = Wash(None, None, 0.0)
        # segment index -> [fully shown at, replaced from]; a segment a stalled UI thread
        # skipped entirely is simply absent (never reported as shown).
        self._painted: dict[int, list[float]] = {}

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    @property
    def wash(self) -> Wash:
        return self._wash

    def start(self, segments: Sequence[tuple[float, float, tuple[int, int, int]]]) -> None:
        """Show ``segments`` ((start, end, rgb) in seconds from now, in order) from now on."""
        ordered = [(float(a), float(b), tuple(int(c) for c in rgb))
                   for a, b, rgb in segments]
        if not ordered or any(b <= a for a, b, _ in ordered) or any(
                b[0] < a[1] - 1e-9 for a, b in zip(ordered, ordered[1:], strict=False)):
            raise ValueError("segments must be non-empty, each with end > start, in order "
                             "and not overlapping")
        self._segments = ordered  # type: ignore[assignment]
        self._index = -1
        self._painted = {}
        self._t0 = self._clock()
        self._timer.start()
        self._tick()

    def stop(self) -> None:
        """End now without reporting (the session was cancelled); the screen is cleared."""
        self._timer.stop()
        self._set(Wash(None, None, 0.0))

    def _tick(self) -> None:
        now = self._clock()
        elapsed = now - self._t0
        index = next((i for i, (a, b, _) in enumerate(self._segments) if a <= elapsed < b),
                     None)
        if index is None and elapsed >= self._segments[-1][1]:
            self._finish()
            return
        if index is not None and index != self._index and (
                self._index < 0 or now - self._wipe_from >= MIN_CHANGE_S):
            self._close(now)  # the previous colour starts to go
            previous = self._wash.current
            self._index, self._wipe_from = index, now
            self._wash = Wash(previous, QColor(*self._segments[index][2]), 0.0)
        if self._index < 0 or self._index in self._painted:
            return  # before the first segment, or this colour is already fully shown
        covered = min((now - self._wipe_from) / WIPE_S, 1.0)
        self._set(Wash(self._wash.previous, self._wash.current, covered))
        if covered >= 1.0:
            self._painted[self._index] = [self._clock()]

    def _close(self, now: float) -> None:
        shown = self._painted.get(self._index)
        if shown is not None and len(shown) == 1:
            shown.append(now)

    def _set(self, wash: Wash) -> None:
        self._wash = wash
        self._target.repaint()
        QGuiApplication.sync()  # the X server has the picture before the time is taken

    def _finish(self) -> None:
        self._timer.stop()
        self._close(self._clock())
        self._set(Wash(None, None, 0.0))
        painted = tuple(PaintedColour(times[0], times[1], self._segments[i][2])
                        for i, times in sorted(self._painted.items()))
        self.finished.emit(painted)
