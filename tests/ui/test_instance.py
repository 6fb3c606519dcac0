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


def test_the_same_log_through_a_symbolic_link_is_the_same_log(tmp_path, monkeypatch, capsys):
    """The lock was named from the path as typed: a second window whose audit.db_path was a
    link to the first's log ran beside it, both in service (concurrency audit, F2)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "kiosk.db").write_bytes(b"")
    alias = tmp_path / "elsewhere"
    alias.mkdir()
    (alias / "alias.db").symlink_to(site / "kiosk.db")
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[audit]\ndb_path = "{alias / "alias.db"}"\n')
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "other-user"))
    with InstanceLock(site / "kiosk.db.kiosk-lock"):  # the first kiosk, by the real path
        assert main.main(["--windowed", "--config", str(config)]) == EXIT_ALREADY_RUNNING
    assert "the kiosk is already running" in capsys.readouterr().err


def test_another_users_lock_file_refuses_a_second_kiosk(tmp_path, monkeypatch):
    """A kiosk under a second user could not open the first user's 0600 lock file: it exited
    2 ("Permission denied") while the first ran and after it stopped, and its service unit
    restarted it every 5 s (concurrency audit, F3). Now it is refused as a second kiosk."""
    path = tmp_path / LOCK_NAME
    path.write_text("4242\n")
    real_open = os.open

    def as_another_user(file, flags, *mode):  # the file is not this user's: 0600, refused
        if os.path.basename(file) == LOCK_NAME:
            raise PermissionError(13, "Permission denied", os.fspath(file))
        return real_open(file, flags, *mode)

    monkeypatch.setattr(os, "open", as_another_user)
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(path).st_uid + 1)
    with pytest.raises(AlreadyRunning, match=r"a kiosk of another user \(.+\) serves this "
                                             r"audit log; lock file "):
        InstanceLock(path).acquire()
    # No file there (a folder this user may not write): still an error, not another kiosk.
    with pytest.raises(Exception, match="cannot create the instance lock") as info:
        InstanceLock(tmp_path / "nobody-here" / LOCK_NAME).acquire()
    assert not isinstance(info.value, AlreadyRunning)
