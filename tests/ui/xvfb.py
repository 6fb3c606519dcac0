"""Start a private Xvfb server for tests that need a real X display."""

from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import contextmanager

import pytest


@contextmanager
def xvfb_display(size: str = "1280x800x24"):
    """Yield a DISPLAY string (":N") of a fresh Xvfb server, stopped afterwards."""
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is not installed; scripts/setup.sh --test installs it (package xvfb)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", size,
                             "-nolisten", "tcp"], pass_fds=(write_fd,),
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
