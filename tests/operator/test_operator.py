"""The operator panel's Qt-free logic against a real audit log in tmp_path."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kiosk.audit import (
    AttemptRecord,
    AuditConfig,
    AuditError,
    AuditLog,
    RateLimitPolicy,
    SubjectHasher,
)
from kiosk.audit.register import confirm
from kiosk.camera import CameraHealth, SourceInfo, VideoDevice
from kiosk.errors import ConfigError, InputError
from kiosk.operator import AttemptFilter, OperatorContext
from kiosk.operator.charts import chart_data
from kiosk.settings import Settings

T0 = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
PIN = "482913"
KEY = bytes(range(32))


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def record(end: datetime, decision: str, *, reasons: tuple[str, ...] = (),
           subject_ref: str | None = None, **extra: Any) -> AttemptRecord:
    values: dict[str, Any] = dict(
        kiosk_id="kiosk-1", started_at=end - timedelta(seconds=8), ended_at=end,
        subject_ref=subject_ref, decision=decision, app_version="0.1.0",
        settings_digest="cd" * 32,
        challenges=[
            {"action": "blink", "prompted_at": end - timedelta(seconds=6),
             "responded_at": end - timedelta(seconds=5, milliseconds=250), "outcome": "passed",
             "confidence": 0.91, "reason": None},
            {"action": "turn_left", "prompted_at": end - timedelta(seconds=4),
             "responded_at": None, "outcome": "timeout", "confidence": None,
             "reason": "NO_RESPONSE"},
        ],
        signals={"moire": {"score": 0.72, "confidence": 0.6, "reason": "SCREEN_SUSPECTED",
                           "details": {"peak": 3.25, "bins": 4}},
                 "texture": {"score": 0.15, "confidence": 0.85}},
        liveness_score=37.5,
        match={"matcher": "local", "similarity": 97.5, "matched": True, "reasons": []},
        reasons=reasons, cloud_calls=("CompareFaces",))
    values.update(extra)
    return AttemptRecord(**values)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def audit(tmp_path: Path, clock: Clock) -> Iterator[AuditLog]:
    config = AuditConfig(limits=RateLimitPolicy(max_failures=3, kiosk_max_failures=100))
    log = AuditLog.open(tmp_path / "kiosk.db", config, clock=clock,
                        subject_hasher=SubjectHasher(KEY))
    yield log
    log.close()


@pytest.fixture
def seeded(audit: AuditLog, clock: Clock) -> dict[str, int]:
    """Attempts over three days: ids 1-6."""
    ids = {}
    plan = [("pass", (), 3), ("fail", ("SCREEN_SUSPECTED",), 3), ("review", ("OFFLINE_MATCH",), 2),
            ("fail", ("CHALLENGE_FAILED",), 1), ("pass", (), 0), ("fail", ("SCREEN_SUSPECTED",), 0)]
    for i, (decision, reasons, days_ago) in enumerate(plan, 1):
        clock.now = T0 - timedelta(days=days_ago, minutes=60 - i)
        ids[f"a{i}"] = audit.record_attempt(record(clock.now, decision,
                                                   reasons=reasons)).attempt_id
    clock.now = T0
    return ids


@pytest.fixture
def applied() -> list[Settings]:
    return []


@pytest.fixture
def health() -> dict[str, CameraHealth | None]:
    return {"now": CameraHealth(frames=300, fps=29.5, nominal_fps=30.0, dropped=4, frozen=2,
                                frozen_run=0, connected=True)}


DEVICES = [
    VideoDevice("/dev/video0", 0, "HD Webcam", "uvcvideo", "usb", False, "", True),
    VideoDevice("/dev/video1", 1, "HD Webcam", "uvcvideo", "usb", False, "", False),
    VideoDevice("/dev/video2", 2, "OBS Virtual Camera", "v4l2 loopback", "", True,
                "virtual driver v4l2 loopback; name mentions OBS", True),
]


@pytest.fixture
def ctx(audit: AuditLog, clock: Clock, applied: list[Settings],
        health: dict[str, CameraHealth | None]) -> OperatorContext:
    settings = Settings().replace("kiosk", operator_pin=PIN)
    return OperatorContext(settings=settings, audit=audit, camera_health=lambda: health["now"],
                           apply_settings=applied.append, clock=clock,
                           list_cameras=lambda: list(DEVICES))


# -- PIN -------------------------------------------------------------------------------------

def test_right_pin_is_accepted_and_resets_the_count(ctx: OperatorContext,
                                                    audit: AuditLog) -> None:
    assert ctx.pin_enabled
    wrong = ctx.check_pin("000000")
    assert (wrong.accepted, wrong.wrong, wrong.wrong_in_a_row) == (False, True, 1)
    assert "4 more wrong entries" in wrong.message
    assert ctx.check_pin(PIN).accepted
    assert ctx.check_pin("1").wrong_in_a_row == 1


def test_five_wrong_pins_refuse_even_the_right_one_for_five_minutes(
        ctx: OperatorContext, audit: AuditLog, clock: Clock,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    results = [ctx.check_pin(f"99999{i}") for i in range(5)]
    assert [r.wrong_in_a_row for r in results] == [1, 2, 3, 4, 5]
    # Every one is refused, the one that starts the refusal too.
    assert [(r.accepted, r.wrong) for r in results] == [(False, True)] * 5
    assert results[-1].refused_until == T0 + timedelta(minutes=5)
    assert "try again in 5 minutes" in results[-1].message
    clock.now = T0 + timedelta(minutes=4, seconds=30)
    held = ctx.check_pin(PIN)
    assert (held.accepted, held.wrong) == (False, False)
    assert "try again in 30 s" in held.message
    clock.now = T0 + timedelta(minutes=5)
    assert ctx.check_pin(PIN).accepted
    # Each compared wrong PIN is recorded; the refused entry is not compared nor recorded.
    actions = audit.operator_actions(action="pin_refused")
    assert [a.details["in_a_row"] for a in actions] == [5, 4, 3, 2, 1]
    assert [a.details["refused"] for a in actions] == [True, False, False, False, False]
    assert {a.actor for a in actions} == {"operator panel"}
    assert audit.verify().ok
    # The PIN entered (right or wrong) appears nowhere: not in the log file, not in records.
    text = caplog.text + repr(actions)
    assert PIN not in text and "999994" not in text
    assert "wrong operator PIN (5 since the last right one)" in caplog.text
    assert "operator PIN refusal round 1: 5 wrong PINs since the last right one; every entry "\
        "refused for 5 minutes" in caplog.text


def test_empty_pin_disables_the_panel(audit: AuditLog) -> None:
    ctx = OperatorContext(settings=Settings(), audit=audit, camera_health=lambda: None,
                          apply_settings=lambda s: None)
    assert not ctx.pin_enabled
    result = ctx.check_pin("")
    assert not result.accepted and "disabled" in result.message
    assert audit.operator_actions() == []


# -- attempts --------------------------------------------------------------------------------

def test_filters_by_decision_reason_dates_and_text(ctx: OperatorContext,
                                                   seeded: dict[str, int]) -> None:
    def ids(**kw: Any) -> list[int]:
        return [r.id for r in ctx.find_attempts(AttemptFilter(**kw)).rows]

    assert ids() == [6, 5, 4, 3, 2, 1]
    assert ids(decision="fail") == [6, 4, 2]
    assert ids(reason="SCREEN_SUSPECTED") == [6, 2]
    assert ids(reason="SCREEN") == []  # a reason is a whole code
    assert ids(since=T0 - timedelta(days=2, hours=2), until=T0 - timedelta(hours=2)) == [4, 3]
    assert ids(search="offline") == [3]
    # Every attempt has a challenge that timed out with NO_RESPONSE.
    assert ids(search="no_resp", decision="pass") == [5, 1]
    assert ids(limit=2) == [6, 5]
    page = ctx.find_attempts(AttemptFilter(search="screen"))
    assert (page.scanned, page.truncated) == (6, False)
    # The database finds the attempts that mention the text; only codes count: every
    # attempt mentions "peak" (a detail of its moire signal), none carries it in a code.
    assert ids(search="peak") == [] and ids(search="SCREEN") == [6, 5, 4, 3, 2, 1]
    assert ctx.find_attempts(AttemptFilter(search="peak")).scanned == 6
    row = page.rows[0]
    assert (row.decision, row.liveness_score, row.reasons, row.subject) == \
        ("fail", 37.5, ("SCREEN_SUSPECTED",), "-")
    assert ctx.reason_codes() == ["SCREEN_SUSPECTED", "CHALLENGE_FAILED", "OFFLINE_MATCH"]


def test_bad_filters_are_input_errors() -> None:
    with pytest.raises(InputError, match="decision must be one of"):
        AttemptFilter(decision="maybe")
    with pytest.raises(InputError, match="start of the date range"):
        AttemptFilter(since=T0, until=T0)
    with pytest.raises(InputError, match="timezone-aware"):
        AttemptFilter(since=datetime(2026, 5, 1))


def test_detail_has_scores_timeline_match_and_calls(ctx: OperatorContext,
                                                    seeded: dict[str, int]) -> None:
    detail = ctx.attempt_detail(seeded["a2"])
    assert (detail.decision, detail.reasons, detail.liveness_score) == \
        ("fail", ("SCREEN_SUSPECTED",), 37.5)
    assert [(s.name, s.score, s.confidence, s.reason) for s in detail.signals] == [
        ("moire", 0.72, 0.6, "SCREEN_SUSPECTED"), ("texture", 0.15, 0.85, None)]
    assert detail.signals[0].details == "bins=4, peak=3.25"
    first, second = detail.timeline
    assert (first.prompt, first.outcome, first.response_s, first.confidence) == \
        ("blink", "passed", 0.75, 0.91)
    assert (second.prompt, second.responded_at, second.outcome, second.reason) == \
        ("turn left", None, "timeout", "NO_RESPONSE")
    assert detail.match == "matched by local, similarity 97.50, reasons none"
    assert detail.cloud_calls == ("CompareFaces",)
    assert detail.effective_decision == "fail" and detail.seq == 2


def test_override_is_recorded_and_shown(ctx: OperatorContext, audit: AuditLog,
                                        seeded: dict[str, int]) -> None:
    action = ctx.override(seeded["a2"], "pass", actor=" Alice Example ",
                          reason="badge and face checked at the desk")
    assert (action.actor, action.details) == ("Alice Example", {"from": "fail", "to": "pass"})
    detail = ctx.attempt_detail(seeded["a2"])
    assert detail.decision == "fail" and detail.effective_decision == "pass"
    assert detail.overrides[0].reason == "badge and face checked at the desk"
    row = [r for r in ctx.find_attempts().rows if r.id == seeded["a2"]][0]
    assert (row.decision, row.overridden_to, row.effective_decision) == ("fail", "pass", "pass")
    # The Decision filter finds it where the table shows it (before: under fail only).
    assert seeded["a2"] in [r.id for r in ctx.find_attempts(AttemptFilter(decision="pass")).rows]
    assert seeded["a2"] not in [r.id for r in
                                ctx.find_attempts(AttemptFilter(decision="fail")).rows]
    with pytest.raises(InputError, match="already has the decision 'pass'"):
        ctx.override(seeded["a2"], "pass", actor="Alice", reason="again")
    with pytest.raises(InputError, match="give a reason"):
        ctx.override(seeded["a1"], "fail", actor="Alice", reason=" ")
    assert len(audit.operator_actions(action="override")) == 1
    assert audit.verify().ok


# -- lockouts --------------------------------------------------------------------------------

def test_unlock_subject_and_kiosk_are_recorded(ctx: OperatorContext, audit: AuditLog,
                                               clock: Clock) -> None:
    ref = audit.subject_ref("BADGE-7")
    for _ in range(3):
        audit.record_attempt(record(clock.now, "fail", reasons=("SCREEN_SUSPECTED",),
                                    subject_ref=ref))
    locked = ctx.lockouts()
    assert [(lk.scope, lk.target) for lk in locked] == [("subject", ref)]
    with pytest.raises(InputError, match="type your name"):
        ctx.unlock("subject", ref, actor="", reason="checked")
    result = ctx.unlock_subject_number("BADGE-7", actor="Bob", reason="identity confirmed")
    assert [lk.id for lk in result.lifted] == [locked[0].id]
    assert ctx.lockouts() == []
    kiosk = ctx.unlock_kiosk(actor="Bob", reason="shift start")
    assert kiosk.lifted == ()
    actions = ctx.recent_actions()
    assert [(a.action, a.scope, a.actor, a.reason) for a in actions] == [
        ("unlock", "kiosk", "Bob", "shift start"),
        ("unlock", "subject", "Bob", "identity confirmed")]
    assert actions[1].target == ref and "BADGE-7" not in repr(actions)


# -- settings --------------------------------------------------------------------------------

def test_settings_are_validated_applied_and_recorded(ctx: OperatorContext, audit: AuditLog,
                                                     applied: list[Settings]) -> None:
    fields = {f.name: f for f in ctx.setting_fields()}
    assert fields["liveness.confidence_threshold"].text == "90"
    assert fields["liveness.challenge_count"].allowed == "int from 2 to 6"
    assert fields["matching.offline_policy"].choices == ("auto", "pass", "review")
    change = ctx.apply_changes({"liveness.confidence_threshold": "85.5",
                                "liveness.challenge_count": "4",
                                "liveness.response_window_s": "4",
                                "matching.offline_policy": "review"}, actor="Carol")
    assert change.changed == {"liveness.confidence_threshold": (90.0, 85.5),
                              "liveness.challenge_count": (3, 4),
                              "matching.offline_policy": ("auto", "review")}
    assert applied == [change.settings] and ctx.settings is change.settings
    assert (ctx.settings.liveness.confidence_threshold, ctx.settings.liveness.challenge_count,
            ctx.settings.matching.offline_policy) == (85.5, 4, "review")
    assert ctx.settings.kiosk.operator_pin == PIN
    action = audit.operator_actions(action="settings")[0]
    assert action.id == change.action_id and action.actor == "Carol"
    assert action.details["liveness.challenge_count"] == [3, 4]
    assert action.details["settings_digest"] == change.settings.digest()
    # Nothing different: nothing applied, nothing recorded.
    again = ctx.apply_changes({"liveness.challenge_count": "4"}, actor="Carol")
    assert again.changed == {} and len(applied) == 1


@pytest.mark.parametrize(("changes", "message"), [
    ({"liveness.challenge_count": "7"},
     r"liveness.challenge_count = 7 is out of range; allowed: int from 2 to 6"),
    ({"matching.similarity_threshold": "abc"},
     r"matching.similarity_threshold = 'abc' is not a number; allowed: float from 80 to 100"),
    ({"liveness.challenge_count": "3.5"}, r"liveness.challenge_count = '3.5' is not a whole number; allowed: int"),
    # A decimal comma is named, and a thousands comma is not taken for one (locale audit, 11).
    ({"matching.similarity_threshold": "92,5"},
     r"= '92,5' is not a number \(write the decimal point as a dot: 92.5\); allowed: float"),
    ({"matching.similarity_threshold": "1,000"}, r"= '1,000' is not a number; allowed: float"),
    ({"matching.offline_policy": "always"}, r"matching.offline_policy = 'always' is not allowed"),
    ({"kiosk.operator_pin": "1234"}, r"kiosk.operator_pin cannot be changed from the operator"),
    ({"camera.device": "/home/x/video.mp4"}, r"camera.device = '/home/x/video.mp4' is not a "),
    ({"camera.device": "/dev/video2"}, r"is a virtual camera \(virtual driver"),
])
def test_bad_settings_are_refused_with_key_and_range(
        ctx: OperatorContext, audit: AuditLog, applied: list[Settings],
        changes: dict[str, str], message: str) -> None:
    before = ctx.settings
    with pytest.raises(ConfigError, match=message):
        ctx.apply_changes(changes, actor="Carol")
    assert applied == [] and ctx.settings is before
    assert audit.operator_actions() == []


def test_failed_apply_changes_nothing(audit: AuditLog) -> None:
    def refuse(settings: Settings) -> None:
        raise ConfigError("the camera cannot be reopened")

    ctx = OperatorContext(settings=Settings(), audit=audit, camera_health=lambda: None,
                          apply_settings=refuse)
    with pytest.raises(ConfigError, match="cannot be reopened"):
        ctx.choose_camera("1", actor="Carol")
    assert ctx.settings.camera.device == "0" and audit.operator_actions() == []


def test_a_change_the_log_cannot_record_is_taken_back(tmp_path: Path, clock: Clock) -> None:
    """Before, a locked log still left the change in force ("applied, but the audit log could
    not record the change"): whoever holds the database's lock changed thresholds unseen."""
    import sqlite3

    config = AuditConfig(busy_timeout_s=0.2)
    path = tmp_path / "locked.db"
    applied: list[Settings] = []
    with AuditLog.open(path, config, clock=clock, subject_hasher=SubjectHasher(KEY)) as audit:
        ctx = OperatorContext(settings=Settings(), audit=audit, camera_health=lambda: None,
                              apply_settings=applied.append)
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(AuditError, match="could not record the change, so it was not "
                                                 "applied"):
                ctx.apply_changes({"liveness.challenge_count": "2"}, actor="Carol")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert ctx.settings.liveness.challenge_count == 3
        # Put into force, then taken back: what is in force at the end is the old settings.
        assert [s.liveness.challenge_count for s in applied] == [2, 3]
        assert audit.operator_actions() == []
        change = ctx.apply_changes({"liveness.challenge_count": "2"}, actor="Carol")
        assert change.action_id is not None and applied[-1].liveness.challenge_count == 2


# -- camera ----------------------------------------------------------------------------------

def test_camera_choices_mark_virtual_and_skip_metadata_nodes(ctx: OperatorContext,
                                                             applied: list[Settings]) -> None:
    choices = ctx.camera_choices()
    assert [c.spec for c in choices] == ["/dev/video0", "/dev/video2"]
    assert choices[0].warning == ""
    assert choices[1].is_virtual and "VIRTUAL" in choices[1].label
    assert "v4l2 loopback" in choices[1].warning and "the kiosk refuses it" in choices[1].warning
    change = ctx.choose_camera("/dev/video0", actor="Dan")
    assert change.changed == {"camera.device": ("0", "/dev/video0")}
    assert applied[-1].camera.device == "/dev/video0" and change.warning == ""
    # A device not connected now is applied (it may be plugged in next), with a warning.
    change = ctx.choose_camera("/dev/video7", actor="Dan")
    assert applied[-1].camera.device == "/dev/video7" and change.action_id is not None
    assert change.warning == ("camera.device = '/dev/video7' is not among the video devices "
                              "this machine lists now: the kiosk stays out of service until "
                              "it is connected.")


def test_camera_status_lines_and_warnings(ctx: OperatorContext,
                                          health: dict[str, CameraHealth | None]) -> None:
    ctx.camera_choices()
    status = ctx.camera_status()
    lines = dict(status.lines)
    assert status.connected and status.warnings == ()
    assert lines["frame rate"] == "29.5 fps (asked 30)"
    assert (lines["dropped"], lines["device"]) == ("4", "0 (HD Webcam)")
    assert lines["colour"] == "yes"
    health["now"] = CameraHealth(frames=90, fps=9.0, nominal_fps=30.0, frozen=40, frozen_run=30,
                                 connected=True)
    warned = ctx.camera_status().warnings
    assert any("not changed for 30 frames" in w for w in warned)
    assert any("9.0 fps of the 30" in w for w in warned)
    health["now"] = CameraHealth(frames=90, fps=30.0, nominal_fps=30.0, frozen_run=29,
                                 connected=True)
    assert ctx.camera_status().warnings == ()
    health["now"] = CameraHealth(frames=90, fps=30.0, nominal_fps=30.0, grey_run=45,
                                 connected=True)
    status = ctx.camera_status()
    assert dict(status.lines)["colour"] == "none for 45 frames"
    (warning,) = status.warnings
    assert warning.startswith("The picture has had no colour for 45 frames")
    health["now"] = None
    assert ctx.camera_status().warnings == ("No camera is running.",)


def test_virtual_camera_in_use_is_warned(audit: AuditLog) -> None:
    settings = Settings().replace("camera", device="2", allow_virtual=True)
    ctx = OperatorContext(settings=settings, audit=audit, camera_health=lambda: CameraHealth(
        frames=10, fps=30.0, nominal_fps=30.0, connected=True), apply_settings=lambda s: None,
        list_cameras=lambda: list(DEVICES))
    ctx.camera_choices()
    (warning,) = ctx.camera_status().warnings
    assert "VIRTUAL camera" in warning and "allow_virtual is on" in warning


def test_recording_given_at_start_is_named_as_such(audit: AuditLog) -> None:
    """A kiosk playing --source clip.mp4 says so: no "connected yes" for a camera it does
    not use, no "not found" for the camera setting, and a warning that no camera is watched."""
    ctx = OperatorContext(
        settings=Settings(), audit=audit, apply_settings=lambda s: None,
        camera_health=lambda: CameraHealth(frames=12, fps=25.0, nominal_fps=25.0,
                                           connected=True),
        camera_source=lambda: SourceInfo("/data/clip.mp4", is_live=False, switchable=False),
        list_cameras=lambda: [])
    (choice,) = ctx.camera_choices()
    assert choice.label == "0 (current setting; not in use while a recording plays)"
    status = ctx.camera_status()
    lines = dict(status.lines)
    assert lines["recording"] == "/data/clip.mp4" and lines["playing"] == "yes"
    assert "connected" not in lines and "device" not in lines
    assert "not watching a camera" in status.warnings[0]
    assert "not used while it plays" in status.note
    # The same kiosk on a camera: the device lines, no note.
    camera = OperatorContext(
        settings=Settings(), audit=audit, apply_settings=lambda s: None,
        camera_health=lambda: CameraHealth(frames=12, fps=30.0, nominal_fps=30.0,
                                           connected=True),
        camera_source=lambda: SourceInfo("camera 0", is_live=True, switchable=True),
        list_cameras=lambda: [])
    assert camera.camera_choices()[0].label == "0 (current setting; not found now)"
    assert dict(camera.camera_status().lines)["connected"] == "yes"
    assert camera.camera_status().note == ""


# -- audit check and charts ------------------------------------------------------------------

def test_verify_says_when_the_logs_loss_would_go_unnoticed(ctx: OperatorContext,
                                                          audit: AuditLog) -> None:
    # Opened here as a reading tool would, the log was never registered by a kiosk.
    assert "if this log is deleted or moved, the kiosk will not notice" in ctx.verify().unguarded
    confirm(audit.path, audit.chain_head().db_id, now="2026-05-01T12:00:00+00:00")
    assert ctx.verify().unguarded == ""


def test_verify_reports_intact_then_the_tampered_row(ctx: OperatorContext, audit: AuditLog,
                                                     seeded: dict[str, int],
                                                     tmp_path: Path) -> None:
    outcome = ctx.verify()
    assert outcome.ok and outcome.broken_row == ()
    assert outcome.summary.startswith("The audit log is intact: 6 rows checked")
    raw = sqlite3.connect(tmp_path / "kiosk.db")
    raw.execute("DROP TRIGGER attempts_append_only")
    raw.execute("UPDATE attempts SET decision = 'pass' WHERE id = 4")
    raw.commit()
    raw.close()
    outcome = ctx.verify()
    assert not outcome.ok
    brk = outcome.first_break
    assert (brk.table, brk.row_id, brk.seq) == ("attempts", 4, 4)
    assert "BROKEN at attempts #4 (seq 4): its content does not match its row hash" in \
        outcome.summary
    row = dict(outcome.broken_row)
    assert (row["attempt"], row["decision"], row["reasons"]) == ("4", "pass", "CHALLENGE_FAILED")


def test_chart_data_by_day_and_reason(ctx: OperatorContext, seeded: dict[str, int],
                                      audit: AuditLog, clock: Clock) -> None:
    # Neither a scripted evaluation run nor an attempt still open served anybody.
    audit.record_attempt(record(clock.now - timedelta(hours=1), "pass", scripted=True))
    audit.open_attempt(started_at=clock.now - timedelta(minutes=1), subject_ref=None,
                       app_version="0.1.0", settings_digest="ab" * 32)
    data = ctx.chart_data(days=5)
    assert (data.first_day, data.last_day, data.total) == (date(2026, 5, 6), date(2026, 5, 10), 6)
    assert data.passes_by_day == [("2026-05-06", 0), ("2026-05-07", 1), ("2026-05-08", 0),
                                  ("2026-05-09", 0), ("2026-05-10", 1)]
    assert [n for _, n in data.failures_by_day] == [0, 1, 0, 1, 1]
    assert [n for _, n in data.reviews_by_day] == [0, 0, 1, 0, 0]
    assert data.by_reason == [("SCREEN_SUSPECTED", 2), ("CHALLENGE_FAILED", 1),
                              ("OFFLINE_MATCH", 1)]
    assert ctx.chart_data(days=1).total == 2
    with pytest.raises(InputError, match="days must be"):
        ctx.chart_data(days=0)


def test_chart_reasons_beyond_the_top_are_summed_and_overrides_move_the_counts() -> None:
    from kiosk.audit.results import Outcome

    noon = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

    def stored(i: int, reasons: tuple[str, ...], day: int = 0):
        return Outcome(i, noon + timedelta(days=day), "fail", reasons)

    attempts = ([stored(i, ("A",)) for i in range(5)] + [stored(5 + i, ("B",)) for i in range(3)]
                + [stored(8, ("C",), day=1), stored(9, ("D",), day=1),
                   stored(10, ("E",), day=5)])  # outside the days shown
    data = chart_data(attempts, {9: "pass"}, date(2026, 5, 1), date(2026, 5, 2), top=2)
    assert data.by_reason == [("A", 5), ("B", 3), ("other", 2)]
    day1, day2 = noon.astimezone().date().isoformat(), (noon + timedelta(days=1)).astimezone(
        ).date().isoformat()
    assert dict(data.failures_by_day) == {day1: 8, day2: 1}
    assert dict(data.passes_by_day)[day2] == 1   # the override from fail to pass
    assert data.total == 10 and data.overridden == 1


# -- issue 13: the PIN count survives a restart; hashed PINs; finite, ASCII numbers ----------

def test_wrong_pins_are_still_counted_after_a_restart(audit: AuditLog, clock: Clock) -> None:
    settings = Settings().replace("kiosk", operator_pin=PIN)

    def panel() -> OperatorContext:  # a new kiosk process on the same audit database
        return OperatorContext(settings=settings, audit=audit, camera_health=lambda: None,
                               apply_settings=lambda s: None, clock=clock)

    for i in range(3):
        assert panel().check_pin(f"00000{i}").wrong_in_a_row == i + 1
    last = panel().check_pin("000009")
    assert last.wrong_in_a_row == 4
    refused = panel().check_pin("000008")
    assert refused.refused_until == T0 + timedelta(minutes=5)
    held = panel().check_pin(PIN)  # a restart does not clear the refusal
    assert not held.accepted and "try again in" in held.message
    clock.now = T0 + timedelta(minutes=5)
    assert panel().check_pin(PIN).accepted
    assert panel().check_pin("111111").wrong_in_a_row == 1  # the right PIN reset the count
    assert [a.action for a in audit.operator_actions(limit=2)] == ["pin_refused",
                                                                   "pin_accepted"]


def test_the_pins_digits_count_in_any_script(ctx: OperatorContext) -> None:
    """Staff at an Arabic keyboard layout type the right PIN as Arabic-Indic digits: it was
    a wrong entry, and five of them shut the panel (locale audit)."""
    assert ctx.check_pin("".join(chr(0x0660 + int(d)) for d in PIN)).accepted
    assert ctx.check_pin("".join(chr(0xFF10 + int(d)) for d in PIN)).accepted
    result = ctx.check_pin(PIN.replace("0", "O").replace("1", "l"))  # letters, not digits
    assert (result.accepted, result.wrong) == (False, True)


def test_a_hashed_pin_opens_the_panel(audit: AuditLog, clock: Clock) -> None:
    from kiosk.settings import hash_pin

    settings = Settings().replace("kiosk", operator_pin=hash_pin(PIN))
    ctx = OperatorContext(settings=settings, audit=audit, camera_health=lambda: None,
                          apply_settings=lambda s: None, clock=clock)
    assert not ctx.check_pin("000000").accepted
    assert ctx.check_pin(PIN).accepted


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-inf", "1e999", "\uff19\uff10"])
def test_the_panel_refuses_numbers_that_are_not_finite_or_not_ascii(ctx: OperatorContext,
                                                                    text: str) -> None:
    with pytest.raises(ConfigError, match="liveness.confidence_threshold = .* is not"):
        ctx.apply_changes({"liveness.confidence_threshold": text}, actor="alice",
                          reason="tuning")
    assert ctx.settings.liveness.confidence_threshold == 90.0
