"""An X display that is up but refuses this process (no XAUTHORITY, as in a systemd unit
started without ``import-environment``) is named before Qt starts: Qt aborted with exit 134
and "xcb-cursor0 is needed" instead."""

from __future__ import annotations

import contextlib
import os
import secrets
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


needs_xvfb = pytest.mark.skipif(shutil.which("Xvfb") is None or shutil.which("xauth") is None,
                                reason="Xvfb is not installed (Debian packages xvfb, xauth)")


@contextlib.contextmanager
def xvfb_with_cookie(folder: Path):
    """A fresh Xvfb that admits only holders of a cookie: ``(DISPLAY, XAUTHORITY file)``.
    ``-displayfd`` picks a free display without the race of ``xvfb-run -a`` between test
    workers; the server loads every cookie of its ``-auth`` file, whatever display it names."""
    cookie = secrets.token_hex(16)
    server_auth, client_auth = folder / "server.xauth", folder / "client.xauth"
    subprocess.run(["xauth", "-f", str(server_auth), "add", ":0", ".", cookie], check=True)
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-auth", str(server_auth),
                             "-nolisten", "tcp"], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as fh:
            display = f":{fh.readline().strip()}"
        assert display != ":", "Xvfb did not start"
        subprocess.run(["xauth", "-f", str(client_auth), "add", display, ".", cookie],
                       check=True)
        yield display, client_auth
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _run(argv: list[str], folder: Path, display: str,
         xauthority: Path | None) -> subprocess.CompletedProcess:
    """``argv`` on ``display``, with ``xauthority`` (or none) and no ~/.Xauthority to fall
    back on."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("QT_") and k not in ("DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY")}
    env.update(DISPLAY=display, HOME=str(folder), XDG_DATA_HOME=str(folder / "data"),
               PYTHONPATH=str(REPO))
    if xauthority is not None:
        env["XAUTHORITY"] = str(xauthority)
    return subprocess.run(argv, env=env, cwd=folder, capture_output=True, text=True,
                          timeout=180)


@needs_xvfb
def test_with_the_cookie_the_display_opens_and_without_it_it_is_refused(tmp_path):
    script = ("import os; from kiosk.ui.qtenv import silent_display; "
              "print(silent_display(os.environ))")
    with xvfb_with_cookie(tmp_path) as (display, xauthority):
        admitted = _run([sys.executable, "-c", script], tmp_path, display, xauthority)
        refused = _run([sys.executable, "-c", script], tmp_path, display, None)
    assert admitted.stdout.strip() == "None", admitted.stderr
    said = refused.stdout.strip()
    assert said.startswith(f"{REFUSED}; the display {display} said: "), refused.stderr
    assert said.endswith("Authorization required, but no authorization protocol specified")
    assert refused.stderr == ""  # libxcb's own complaint is caught, not printed


@needs_xvfb
def test_the_kiosk_exits_2_with_one_line_when_x_refuses_it(tmp_path):
    with xvfb_with_cookie(tmp_path) as (display, _):
        result = _run([sys.executable, str(REPO / "main.py"), "--windowed"], tmp_path,
                      display, None)
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"kiosk: {REFUSED}"), result.stderr
    assert "xcb-cursor" not in result.stderr and "Fatal Python error" not in result.stderr
