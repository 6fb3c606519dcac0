"""The staffed desk's ID-photo jobs, run in the runtime's thread between sessions (no Qt)."""

from __future__ import annotations

import logging
import os
import queue
from typing import Any

from kiosk.feed import FrameFeed
from kiosk.identity import IdPhotoError, capture_id_card, load_id_photo, load_newest_scan
from kiosk.runtime import events as ev
from kiosk.runtime.parts import RuntimeParts

log = logging.getLogger(__name__)


class IdentityJobs:
    """Loads and checks ID photos: a file, the newest scan of a folder, or a card held to the
    camera. Requests are queued from any thread; :meth:`run` does them and answers
    IdentityLoaded or IdentityFailed through the sink. A scan a check used is not taken
    again (:meth:`spend`): "Use scan" pressed before the next person's ID was scanned would
    show the last person's.

    Parameters
    ----------
    feed : FrameFeed
        The camera, for the card photo.
    parts : RuntimeParts
        Builds the face detectors (once, when first needed).
    sink : EventSink
    """

    def __init__(self, feed: FrameFeed, parts: RuntimeParts, sink: ev.EventSink) -> None:
        self._feed = feed
        self._parts = parts
        self._sink = sink
        self._jobs: queue.SimpleQueue[tuple[str, str | None]] = queue.SimpleQueue()
        self._id_detector: Any = None
        self._card_detector: Any = None
        self._spent: set[tuple[str, int]] = set()

    def put(self, kind: str, arg: str | None) -> None:
        """Queue a job: ``("file", path)``, ``("scan", folder)`` or ``("card", None)``."""
        self._jobs.put((kind, arg))

    def spend(self, scan: tuple[str, int] | None, *, delete: bool) -> None:
        """A check ran with the ID photo of ``scan`` (path, modification time in ns; None
        for a file or the camera): the newest-scan job refuses that scan from now on, and
        with ``delete`` (``kiosk.used_scans``) the file is removed, unless a new scan took its
        name meanwhile (the runtime's thread). A scan shows a whole ID document, and the
        next person at the desk could otherwise open it."""
        if scan is None:
            return
        self._spent.add(scan)
        if delete:
            _remove(*scan)

    def run(self) -> None:
        """Do every queued job (the runtime's thread)."""
        while True:
            try:
                kind, arg = self._jobs.get_nowait()
            except queue.Empty:
                return
            try:
                photo = self._job(kind, arg)
            except IdPhotoError as exc:
                self._sink.report(ev.IdentityFailed(str(exc)))
            except Exception:
                log.exception("loading the ID photo failed")
                self._sink.report(ev.IdentityFailed("the ID photo could not be loaded; "
                                                    "see the log"))
            else:
                self._sink.report(ev.IdentityLoaded(photo))

    def _job(self, kind: str, arg: str | None) -> Any:
        if kind == "file" and arg is not None:
            return load_id_photo(arg, self._detector())
        if kind == "scan" and arg is not None:
            return load_newest_scan(arg, self._detector(), spent=self._spent)
        frame = self._feed.next_frame(1.0)
        if frame is None:
            raise IdPhotoError("the camera gives no picture; check the camera")
        if self._card_detector is None:
            self._card_detector = self._parts.card_detector()
        return capture_id_card(frame.image, self._card_detector)

    def _detector(self) -> Any:
        if self._id_detector is None:
            self._id_detector = self._parts.id_detector()
        return self._id_detector


def _remove(path: str, mtime_ns: int) -> None:
    """Remove a used scan; a failure is logged (never the file's name: scanners may name a
    file after the person) and leaves the scan spent all the same."""
    try:
        if os.stat(path).st_mtime_ns == mtime_ns:
            os.unlink(path)
    except FileNotFoundError:
        return  # taken away already (by staff, or the scanner's own software)
    except OSError as exc:
        log.warning("the ID scan a check used could not be removed from the scanner folder "
                    "(%s): remove it by hand, or set kiosk.used_scans = \"keep\" where the "
                    "site keeps ID copies", exc.strerror or exc)
