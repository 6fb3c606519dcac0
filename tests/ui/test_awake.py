"""The kiosk keeps the display awake: on a real X server (Xvfb) with a short screen saver
time-out, and against a real session bus (dbus-daemon) with a stand-in screen saver service.

The defect: an unattended kiosk (nobody touches its keyboard or mouse) went blank after the X
server's 600 s, or under the desktop's lock screen, and its light challenge could not work.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import xcffib
import xcffib.screensaver
import xcffib.xproto  # noqa: F401  (the core protocol a connection needs)

from kiosk.ui.awake import NONE_HOLDS, DisplayAwake
from tests.ui.xvfb import noise_kiosk, xvfb_display

ROOT = Path(__file__).resolve().parents[2]


class XProbe:
    """The test's own X connection: sets the screen saver time-out and reads its state. Kept
    open, it also stops Xvfb from resetting (and forgetting the time-out) between clients."""

    def __init__(self, display: str) -> None:
        self.x = xcffib.connect(display=display)
        self.root = self.x.get_setup().roots[self.x.pref_screen].root
        self.saver = self.x(xcffib.screensaver.key)

    def set_timeout(self, seconds: int) -> None:
        # timeout, interval, prefer_blanking=Yes, allow_exposures=Yes
        self.x.core.SetScreenSaverChecked(seconds, 600, 1, 1).check()

    def blank(self) -> bool:
        """Whether the X screen saver is on now."""
        return self.saver.QueryInfo(self.root).reply().state == xcffib.screensaver.State.On

    def blanks_within(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.blank():
                return True
            time.sleep(0.1)
        return False

    def blank_during(self, seconds: float) -> list[float]:
        """The moments (s from now) the screen saver was seen on, sampling for ``seconds``."""
        start, seen = time.monotonic(), []
        while (now := time.monotonic() - start) < seconds:
            if self.blank():
                seen.append(round(now, 2))
            time.sleep(0.1)
        return seen

    def close(self) -> None:
        self.x.disconnect()


@pytest.fixture
def x_server() -> Iterator[tuple[str, XProbe]]:
    with xvfb_display() as display:
        probe = XProbe(display)
        try:
            yield display, probe
        finally:
            probe.close()


@pytest.mark.xvfb
def test_the_kiosk_keeps_the_x_screen_saver_off(x_server, tmp_path):
    """``python main.py`` in kiosk mode, a bare X session (no session bus) with a 2 s screen
    saver: never blank while the kiosk runs; blank again within 2 s of its stop (the X server
    lifted the suspension when the kiosk's connection closed)."""
    display, probe = x_server
    probe.set_timeout(2)
    frames, config = noise_kiosk(tmp_path)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("QT_") and k != "DBUS_SESSION_BUS_ADDRESS"}
    env.update(DISPLAY=display, XDG_DATA_HOME=str(tmp_path / "data"))
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "--source", str(frames),
                             "--config", str(config), "-v"], env=env, cwd=str(ROOT),
                            stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    held = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if "display kept awake" in line or "display may blank" in line:
                held.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert held.wait(90), "".join(lines)[-3000:]
        seen_blank = probe.blank_during(4.0)  # twice the time-out
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
        reader.join(10)
    log = "".join(lines)
    assert code == 0, log[-3000:]
    assert seen_blank == [], f"blank {seen_blank} s after the hold; log:\n{log[-3000:]}"
    assert "INFO kiosk.ui.awake: display kept awake: X screen saver suspended\n" in log
    assert "INFO kiosk.ui.awake: no desktop session inhibit (" in log  # normal here
    assert "INFO wakepy." not in log  # its narration of each method is left out
    # The control, on the same server: without the kiosk the screen blanks.
    assert probe.blanks_within(3.0)


@pytest.mark.xvfb
def test_without_the_extension_the_screen_saver_is_reset_instead(x_server, caplog):
    display, probe = x_server
    probe.set_timeout(1)
    assert probe.blanks_within(3.0)  # the control: nothing holds it, it blanks
    caplog.set_level(logging.INFO, logger="kiosk.ui.awake")
    awake = DisplayAwake(display, session=False, extension="MIT-SCREEN-SAVER-MISSING",
                         reset_every_s=0.25)
    assert awake.hold() == ["X screen saver reset every 0.25 s"]
    try:
        assert probe.blank_during(2.5) == []  # turned off at once, and kept off
    finally:
        awake.release()
    assert "the X server has no MIT-SCREEN-SAVER-MISSING extension" in caplog.text
    assert "resetting the X screen saver every 0.25 s instead" in caplog.text
    assert "display kept awake: X screen saver reset every 0.25 s" in caplog.text
    assert probe.blanks_within(2.0)  # released: the resets stopped


