"""Composition root of the kiosk application (``python main.py``, ``kiosk record``).

Reads the settings and the environment, takes the single-instance lock, builds the frame
source, the worker's parts (tracker, fusion, passive analyzers, audit log, face matcher; all
built inside the worker thread) and the window, then runs the Qt event loop. Nothing here
crashes the kiosk on a bad configuration, a missing camera or an unusable audit database: the
window shows the out-of-service screen with the reason for staff.

    python main.py                      kiosk mode on the configured camera
    python main.py --windowed           a normal window (development)
    python main.py --source clip.mp4    a video file or image folder instead of the camera
    python main.py --record DIR --label bona_fide
                                        every session saved for evaluation (``kiosk record``)
    python -m kiosk.ui                  the same as main.py, from an installed package
                                        (the unit of ``kiosk service unit`` starts this)
    python -m kiosk.ui --supervised     a service manager restarts the kiosk: after an
                                        internal error, exit (status 2) for a fresh start

Exit status: 0 when staff closed the kiosk or it was stopped (SIGTERM, SIGINT);
:data:`~kiosk.ui.instance.EXIT_ALREADY_RUNNING` (3) when another kiosk holds the data folder
or the audit log;
:data:`~kiosk.ui.instance.EXIT_FAILED` (2) for no display, an unusable data folder or a bug.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import logging
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cv2  # noqa: F401  (imported before Qt on purpose: see kiosk/ui/qtenv.py)

from kiosk.errors import KioskError
from kiosk.operator.zone import ZonedFormatter, unknown_zone
from kiosk.settings import default_data_dir, load_settings
from kiosk.ui.awake import DisplayAwake
from kiosk.ui.instance import (
    EXIT_ALREADY_RUNNING,
    EXIT_FAILED,
    LOCK_NAME,
    AlreadyRunning,
    InstanceLock,
)
from kiosk.ui.qtenv import (
    HEADLESS_PLATFORMS,
    drop_opencv_qt_paths,
    missing_display,
    silent_display,
)
from kiosk.ui.scaling import apply_screen_scale
from kiosk.vocabulary import FaultCause

log = logging.getLogger("kiosk")


def parse_args(argv: list[str]) -> argparse.Namespace:
    # Started as `python -m kiosk.ui` (the service unit), argparse would name __main__.py.
    module = sys.argv[0].endswith("__main__.py")
    parser = argparse.ArgumentParser(prog="python -m kiosk.ui" if module else None,
                                     description="Liveness kiosk")
    parser.add_argument("--config", metavar="PATH", help="settings TOML file")
    parser.add_argument("--source", metavar="PATH",
                        help="video file or image folder in place of the camera (demos, tests)")
    parser.add_argument("--id-folder", metavar="DIR",
                        help="scanner drop folder for the staffed desk; the newest image wins")
    parser.add_argument("--windowed", action="store_true",
                        help="a normal window instead of fullscreen kiosk mode (development)")
    parser.add_argument("--supervised", action="store_true",
                        help="a service manager (systemd) starts the kiosk again when it fails: "
                             "after an internal error, exit with status 2 instead of waiting "
                             "for staff to restart it")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    parser.add_argument("--record", metavar="DIR",
                        help="save every session (video, light sequence, prompts) in DIR "
                             "with a manifest row, for kiosk evaluate")
    parser.add_argument("--label", choices=("bona_fide", "attack"), default="bona_fide",
                        help="with --record: what is in front of the camera")
    parser.add_argument("--species", choices=("print", "replay", "mask"), default="",
                        help="with --record and --label attack: the attack instrument")
    parser.add_argument("--subject-tag", default="", metavar="TAG",
                        help="with --record: a pseudonym for who or what is recorded")
    return parser.parse_args(argv)


def record_plan(args: argparse.Namespace, settings):
    """``--record``: where and what to record (InputError when the folder cannot be made);
    None at a kiosk in service."""
    if not args.record:
        return None
    from kiosk.runtime.record import RecordPlan

    plan = RecordPlan(Path(args.record).expanduser(), args.label, args.species,
                      args.subject_tag, fps=float(settings.camera.fps))
    plan.open()
    return plan


def build_parts(data_dir: Path, *, camera_fixed: bool, record=None):
    """The worker's factories; each runs in the worker thread."""
    from kiosk.runtime import RuntimeParts

    def tracker():
        from kiosk.analysis.face import FaceTracker
        return FaceTracker()

    def fusion():
        from kiosk.analysis.fusion import Fusion
        return Fusion.load()

    texture: dict[str, Any] = {}

    def analyzers(settings):
        from kiosk.analysis.passive import default_analyzers
        from kiosk.analysis.texture import load_texture_reference
        if "reference" not in texture:
            texture["reference"] = load_texture_reference()
        return default_analyzers(settings, camera_fixed=camera_fixed,
                                 texture_reference=texture["reference"])

    def audit(settings):
        from kiosk.audit import open_kiosk_log
        return open_kiosk_log(settings, data_dir)

    def matcher(settings):
        # In a child process: dlib holds the GIL for ~140 ms at a time (kiosk.matcher_process).
        from kiosk.cloud.factory import build_matcher
        from kiosk.cloud.timing import comparison_limit_s
        from kiosk.matcher_process import ProcessMatcher
        return ProcessMatcher(build_matcher, settings,
                              timeout_s=comparison_limit_s(settings.matching))

    return RuntimeParts(tracker=tracker, fusion=fusion, analyzers=analyzers, audit=audit,
                       matcher=matcher, record=record)


