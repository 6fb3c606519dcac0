"""No traceback ever reaches the person running a command: typed errors and bugs alike end
as one plain line and exit 2 (issue 13, case 8)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import kiosk.cli.settings as settings_cli
import kiosk.crashlog as crashlog
from kiosk.cli import main
from kiosk.crashlog import log_path, previous_path


@pytest.fixture
def env(tmp_path):
    return {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")}


def test_an_unexpected_error_is_one_line_exit_2_and_a_logged_traceback(env, tmp_path, capsys,
                                                                      monkeypatch):
    def boom(args, ctx):
        raise RuntimeError("something nobody expected")

    monkeypatch.setattr(settings_cli, "run", boom)
    assert main(["settings"], env) == 2
    err = capsys.readouterr().err
    logged = log_path(tmp_path / "data" / "liveness-kiosk")
    assert err.splitlines() == [f"kiosk settings: unexpected error (RuntimeError); the details "
                                f"are in {logged}"]
    text = logged.read_text()
    assert "Traceback" in text and "something nobody expected" in text
    assert oct(logged.stat().st_mode & 0o777) == "0o600"


def test_a_crash_loop_cannot_fill_the_disk(env, tmp_path, capsys, monkeypatch):
    # A unit restarts a kiosk that fails at start every 5 s for good: the log keeps the newest
    # tracebacks in two files of bounded size, both private.
    crashes = iter(range(1000))

    def boom(args, ctx):
        raise RuntimeError(f"crash number {next(crashes)}")

    monkeypatch.setattr(settings_cli, "run", boom)
    monkeypatch.setattr(crashlog, "MAX_BYTES", 4000)
    for _ in range(40):
        assert main(["settings"], env) == 2
    capsys.readouterr()
    logged = log_path(tmp_path / "data" / "liveness-kiosk")
    older = previous_path(logged)
    entry = max(len(block) for block in logged.read_text().split("--- ")[1:])
    for path in (logged, older):
        assert path.stat().st_size < 4000 + entry
        assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert "crash number 39" in logged.read_text()
    assert "crash number 0\n" not in logged.read_text() + older.read_text()
    assert sorted(p.name for p in logged.parent.iterdir()) == ["kiosk.log", "kiosk.log.1"]


def test_when_the_log_cannot_be_written_it_still_is_one_line(env, tmp_path, capsys,
                                                             monkeypatch):
    (tmp_path / "data").write_text("a file where the data folder should be")
    monkeypatch.setattr(settings_cli, "run", lambda args, ctx: 1 / 0)
    assert main(["settings"], env) == 2
    assert capsys.readouterr().err.strip().endswith("the log file could not be written")


@pytest.mark.parametrize("environ, message", [
    ({"KIOSK_KIOSK_KIOSK_ID": "kiosk\x07one"}, "kiosk.kiosk_id"),
    ({"KIOSK_KIOSK_KIOSK_ID": "k" * 5000}, "kiosk.kiosk_id"),
    ({"FACE_SIMILARITY_THRESHOLD": "nan"}, "matching.similarity_threshold"),
])
def test_bad_settings_are_refused_at_load_naming_the_key(env, capsys, environ, message):
    assert main(["settings"], {**env, **environ}) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


@pytest.mark.parametrize("subject", ["   ", "---", "\u200b\u00ad", "ab\udcff"])
def test_an_unusable_subject_number_is_a_plain_error(env, tmp_path, capsys, subject):
    source = tmp_path / "frames"  # an image folder: verify refuses a single image file
    source.mkdir()
    cv2.imwrite(str(source / "0001.png"), np.full((120, 160, 3), 128, np.uint8))
    status = main(["verify", "--source", str(source), "--db", str(tmp_path / "k.db"),
                   f"--subject={subject}"], env)
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err and err.count("\n") == 1
    assert "the badge or ID number cannot be used" in err
