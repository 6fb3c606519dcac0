"""Run the operator context's calls off the UI thread and deliver results on it.

Every database read and write of the panel goes through :class:`TaskRunner`: a private
QThreadPool with one thread (so the operator's actions reach the database in the order they
were made), and signals that Qt queues back to the UI thread, where the callbacks run.

Python's cyclic garbage collector runs in whichever thread happens to allocate. If it runs in
a pool thread and frees the last reference to a Qt widget caught in a reference cycle, the
widget is destroyed off the UI thread and the process crashes (seen here: a segfault in
``Garbage-collecting`` during a database job, about one run in eight of the panel tests).
:class:`UiThreadGarbageCollector` moves collection to the UI thread; the application should
install one for as long as it has worker threads.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal, Slot

from kiosk.errors import KioskError

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[str], None]


class TaskRunner(QObject):
    """Runs jobs on a one-thread pool; ``on_done``/``on_error`` run on the UI thread.

    A job that raises a :class:`KioskError` or ``ValueError`` reports its message; any other
    exception is logged with its traceback and reported as an unexpected error, so the panel
    stays up whatever happens in a job.
    """

    task_finished = Signal(int, object)
    task_failed = Signal(int, str)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._next_id = 0
        self._pending: dict[int, tuple[Done, Failed]] = {}
        self.task_finished.connect(self._on_task_finished)
        self.task_failed.connect(self._on_task_failed)

    @property
    def busy(self) -> bool:
        """True while a job is queued or running, or its result is not yet delivered."""
        return bool(self._pending)

    def run(self, job: Callable[[], Any], on_done: Done, on_error: Failed) -> int:
        """Queue ``job``; return its task id."""
        self._next_id += 1
        task_id = self._next_id
        self._pending[task_id] = (on_done, on_error)
        if len(self._pending) == 1:
            self.busy_changed.emit(True)
        self._pool.start(lambda: self._work(task_id, job))
        return task_id

    def _work(self, task_id: int, job: Callable[[], Any]) -> None:
        # Runs in the pool thread: only emit, never touch widgets.
        try:
            result = job()
        except (KioskError, ValueError) as exc:
            self._emit(self.task_failed, task_id, str(exc))
        except Exception as exc:  # noqa: BLE001 - the panel must survive any failure
            log.exception("operator panel task failed")
            self._emit(self.task_failed, task_id, f"unexpected error: {exc}")
        else:
            self._emit(self.task_finished, task_id, result)

    @staticmethod
    def _emit(signal: Any, *args: Any) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the runner was deleted while the job ran
            log.debug("operator panel task finished after its panel was deleted")

    def _take(self, task_id: int) -> tuple[Done, Failed] | None:
        callbacks = self._pending.pop(task_id, None)
        if not self._pending:
            self.busy_changed.emit(False)
        return callbacks

    @Slot(int, object)
    def _on_task_finished(self, task_id: int, result: object) -> None:
        callbacks = self._take(task_id)
        if callbacks is not None:
            callbacks[0](result)

    @Slot(int, str)
    def _on_task_failed(self, task_id: int, message: str) -> None:
        callbacks = self._take(task_id)
        if callbacks is not None:
            callbacks[1](message)

    def wait(self, msecs: int = 10000) -> bool:
        """Block until queued jobs have run (their results are delivered later)."""
        return self._pool.waitForDone(msecs)


class UiThreadGarbageCollector(QObject):
    """Turn off automatic garbage collection and collect on the UI thread from a timer.

    The generation thresholds are those Python had; a collection runs only when they are
    exceeded, as automatic collection would, but always on the thread that owns the widgets.
    Call :meth:`stop` to restore automatic collection.

    Parameters
    ----------
    interval_ms : int
        How often the counts are checked.
    """

    def __init__(self, interval_ms: int = 500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    @Slot()
    def check(self) -> None:
        """Collect the generations whose counts passed their thresholds."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self._thresholds[generation]:
                gc.collect(generation)
                return

    def stop(self) -> None:
        """Stop the timer, collect once more here, and give collection back to Python."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