def build_speaker():
    """``(speak, hush)``: ``speak(text)`` through espeak-ng (or a plain beep when the engine
    is missing), ``hush()`` cuts the sentence still playing."""
    from kiosk.speech import Speaker

    try:
        speaker = Speaker()
    except KioskError as exc:
        log.warning("%s; prompts will only beep", exc)
        from PySide6.QtWidgets import QApplication

        return (lambda text: QApplication.beep()), (lambda: None)
    return speaker.say, speaker.stop


def build_worker(settings, args: argparse.Namespace, data_dir: Path):
    """The worker on the camera (or ``--source``); raises KioskError when the source is
    unusable."""
    from kiosk.camera import (
        DeviceSource,
        open_source,
        recording_path,
        refuse_single_frame,
        refuse_still,
    )
    from kiosk.feed import FrameFeed
    from kiosk.ui.worker import KioskWorker

    if args.source:
        path = recording_path(args.source)
        refuse_still(path)
        refuse_single_frame(path)  # looped, one frame would be a still "camera"
        source = open_source(path, paced=True)
        source_factory = None
    else:
        source = DeviceSource.from_settings(settings)
        source_factory = DeviceSource.from_settings
    feed = FrameFeed(source, loop_finite=True, check_rate=True, check_colour=True,
                     check_frozen=True,
                     overload_pause_s=settings.camera.overload_pause_s)
    # Recordings given with --source were filmed hand-held; a kiosk camera is mounted.
    return KioskWorker(settings, feed,
                       build_parts(data_dir, camera_fixed=settings.camera.mounted
                                   and not args.source, record=record_plan(args, settings)),
                       source_factory=source_factory)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # A native crash (MediaPipe, dlib, Qt) kills the process without a Python traceback:
    # print every thread's stack to stderr first, where the journal of a unit keeps it.
    if not faulthandler.is_enabled():  # pytest enables its own
        with contextlib.suppress(RuntimeError, ValueError, OSError):  # stderr without a file
            faulthandler.enable()
    stderr = logging.StreamHandler()
    stderr.setFormatter(ZonedFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        handlers=[stderr])
    # wakepy narrates each method it tries; kiosk.ui.awake says once what held.
    logging.getLogger("wakepy").setLevel(logging.WARNING)
    if (tz := unknown_zone(os.environ)) is not None:
        log.warning("TZ=%s is not a time zone this machine knows: its clock shows UTC, and so "
                    "does the operator panel; set TZ to a zone such as Europe/Berlin", tz)
    drop_opencv_qt_paths(os.environ)
    no_display = missing_display(os.environ) or silent_display(os.environ)
    if no_display is not None:
        sys.stderr.write(f"kiosk: {no_display}\n")
        return EXIT_FAILED
    # A dense screen that nothing scales (4K at 100 %): QT_SCALE_FACTOR from its size,
    # before the QApplication exists (kiosk/ui/scaling.py).
    log.info("%s", apply_screen_scale(os.environ))
    data_dir = default_data_dir(os.environ)
    lock = InstanceLock(data_dir / LOCK_NAME)
    log_lock = InstanceLock(_log_lock_path(args, data_dir))
    try:
        lock.acquire()
        log_lock.acquire()
    except KioskError as exc:
        lock.release()
        sys.stderr.write(f"kiosk: {exc}\n")
        return EXIT_ALREADY_RUNNING if isinstance(exc, AlreadyRunning) else EXIT_FAILED
    try:
        return _run(args, data_dir)
    except Exception as exc:  # a bug: one plain line, the traceback in the log, exit 2
        from kiosk.crashlog import one_line, record_unexpected

        sys.stderr.write(one_line(exc, "kiosk", record_unexpected(exc, data_dir, "kiosk")) + "\n")
        return EXIT_FAILED
    finally:
        log_lock.release()
        lock.release()


