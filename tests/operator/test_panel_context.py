"""The operator context's answers that staff act on: a log gone or altered under the panel, a
list cut at its limit, PIN entries, and what a change made in the panel lasts."""

from __future__ import annotations

import os
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from kiosk.audit import (
    AuditConfig,
    AuditError,
    AuditLog,
    AuditUnavailable,
    RateLimitPolicy,
    SubjectHasher,
)
from kiosk.audit.startup import startup_check
from kiosk.camera import CameraHealth, SourceInfo
from kiosk.operator import AttemptFilter, OperatorContext
from kiosk.settings import Settings, load_settings
from tests.audit.conftest import Monotonic
from tests.operator import test_operator as base
from tests.operator.test_operator import PIN, Clock

# The context tests' fixtures, registered here under their names.
audit, clock, seeded = base.audit, base.clock, base.seeded


def context(audit: AuditLog, clock: Clock, **options: object) -> OperatorContext:
    values: dict = dict(settings=Settings().replace("kiosk", operator_pin=PIN), audit=audit,
                        camera_health=lambda: None, apply_settings=lambda s: None, clock=clock,
                        list_cameras=lambda: [])
    values.update(options)
    return OperatorContext(**values)


def tamper(db: Path, attempt_id: int) -> None:
    """Edit an attempt behind the kiosk's back, as someone with sqlite3 would."""
    raw = sqlite3.connect(db)
    (guard,) = raw.execute("SELECT sql FROM sqlite_master WHERE name = "
                           "'attempts_append_only'").fetchone()
    raw.execute("DROP TRIGGER attempts_append_only")
    raw.execute("UPDATE attempts SET decision = 'pass' WHERE id = ?", (attempt_id,))
    raw.execute(guard)  # put back: only the chain tells
    raw.commit()
    raw.close()


# -- S4: the file at the path -----------------------------------------------------------------

def test_verify_says_the_log_at_its_path_is_gone(audit: AuditLog, clock: Clock,
                                                 seeded: dict[str, int]) -> None:
    """The chain of the deleted file's open handle read as "intact"."""
    ctx = context(audit, clock)
    assert ctx.verify().ok
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(audit.path + suffix):
            os.remove(audit.path + suffix)
    with pytest.raises(AuditUnavailable, match="was moved, deleted or replaced"):
        ctx.verify()


# -- S3: a broken chain found by the panel ------------------------------------------------------

def test_a_broken_chain_puts_the_kiosk_out_of_service_in_the_start_up_words(
        audit: AuditLog, clock: Clock, seeded: dict[str, int]) -> None:
    faults: list[str] = []
    ctx = context(audit, clock, audit_fault=faults.append)
    assert ctx.verify().ok and faults == []
    tamper(Path(audit.path), seeded["a4"])
    assert not ctx.verify().ok
    with pytest.raises(AuditUnavailable) as at_start:
        startup_check(audit)  # what a restart would say of the same log
    assert faults == [str(at_start.value)]


def test_no_override_is_recorded_on_a_log_known_broken(audit: AuditLog, clock: Clock,
                                                      seeded: dict[str, int]) -> None:
    ctx = context(audit, clock)
    tamper(Path(audit.path), seeded["a4"])
    ctx.verify()
    for attempt_id in (seeded["a4"], seeded["a1"]):  # the altered row, and any other
        with pytest.raises(AuditError, match="altered"):
            ctx.override(attempt_id, "review", actor="alice", reason="checked")
    assert audit.operator_actions(action="override") == []


# -- B1: the list's limit -----------------------------------------------------------------------

def test_a_list_cut_at_its_limit_says_so(audit: AuditLog, clock: Clock,
                                        seeded: dict[str, int]) -> None:
    ctx = context(audit, clock)
    cut = ctx.find_attempts(AttemptFilter(limit=5))
    assert len(cut.rows) == 5 and cut.more
    whole = ctx.find_attempts(AttemptFilter(limit=6))
    assert len(whole.rows) == 6 and not whole.more
    searched = ctx.find_attempts(AttemptFilter(search="screen", limit=1))  # two match
    assert len(searched.rows) == 1 and searched.more and not searched.truncated


