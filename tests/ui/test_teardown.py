"""Building and tearing down whole kiosks in one process, then exiting (issue 13, item 12).

The kiosk once aborted at interpreter exit ("Fatal Python error: none_dealloc") after the UI
benchmark built several windows in a row: a reference-count error in a C extension. The cause
was PySide6 6.12.0's ``Signal.emit`` (see test_qt_refcounts.py); this test runs the pattern
that exposed it end to end in a fresh interpreter: three kiosks one after the other, each with
its worker thread, camera thread, a session answered by the synthetic person, the real
MediaPipe tracker and the dlib matcher in its child process, then a full garbage collection
and a normal exit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import gc, os, sys, tempfile, time
from pathlib import Path
import cv2, mediapipe  # the kiosk's import order (see kiosk/ui/qtenv.py)
from kiosk.ui.qtenv import drop_opencv_qt_paths
drop_opencv_qt_paths(os.environ)
from PySide6.QtWidgets import QApplication
from kiosk.analysis.face import FaceTracker
from kiosk.audit import create_key_file, open_kiosk_log
from kiosk.cloud.factory import build_matcher
from kiosk.matcher_process import ProcessMatcher
from kiosk.settings import Settings
from kiosk.ui.app import KioskWindow
from kiosk.vocabulary import FlowState
from tests.ui.harness import Responder, SyntheticCamera, make_worker


def main():
    app = QApplication(sys.argv[:1])

    def wait(until, most_s):
        end = time.monotonic() + most_s
        while not until() and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.005)
        return until()

    results = []
    for round_ in range(3):
        tmp, keys = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
        create_key_file(keys / "audit.key")
        # No light check: the camera runs 3 times faster than the clock the screen paints on.
        settings = Settings().replace("audit", db_path=str(tmp / "kiosk.db"),
                                      key_file=str(keys / "audit.key")).replace(
                                          "liveness", light_challenge=False)
        responder = Responder()
        worker = make_worker(settings, camera=SyntheticCamera(speed=3.0), responder=responder,
                             audit_factory=lambda s: open_kiosk_log(s, tmp))
        window = KioskWindow(settings, worker)
        window.resize(800, 600)
        window.show()
        window.start()
        assert wait(lambda: window.flow.state == FlowState.IDLE, 20), window.flow.state
        window.flow.start()
        window.flow.accept()
        assert wait(lambda: window.flow.state == FlowState.RESULT, 60), window.flow.state
        results.append(window.result.kind)
        with FaceTracker() as tracker:  # MediaPipe's task, opened and closed in each round
            tracker.observe(next(iter(SyntheticCamera(speed=3.0))))
        matcher = ProcessMatcher(build_matcher, settings.replace("matching", matcher="local"))
        matcher.close()
        window.allow_close()
        window.shutdown()
        window.close()
        window.deleteLater()
        del window, worker, responder, matcher
        app.processEvents()
        gc.collect()
    print("results", *results)


if __name__ == "__main__":  # the matcher's child process imports this file
    main()
"""


def test_three_kiosks_in_a_row_then_a_clean_exit(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
    env.update(QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT), PYTHONFAULTHANDLER="1")
    script = tmp_path / "three_kiosks.py"
    script.write_text(SCRIPT, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-X", "dev", str(script)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert "Fatal Python error" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "results pass pass pass"