def excepthook_for(window, data_dir: Path, stderr=None):
    """``sys.excepthook`` for the kiosk: an exception in a Qt slot (a bug) is logged with its
    traceback, printed as one line, and puts the kiosk out of service until it is restarted
    (by staff, or by its service manager: see ``KioskWindow``'s ``restart``)."""
    from kiosk.crashlog import one_line, record_unexpected

    def unexpected(kind, exc, tb) -> None:
        where = record_unexpected(exc, data_dir, "kiosk window")
        (stderr or sys.stderr).write(one_line(exc, "kiosk", where) + "\n")
        window.fault(FaultCause.INTERNAL, "internal error in the kiosk window; see "
                     f"{where if where is not None else 'the console'}")

    return unexpected


def keep_awake(platform: str, environ: Mapping[str, str]) -> DisplayAwake:
    """Keep the display from blanking and the session from locking while the window is up
    (nobody touches an unattended kiosk's keyboard or mouse); held on return. Nothing on a
    headless Qt platform, no X screen saver but on X (``xcb``)."""
    if platform in HEADLESS_PLATFORMS:
        awake = DisplayAwake(None, session=False)
    else:
        awake = DisplayAwake(environ.get("DISPLAY") if platform == "xcb" else None)
        awake.hold()
    return awake


def _log_lock_path(args: argparse.Namespace, data_dir: Path) -> Path:
    """The second lock: one kiosk per audit log, whatever data folder each runs on (two
    windows on one log, say under two users, fought over one camera and counted each other's
    tries as their own). Beside the log when its folder exists; else (or with settings that
    cannot be read, which the window then explains) the data folder's lock stands alone, and
    this path is in the data folder too."""
    from kiosk.audit.config import resolve_db_path

    try:
        db = resolve_db_path(load_settings(args.config, os.environ), data_dir)
    except KioskError:
        return data_dir / (LOCK_NAME + ".log")
    # The file the path names, not its spelling: a second window on the same log through a
    # symbolic link ran beside the first (concurrency audit, F2).
    db = db.resolve()
    folder = db.parent if db.parent.is_dir() else data_dir
    return folder / (db.name + ".kiosk-lock")


def _run(args: argparse.Namespace, data_dir: Path) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from kiosk.ui.app import KioskWindow
    from kiosk.ui.operator import UiThreadGarbageCollector

    app = QApplication(sys.argv[:1])
    app.setApplicationName("Liveness kiosk")
    # Python's collector may run on a worker thread and free a Qt object there; collect on
    # the UI thread only (see UiThreadGarbageCollector).
    UiThreadGarbageCollector(parent=app)  # parented: lives as long as the application
    settings, worker, failure = None, None, ""
    try:
        settings = load_settings(args.config, os.environ)
        worker = build_worker(settings, args, data_dir)
    except KioskError as exc:
        log.error("kiosk cannot start: %s", exc)
        failure = str(exc)
    speak, hush = build_speaker()
    window = KioskWindow(settings, worker, failure=failure, scan_folder=args.id_folder,
                         kiosk_mode=not args.windowed, speak=speak, hush=hush,
                         recording=bool(args.record), sees_screen=not args.source,
                         restart=(lambda: app.exit(EXIT_FAILED)) if args.supervised else None)

    def quit_on_signal(signum, frame) -> None:
        # Only scheduled here: the handler can run in the middle of a write to stderr (a log
        # line of the main thread), where writing again raises a reentrant-call error and
        # the line saying why the kiosk stopped was lost.
        # Queued, it runs once the event loop does: a signal before the loop started too.
        QTimer.singleShot(0, lambda: stop_on_signal(signum))

    def stop_on_signal(signum: int) -> None:
        log.info("signal %d: stopping", signum)
        window.allow_close()
        app.quit()

    sys.excepthook = excepthook_for(window, data_dir)
    signal.signal(signal.SIGTERM, quit_on_signal)
    signal.signal(signal.SIGINT, quit_on_signal)
    # Python runs signal handlers only between bytecodes: wake it up regularly.
    wake = QTimer()
    wake.start(500)
    wake.timeout.connect(lambda: None)

    if args.windowed:
        window.resize(1280, 800)
        window.show()
    else:
        window.show_kiosk()
    log.info("kiosk window shown (%s) on the %s platform",
             "windowed" if args.windowed else "fullscreen", app.platformName())
    awake = keep_awake(app.platformName(), os.environ)
    window.start()
    try:
        code = app.exec()
    finally:
        awake.release()
    if not window.shutdown():
        # A hung worker cannot be joined, and Qt aborts the process when a running thread is
        # destroyed: leave now, with the status decided (the next start closes the attempt
        # it held as INTERRUPTED; the kernel releases the instance lock).
        logging.shutdown()
        sys.stderr.flush()
        os._exit(code)
    return code
