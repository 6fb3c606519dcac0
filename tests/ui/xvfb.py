"""Start a private Xvfb server for tests that need a real X display."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

KIOSK_WINDOW = r"""
import json, os, sys
import cv2, mediapipe  # before Qt: OpenCV's own Qt paths are dropped below
from pathlib import Path
from kiosk.ui.qtenv import drop_opencv_qt_paths
drop_opencv_qt_paths(os.environ)
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication
from kiosk.audit import open_kiosk_log
from kiosk.settings import Settings
from kiosk.ui.app import KioskWindow
from tests.ui.harness import Responder, SyntheticCamera, make_worker
app = QApplication(sys.argv[:1])
tmp = Path(sys.argv[1])
settings = Settings().replace("audit", db_path=str(tmp / "kiosk.db"),
                              key_file=str(tmp / "audit.key"))
worker = make_worker(settings, camera=SyntheticCamera(), responder=Responder(present=False),
                     audit_factory=lambda s: open_kiosk_log(s, tmp))
window = KioskWindow(settings, worker, kiosk_mode=True)
window.show_kiosk()
window.start()
"""
"""The head of a script (``python -c``) that shows the kiosk window in kiosk mode over the
stand-in worker, its log in the folder ``sys.argv[1]``: ``app`` and ``window`` for the rest
of the script, which runs ``app.exec()``."""


@contextmanager
def xvfb_display(size: str = "1280x800x24", dpi: int | None = None):
    """Yield a DISPLAY string (":N") of a fresh Xvfb server, stopped afterwards; ``dpi``
    gives the screen a physical size (Xvfb's ``-dpi``)."""
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is not installed; scripts/setup.sh --test installs it (package xvfb)")
    read_fd, write_fd = os.pipe()
    extra = ["-dpi", str(dpi)] if dpi is not None else []
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", size,
                             "-nolisten", "tcp", *extra], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as fh:
            number = fh.readline().strip()
        if not number:
            pytest.fail("Xvfb did not start")
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def run_on_xvfb(script: str, *args: str, size: str = "1280x800x24",
                dpi: int | None = None) -> Any:
    """Run ``python -c script *args`` on a fresh Xvfb server with the project importable and
    no QT_ variable of the test process; the JSON its last line of output prints."""
    with xvfb_display(size, dpi) as display:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
        env.update(DISPLAY=display, PYTHONPATH=str(ROOT))
        proc = subprocess.run([sys.executable, "-c", script, *args], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def noise_kiosk(folder: Path) -> tuple[Path, Path]:
    """What ``main.py`` needs to run in ``folder`` without a camera: an image folder of three
    noise frames for ``--source``, and a settings file with its audit log and key there.

    Returns
    -------
    frames, config : Path
    """
    import cv2
    import numpy as np

    from kiosk.audit import create_key_file

    create_key_file(folder / "audit.key")
    frames = folder / "frames"
    frames.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        cv2.imwrite(str(frames / f"{i}.png"), rng.integers(0, 255, (240, 320, 3), np.uint8))
    config = folder / "kiosk.toml"
    config.write_text(f'[audit]\ndb_path = "{folder / "kiosk.db"}"\n'
                      f'key_file = "{folder / "audit.key"}"\n')
    return frames, config
