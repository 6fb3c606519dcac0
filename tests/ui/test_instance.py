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


def test_main_exits_3_when_another_kiosk_runs_on_the_same_log(tmp_path, monkeypatch, capsys):
    """Two data folders (two users, or a hand start beside the service) on one audit log:
    before, the second window ran beside the first, on the same camera and lockouts."""
    site = tmp_path / "site"
    site.mkdir()
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[audit]\ndb_path = "{site / "kiosk.db"}"\n')
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "other-user"))
    with InstanceLock(site / "kiosk.db.kiosk-lock"):  # the first kiosk, on its own data folder
        assert main.main(["--windowed", "--config", str(config)]) == EXIT_ALREADY_RUNNING
    assert "the kiosk is already running" in capsys.readouterr().err
    # The data folder's own lock was let go: a kiosk may start there once the log is free.
    with InstanceLock(tmp_path / "other-user" / "liveness-kiosk" / LOCK_NAME) as again:
        assert again.held


def test_an_unwritable_data_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(Exception, match="cannot create the instance lock"):
        InstanceLock(blocker / LOCK_NAME).acquire()