# -- B5: an empty PIN ---------------------------------------------------------------------------

def test_an_empty_pin_is_not_a_wrong_one(audit: AuditLog, clock: Clock) -> None:
    ctx = context(audit, clock)
    empty = ctx.check_pin("")
    assert (empty.accepted, empty.wrong, empty.wrong_in_a_row) == (False, False, 0)
    assert empty.message == "Type the PIN."
    assert audit.operator_actions() == []
    assert ctx.check_pin("000000").wrong_in_a_row == 1  # the first wrong one


# -- C5 and D1: what a change made in the panel does --------------------------------------------

def test_an_unlisted_camera_chosen_while_a_recording_plays_is_not_said_to_stop_the_kiosk(
        audit: AuditLog, clock: Clock) -> None:
    ctx = context(audit, clock, camera_source=lambda: SourceInfo(
        "/data/clip.mp4", is_live=False, switchable=False), camera_health=lambda: CameraHealth(
        frames=12, fps=25.0, nominal_fps=25.0, connected=True))
    change = ctx.choose_camera("/dev/video7", actor="alice")
    assert "out of service" not in change.warning
    assert "goes on playing the recording /data/clip.mp4" in change.warning
    note = ctx.camera_status().note
    assert "saved" not in note and "not used while it plays" in note
    on_camera = context(audit, clock, camera_source=lambda: SourceInfo(
        "camera 0", is_live=True, switchable=True))
    assert "out of service until it is connected" in on_camera.choose_camera(
        "/dev/video7", actor="alice").warning


def test_the_panel_says_its_changes_last_until_a_restart(audit: AuditLog, clock: Clock,
                                                        tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text("[liveness]\nchallenge_count = 4\n")
    from_file = context(audit, clock, settings=load_settings(path, {}))
    assert "until the kiosk restarts" in from_file.keep_hint
    assert f"the settings file {path}" in from_file.keep_hint
    defaults = context(audit, clock)
    assert "until the kiosk restarts" in defaults.keep_hint
    assert "kiosk settings" in defaults.keep_hint  # no file was read: where it would be


# -- a PIN refusal and the clock ---------------------------------------------------------------

@pytest.mark.parametrize("step", [timedelta(days=-1), timedelta(minutes=6)],
                         ids=["a-day-ahead-put-right", "clock-moved-on-after"])
def test_a_pin_refusal_lasts_five_real_minutes_whatever_the_date_does(
        tmp_path: Path, clock: Clock, step: timedelta) -> None:
    """Before, a refusal made with the date a day ahead shut staff out for a day once the
    date was put right, and a clock moved 6 minutes on gave five more guesses at once."""
    mono = Monotonic(clock)  # type: ignore[arg-type]
    config = AuditConfig(limits=RateLimitPolicy(max_failures=3, kiosk_max_failures=100))
    with AuditLog.open(tmp_path / "kiosk.db", config, clock=clock, monotonic=mono,
                       subject_hasher=SubjectHasher(base.KEY)) as audit:
        if step < timedelta(0):
            mono.jump(seconds=-step.total_seconds())  # the date runs ahead by that much
        ctx = context(audit, clock, monotonic=mono)
        for _ in range(5):
            ctx.check_pin("000000")
        mono.jump(seconds=step.total_seconds())
        assert not ctx.check_pin(PIN).accepted
        assert not context(audit, clock, monotonic=mono).check_pin(PIN).accepted
        clock.now += timedelta(minutes=5, seconds=1)  # five real minutes
        assert context(audit, clock, monotonic=mono).check_pin(PIN).accepted  # after a restart
        assert ctx.check_pin(PIN).accepted
