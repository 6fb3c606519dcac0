"""The face matcher in a child process, so its native code cannot stall the kiosk's screen.

dlib's face descriptor holds Python's GIL for the whole computation (measured here: one
``LocalMatcher.compare`` blocks every other Python thread for up to ~140 ms at a time, about
350 ms in all), and the kiosk's UI thread is a Python thread: in-process, each comparison
froze the preview and the event loop. In a child process it only costs CPU.

No Qt here. The child is started with ``spawn`` (never ``fork``: the parent runs Qt and
camera threads), builds the matcher once, and answers ``compare`` calls one at a time.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np

from kiosk.cloud.errors import CloudTimeout, CloudUnavailable
from kiosk.cloud.protocol import LiveFrame, compare_frames
from kiosk.errors import KioskError, ResourceError
from kiosk.settings import Settings

log = logging.getLogger(__name__)

_MATCHER: Any = None  # the child's matcher


def settings_from_dict(values: dict[str, dict[str, Any]]) -> Settings:
    """Settings rebuilt from :meth:`Settings.as_dict` (the settings classes do not pickle)."""
    settings = Settings()
    for section, changes in values.items():
        settings = settings.replace(section, **changes)
    return settings


def _build(factory: Callable[[Settings], Any], values: dict[str, dict[str, Any]]
           ) -> tuple[str, str]:
    global _MATCHER
    _MATCHER = factory(settings_from_dict(values))
    return type(_MATCHER).__name__, str(getattr(_MATCHER, "name", "unknown"))


def _compare(live: np.ndarray, reference: np.ndarray, live_box: Any) -> Any:
    return _MATCHER.compare(live, reference, live_box=live_box)


def _compare_frames(frames: list[LiveFrame], reference: np.ndarray) -> Any:
    return compare_frames(_MATCHER, frames, reference)


def _search(live: np.ndarray, live_box: Any) -> Any:
    return _MATCHER.search(live, live_box=live_box)


class ProcessMatcher:
    """A :class:`~kiosk.cloud.protocol.FaceMatcher` whose work runs in a child process.

    Parameters
    ----------
    factory : callable
        ``factory(settings) -> FaceMatcher``, picklable (a module-level function such as
        :func:`kiosk.cloud.factory.build_matcher`); called once, in the child.
    settings : Settings
    timeout_s : float, optional
        Longest wait for one comparison (the matcher's own time-outs come first; this only
        catches a hung child). None waits as long as it takes.
    start_method : str
        ``spawn`` (default) or ``forkserver``.

    Raises
    ------
    KioskError
        The factory's own error (e.g. ResourceError for missing models), raised here.
    ResourceError
        The child process could not start.

    Notes
    -----
    ``compare`` raises what the matcher raises (CloudError subclasses pickle as they are);
    a child that died or hung becomes :class:`~kiosk.cloud.errors.CloudUnavailable` (or
    ``CloudTimeout``), which the session turns into a review, and the next call starts a
    new child.
    """

    def __init__(self, factory: Callable[[Settings], Any], settings: Settings, *,
                 timeout_s: float | None = 120.0, start_method: str = "spawn") -> None:
        self._factory = factory
        self._values = settings.as_dict()
        self._timeout = timeout_s
        self._context = multiprocessing.get_context(start_method)
        self._pool: ProcessPoolExecutor | None = None
        #: The child's matcher: its class, and its ``name`` (the audit row's matcher).
        self.kind, self.name = self._start()

    def _start(self) -> tuple[str, str]:
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=self._context)
        try:
            kind, name = self._pool.submit(_build, self._factory, self._values).result()
        except KioskError:
            self.close()
            raise
        except BrokenProcessPool as exc:
            self.close()
            raise ResourceError(f"the face matcher process could not start ({exc})") from None
        log.info("face matcher %s running in a child process", kind)
        return kind, name

    def compare(self, live: np.ndarray, reference: np.ndarray, *, live_box: Any = None) -> Any:
        """``FaceMatcher.compare``, run in the child."""
        return self._run(_compare, live, reference, live_box)

    def compare_frames(self, frames: Sequence[LiveFrame], reference: np.ndarray) -> Any:
        """Several live frames (best first), run in the child: the local matcher combines
        them, Rekognition uses the first (see :func:`kiosk.cloud.protocol.compare_frames`).

        Each frame is a full image sent to the child (about 1 MB at 640x480): five cost a few
        milliseconds of pickling, against the hundreds the descriptors take.
        """
        return self._run(_compare_frames, [LiveFrame(f.image, f.box) for f in frames],
                         reference)

    def search(self, live: np.ndarray, *, live_box: Any = None) -> Any:
        """``MemberSearcher.search`` (member check-in), run in the child."""
        return self._run(_search, live, live_box)

    @property
    def timeout_s(self) -> float | None:
        """Longest wait for one comparison (None: no limit)."""
        return self._timeout

    def _run(self, job: Callable[..., Any], *args: Any) -> Any:
        if self._pool is None:
            try:
                self._start()
            except KioskError as exc:
                raise CloudUnavailable(f"the face matcher cannot start: {exc}") from None
        assert self._pool is not None
        future = self._pool.submit(job, *args)
        try:
            return future.result(timeout=self._timeout)
        except BrokenProcessPool:
            self.close()
            raise CloudUnavailable("the face matcher process stopped") from None
        except FutureTimeout:
            self.close(kill=True)
            raise CloudTimeout(f"the face matcher took longer than {self._timeout:.0f} s") \
                from None

    def close(self, *, kill: bool = False) -> None:
        """Stop the child process (idempotent); ``kill`` also terminates a hung child."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # The executor has no public way to end a busy child; its process table is the only
        # handle (stable across CPython 3.8-3.13).
        processes = list(getattr(pool, "_processes", {}).values()) if kill else []
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
