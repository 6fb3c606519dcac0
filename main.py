"""Composition root of the kiosk GUI.

Reads the settings, sets up logging, builds the frame source, the face tracker factory and
the window, then runs the Qt event loop. A bad configuration does not crash the kiosk: it
shows the out-of-service screen with the reason for staff.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

import cv2  # noqa: F401  (imported before Qt on purpose: see kiosk/ui/qtenv.py)

from kiosk.analysis.face import FaceTracker
from kiosk.camera import DeviceSource, open_source
from kiosk.errors import KioskError
from kiosk.settings import load_settings
from kiosk.ui.qtenv import drop_opencv_qt_paths

log = logging.getLogger("kiosk")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Liveness kiosk")
    parser.add_argument("--config", metavar="PATH", help="settings TOML file")
    parser.add_argument("--source", metavar="PATH",
                        help="video file or image folder in place of the camera (demos, tests)")
    parser.add_argument("--windowed", action="store_true",
                        help="a normal window instead of fullscreen kiosk mode (development)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    drop_opencv_qt_paths(os.environ)

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from kiosk.ui.app import MainWindow
    from kiosk.ui.worker import AnalysisWorker

    app = QApplication(sys.argv[:1])
    app.setApplicationName("Liveness kiosk")
    worker, failure = None, ""
    try:
        settings = load_settings(args.config, os.environ)
        if args.source:
            source = open_source(args.source, paced=True)
        else:
            source = DeviceSource.from_settings(settings)
        worker = AnalysisWorker(source, FaceTracker)
    except KioskError as exc:
        log.error("kiosk cannot start: %s", exc)
        failure = str(exc)
    window = MainWindow(worker, failure)
    if args.windowed:
        window.resize(960, 720)
        window.show()
    else:
        window.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        window.showFullScreen()
    window.start()
    code = app.exec()
    window.shutdown()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
