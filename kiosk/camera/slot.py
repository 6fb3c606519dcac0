"""The latest-frame slot: a one-frame mailbox between the camera thread and its consumer.

The producer never waits and the consumer always gets the newest frame: a frame that was not
taken before the next one arrived is replaced and counted as dropped. Nothing queues without
bound, so a slow consumer (the analysis worker) sees fresh frames instead of old ones.
"""

from __future__ import annotations

import threading

from kiosk.model import Frame


class LatestFrameSlot:
    """A thread-safe one-frame mailbox.

    ``put`` replaces any frame still waiting (counted in :attr:`dropped`); ``get`` waits for
    a frame newer than the last one taken. After :meth:`close`, ``get`` returns the frame
    still waiting, then None at once; ``put`` is ignored.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._closed = False
        self._put = 0
        self._taken = 0
        self._dropped = 0

    def put(self, frame: Frame) -> bool:
        """Offer the newest frame; never blocks.

        Returns
        -------
        bool
            True when an untaken older frame was replaced (dropped).
        """
        with self._cond:
            if self._closed:
                return False
            dropped = self._frame is not None
            if dropped:
                self._dropped += 1
            self._frame = frame
            self._put += 1
            self._cond.notify_all()
            return dropped

    def get(self, timeout: float | None = None) -> Frame | None:
        """Take the newest frame, waiting up to ``timeout`` seconds (None: wait forever).

        Returns
        -------
        Frame or None
            None on timeout, or when the slot is closed and empty (see :attr:`closed`).
        """
        with self._cond:
            self._cond.wait_for(lambda: self._frame is not None or self._closed, timeout)
            return self._take()

    def get_nowait(self) -> Frame | None:
        """Take the waiting frame, or None when there is none."""
        with self._cond:
            return self._take()

    def _take(self) -> Frame | None:
        frame, self._frame = self._frame, None
        if frame is not None:
            self._taken += 1
        return frame

    def close(self) -> None:
        """No more frames will come: wake every waiting ``get``."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed

    @property
    def dropped(self) -> int:
        """Frames replaced before anyone took them."""
        with self._cond:
            return self._dropped

    @property
    def put_count(self) -> int:
        """Frames offered while open."""
        with self._cond:
            return self._put

    @property
    def taken(self) -> int:
        """Frames handed to consumers."""
        with self._cond:
            return self._taken
