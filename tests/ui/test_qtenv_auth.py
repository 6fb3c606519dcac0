"""An X display that is up but refuses this process (no XAUTHORITY, as in a systemd unit
started without ``import-environment``) is named before Qt starts: Qt aborted with exit 134
and "xcb-cursor0 is needed" instead."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.ui.qtenv import silent_display

REPO = Path(__file__).resolve().parents[2]
REFUSED = ("the X server refused the connection: set XAUTHORITY (or `systemctl --user "
           "import-environment DISPLAY XAUTHORITY`)")


def test_silent_display_names_a_refusal_with_the_servers_reason():
    said = silent_display({"DISPLAY": ":5"}, platform="linux", connects=lambda f, a: True,
                          refuses=lambda display: "Authorization required")
    assert said == f"{REFUSED}; the display :5 said: Authorization required"
    # A server that takes the connection is left to Qt; one that is not up is not asked.
    assert silent_display({"DISPLAY": ":5"}, platform="linux", connects=lambda f, a: True,
                          refuses=lambda display: None) is None
    asked: list[str] = []
    said = silent_display({"DISPLAY": ":5"}, platform="linux", connects=lambda f, a: False,
                          refuses=lambda display: asked.append(display))  # type: ignore[func-returns-value]
    assert said is not None and said.startswith("the display :5 takes no connection")
    assert asked == []


needs_xvfb = pytest.mark.skipif(shutil.which("xvfb-run") is None or shutil.which("xauth") is None,
                                reason="xvfb-run is not installed (Debian packages xvfb, xauth)")


def _under_xvfb_run(command: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """``command`` run by sh under xvfb-run (which sets XAUTHORITY to its server's cookie),
    with no ~/.Xauthority to fall back on."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("QT_") and k not in ("DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY")}
    env.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"), PYTHONPATH=str(REPO))
    return subprocess.run(["xvfb-run", "-a", "-s", "-nolisten tcp", "sh", "-c", command],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180)


@needs_xvfb
def test_under_xvfb_run_the_cookie_opens_the_display_and_none_is_refused(tmp_path):
    script = ("import os; from kiosk.ui.qtenv import silent_display; "
              "print(silent_display(os.environ))")
    result = _under_xvfb_run(f'"{sys.executable}" -c "{script}"; '
                             f'env -u XAUTHORITY "{sys.executable}" -c "{script}"', tmp_path)
    lines = result.stdout.splitlines()
    assert lines[0] == "None", result.stderr
    assert lines[1].startswith(REFUSED + "; the display :"), result.stderr
    assert lines[1].endswith("said: Authorization required, but no authorization protocol "
                             "specified"), result.stdout
    assert result.stderr == ""  # libxcb's own complaint is caught, not printed


@needs_xvfb
def test_the_kiosk_exits_2_with_one_line_when_x_refuses_it(tmp_path):
    result = _under_xvfb_run(f'env -u XAUTHORITY "{sys.executable}" "{REPO / "main.py"}" '
                             "--windowed", tmp_path)
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"kiosk: {REFUSED}"), result.stderr
    assert "xcb-cursor" not in result.stderr and "Fatal Python error" not in result.stderr
