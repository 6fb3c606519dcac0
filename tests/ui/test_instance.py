"""One kiosk at a time: the instance lock and the second instance's exit status."""

from __future__ import annotations

import os

import pytest

import main
from kiosk.ui.instance import EXIT_ALREADY_RUNNING, LOCK_NAME, AlreadyRunning, InstanceLock


def test_a_second_lock_is_refused_with_the_holders_pid(tmp_path):
    path = tmp_path / "data" / LOCK_NAME
    with InstanceLock(path) as first:
        assert first.held and path.read_text().strip() == str(os.getpid())
        with pytest.raises(AlreadyRunning, match=f"already running \\(process {os.getpid()}\\)"):
            InstanceLock(path).acquire()
    assert not first.held
    second = InstanceLock(path)
    second.acquire()
    second.acquire()  # idempotent
    second.release()


def test_main_exits_3_when_another_kiosk_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    with InstanceLock(tmp_path / "liveness-kiosk" / LOCK_NAME):
        assert main.main(["--windowed"]) == EXIT_ALREADY_RUNNING == 3
    assert "the kiosk is already running" in capsys.readouterr().err


def test_an_unwritable_data_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(Exception, match="cannot create the instance lock"):
        InstanceLock(blocker / LOCK_NAME).acquire()
