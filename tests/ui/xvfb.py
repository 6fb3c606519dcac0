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