def test_nothing_to_hold_warns_and_does_not_raise(monkeypatch, caplog):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    caplog.set_level(logging.INFO, logger="kiosk.ui.awake")
    # A display nobody serves: X cannot be asked, and there is no session bus either.
    with DisplayAwake(":987654") as awake:
        assert awake.held == []
    messages = [(r.levelname, r.getMessage()) for r in caplog.records
                if r.name == "kiosk.ui.awake"]
    assert ("WARNING", "cannot open the X display :987654 (xcb connection errors because of "
                       "socket, pipe and other stream errors.): the X screen saver is left "
                       "alone") in messages
    assert ("INFO", "no desktop session inhibit (org.freedesktop.ScreenSaver, "
                    "org.gnome.SessionManager: no session bus (DBUS_SESSION_BUS_ADDRESS is "
                    "not set))") in messages
    assert messages[-1] == ("WARNING", NONE_HOLDS)
    assert not any(level == "ERROR" for level, _ in messages)


class FakeScreenSaver:
    """org.freedesktop.ScreenSaver on a session bus, in a thread: records each call;
    ``refuse`` answers Inhibit with an error, as a locked-down desktop may."""

    NAME = "org.freedesktop.ScreenSaver"

    def __init__(self, address: str, refuse: bool = False) -> None:
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import Proxy, open_dbus_connection

        self.refuse = refuse
        self.calls: list[tuple[str, tuple]] = []
        self.conn = open_dbus_connection(bus=address)
        reply = Proxy(message_bus, self.conn).RequestName(self.NAME, 4)  # DO_NOT_QUEUE
        assert reply == (1,), reply  # PRIMARY_OWNER
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        from jeepney import HeaderFields, MessageType, new_error, new_method_return

        while not self._stop.is_set():
            try:
                msg = self.conn.receive(timeout=0.1)
            except TimeoutError:
                continue
            fields = msg.header.fields
            if (msg.header.message_type != MessageType.method_call
                    or fields.get(HeaderFields.interface) != self.NAME):
                continue
            member = fields[HeaderFields.member]
            self.calls.append((member, msg.body))
            if member == "Inhibit" and self.refuse:
                self.conn.send(new_error(msg, "org.freedesktop.DBus.Error.AccessDenied",
                                         "s", ("inhibiting is not allowed here",)))
            elif member == "Inhibit":
                self.conn.send(new_method_return(msg, "u", (4242,)))
            else:
                self.conn.send(new_method_return(msg))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.conn.close()


@pytest.fixture
def session_bus(tmp_path, monkeypatch) -> Iterator[str]:
    """A private ``dbus-daemon --session``; its address in DBUS_SESSION_BUS_ADDRESS."""
    if shutil.which("dbus-daemon") is None:
        pytest.fail("dbus-daemon is not installed; scripts/setup.sh --test installs it "
                    "(package dbus-daemon)")
    proc = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--nopidfile",
                             f"--address=unix:path={tmp_path / 'bus'}", "--print-address=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        address = proc.stdout.readline().strip()
        assert address, "dbus-daemon did not start"
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        yield address
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_session_is_asked_to_stay_awake_and_let_go(session_bus, caplog):
    service = FakeScreenSaver(session_bus)
    caplog.set_level(logging.INFO, logger="kiosk.ui.awake")
    try:
        awake = DisplayAwake(None)
        assert awake.hold() == ["session inhibit org.freedesktop.ScreenSaver"]
        assert [name for name, _ in service.calls] == ["Inhibit"]
        awake.release()
        deadline = time.monotonic() + 5
        while len(service.calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        service.close()
    assert service.calls == [("Inhibit", ("wakepy", "wakelock active")),
                             ("UnInhibit", (4242,))]
    assert "display kept awake: session inhibit org.freedesktop.ScreenSaver" in caplog.text


def test_a_session_that_refuses_is_logged_not_raised(session_bus, caplog):
    service = FakeScreenSaver(session_bus, refuse=True)
    caplog.set_level(logging.INFO, logger="kiosk.ui.awake")
    try:
        with DisplayAwake(None) as awake:
            assert awake.held == []
    finally:
        service.close()
    assert [name for name, _ in service.calls] == ["Inhibit"]  # nothing to let go of
    records = {r.levelname: r.getMessage() for r in caplog.records
               if r.name == "kiosk.ui.awake"}
    assert "inhibiting is not allowed here" in records["INFO"]
    assert records["WARNING"] == NONE_HOLDS
