"""An internal error needs a fresh start: under a service manager (``--supervised``) the kiosk
exits for it after a short pause, never from under staff in the operator panel; without one
the screen asks staff to restart it. Both through the window and through ``python -m
kiosk.ui`` itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import kiosk.ui.app
from kiosk.ui.instance import EXIT_FAILED
from kiosk.vocabulary import FaultCause
from kiosk.wording import OUT_OF_SERVICE_RESTART, OUT_OF_SERVICE_RESTARTING

PAUSE_MS = 150


@pytest.fixture(autouse=True)
def _short_pause(monkeypatch):
    monkeypatch.setattr(kiosk.ui.app, "RESTART_PAUSE_MS", PAUSE_MS)


def test_under_a_service_manager_an_internal_error_ends_the_kiosk_once(qtbot, window_for,
                                                                      settings):
    restarts = []
    window = window_for(settings, restart=lambda: restarts.append(time.monotonic()))
    faulted = time.monotonic()
    # The runtime's thread stopped on a bug, then a slot of the window raised as well.
    window.worker.runtime_failed.emit("internal error in the kiosk; see the log")
    qtbot.waitUntil(lambda: FaultCause.INTERNAL in window.flow.faults, timeout=5000)
    window.fault(FaultCause.INTERNAL, "internal error in the kiosk window; see the log")
    assert window.current_screen() is window.out_of_service
    assert window.out_of_service.retry.text() == OUT_OF_SERVICE_RESTARTING
    qtbot.waitUntil(lambda: bool(restarts), timeout=5000)
    qtbot.wait(3 * PAUSE_MS)
    assert len(restarts) == 1 and restarts[0] - faulted >= PAUSE_MS / 1000 * 0.9


def test_a_hung_worker_found_by_the_flow_restarts_the_kiosk(qtbot, window_for, settings):
    """The flow's stall check (``KioskFlow.tick``) marks a worker silent for twice its limit
    as needing a restart; the window's flow timer acts on it."""
    restarts = []
    window = window_for(settings, restart=lambda: restarts.append(1))
    window.flow.fault(FaultCause.INTERNAL, "the verification has not responded for 180 s")
    qtbot.waitUntil(lambda: restarts == [1], timeout=5000)
    assert window.out_of_service.retry.text() == OUT_OF_SERVICE_RESTARTING


def test_staff_in_the_operator_panel_are_not_restarted_from_under(qtbot, window_for, settings):
    restarts = []
    window = window_for(settings, restart=lambda: restarts.append(1))
    assert window.flow.open_operator()
    window.fault(FaultCause.INTERNAL, "internal error in the kiosk; see the log")
    qtbot.wait(4 * PAUSE_MS)
    assert restarts == []
    window.flow.close_operator()
    qtbot.waitUntil(lambda: restarts == [1], timeout=5000)


def test_without_a_service_manager_staff_are_asked_to_restart(qtbot, window_for, settings):
    window = window_for(settings)
    window.fault(FaultCause.INTERNAL, "internal error in the kiosk; see the log")
    qtbot.wait(3 * PAUSE_MS)
    assert window.current_screen() is window.out_of_service
    assert window.out_of_service.retry.text() == OUT_OF_SERVICE_RESTART


# ``python -m kiosk.ui`` with a bug put into one of the window's slots (the flow timer's, which
# runs five times a second) and the pause shortened; everything else is the real kiosk.
WITH_A_BUG = textwrap.dedent("""
    import runpy, sys
    import kiosk.ui.app as app
    app.RESTART_PAUSE_MS = 300
    def broken(self):
        raise ZeroDivisionError("a bug in a slot")
    app.KioskWindow._on_flow_timeout = broken
    sys.argv = ["kiosk.ui", *sys.argv[1:]]
    runpy.run_module("kiosk.ui", run_name="__main__")
""")


# ... and a runtime that never stops when asked (a worker hung in a native call).
AND_A_HUNG_WORKER = textwrap.dedent("""
    import kiosk.runtime.loop as loop
    loop.KioskRuntime.stop = lambda self: None
""")


def kiosk_with_a_bug(tmp_path, *args, hung=False):
    tmp_path.mkdir()
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "HOME": str(tmp_path),
           "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "conf")}
    code = (AND_A_HUNG_WORKER if hung else "") + WITH_A_BUG
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_the_supervised_kiosk_exits_2_after_a_bug_and_the_unsupervised_one_stays(tmp_path):
    supervised = kiosk_with_a_bug(tmp_path / "a", "--supervised")
    _, err = supervised.communicate(timeout=120)
    assert supervised.returncode == EXIT_FAILED == 2, err
    assert "kiosk: unexpected error (ZeroDivisionError)" in err
    assert "exits in 0.3 s for its service manager" in err
    log = (tmp_path / "a" / "liveness-kiosk" / "logs" / "kiosk.log").read_text()
    assert "a bug in a slot" in log

    staffed_restart = kiosk_with_a_bug(tmp_path / "b")
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            staffed_restart.wait(timeout=8)  # started, failed, and waits for staff
    finally:
        staffed_restart.send_signal(signal.SIGTERM)
        _, err = staffed_restart.communicate(timeout=60)
    assert staffed_restart.returncode == 0, err
    assert "kiosk: unexpected error (ZeroDivisionError)" in err


def test_a_worker_that_never_stops_still_ends_with_the_status_decided(tmp_path):
    """Qt aborts a process that destroys a running thread (status -6, "QThread: Destroyed
    while thread is still running"); the kiosk leaves without destroying it."""
    kiosk = kiosk_with_a_bug(tmp_path / "a", "--supervised", hung=True)
    _, err = kiosk.communicate(timeout=120)
    assert kiosk.returncode == EXIT_FAILED, err
    assert "the kiosk worker did not stop within 10000 ms" in err
    assert "Destroyed while thread" not in err
