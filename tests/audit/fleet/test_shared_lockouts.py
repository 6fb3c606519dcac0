"""Shared lockouts across the kiosks of a site, against a real PostgreSQL server."""

from __future__ import annotations

import contextlib
import io
from datetime import timedelta

import pytest

from kiosk.audit import AuditUnavailable, RateLimited, open_kiosk_log
from kiosk.audit.timeutil import utc_now
from kiosk.cli import main
from kiosk.reasons import Reason
from tests.audit.conftest import make_record
from tests.audit.fleet.conftest import kiosk_settings


def fail(audit, clock, subject: str, reasons=("LIVENESS_FAILED",)):
    ref = audit.subject_ref(subject)
    attempt = audit.open_attempt(started_at=clock.now, subject_ref=ref, app_version="0.1.0",
                                 settings_digest="ab" * 32)
    clock.advance(seconds=10)
    record = make_record(clock, decision="fail", subject_ref=ref, kiosk_id=audit.config.kiosk_id,
                         reasons=list(reasons))
    result = audit.finish_attempt(attempt, record)
    assert audit.fleet is not None and audit.fleet.sender.flush(10)
    return result


def test_failures_at_two_kiosks_add_up_and_lock_the_subject_at_both(open_kiosk, clock):
    east, west = open_kiosk("east"), open_kiosk("west")
    for _ in range(3):
        assert fail(east, clock, "D-1234").lockouts == ()
    assert fail(west, clock, "D-1234").lockouts == ()
    started = fail(west, clock, "D-1234").lockouts
    assert [(lk.scope, lk.failures, lk.kiosk_id) for lk in started] == [("subject", 5, "west")]
    ref = east.subject_ref("D-1234")
    for audit in (east, west):
        with pytest.raises(RateLimited) as refused:
            audit.open_attempt(started_at=clock.now, subject_ref=ref, app_version="0.1.0",
                               settings_digest="ab" * 32)
        assert refused.value.scope == "subject"
        assert refused.value.lockout is not None and refused.value.lockout.kiosk_id == "west"
    # the refusal at east is a recorded failure there, with RATE_LIMITED
    blocked = east.list_attempts(limit=1)[0]
    assert blocked.kiosk_id == "east"
    assert blocked.record is not None and blocked.record.reasons == (Reason.RATE_LIMITED,)


def test_a_subject_is_not_locked_by_failures_of_another_subject(open_kiosk, clock):
    east, west = open_kiosk("east"), open_kiosk("west")
    for _ in range(3):
        fail(east, clock, "A-1")
    for _ in range(2):
        fail(west, clock, "B-2")
    assert east.active_lockout(east.subject_ref("A-1")) is None
    assert west.active_lockout(west.subject_ref("B-2")) is None


def test_failures_outside_the_window_do_not_add_up(open_kiosk, clock):
    east, west = open_kiosk("east"), open_kiosk("west")
    for _ in range(3):
        fail(east, clock, "D-1")
    clock.advance(minutes=16)
    for _ in range(2):
        assert fail(west, clock, "D-1").lockouts == ()


def test_an_unlock_at_one_kiosk_lifts_the_lockout_everywhere(open_kiosk, clock):
    east, west = open_kiosk("east"), open_kiosk("west")
    for _ in range(5):
        fail(east, clock, "D-9")
    ref = east.subject_ref("D-9")
    assert west.active_lockout(ref) is not None
    west.unlock("subject", ref, actor="staff", reason="checked the badge")
    assert west.fleet is not None and west.fleet.sender.flush(10)
    assert east.active_lockout(ref) is None
    assert west.active_lockout(ref) is None
    # the count starts again everywhere: four more failures lock nobody
    for _ in range(2):
        assert fail(east, clock, "D-9").lockouts == ()
    for _ in range(2):
        assert fail(west, clock, "D-9").lockouts == ()


def test_the_kiosk_lockout_stays_per_kiosk(open_kiosk, clock):
    east, west = open_kiosk("east"), open_kiosk("west")
    policy = east.config.limits
    for n in range(policy.limit("kiosk") // 2):
        fail(east, clock, f"E-{n}")
        fail(west, clock, f"W-{n}")
    assert east.active_lockout(None) is None and west.active_lockout(None) is None


def test_a_kiosk_lockout_lifted_from_another_kiosk(open_kiosk, clock):
    east, west = open_kiosk("east"), open_kiosk("west")
    for n in range(east.config.limits.limit("kiosk")):
        fail(east, clock, f"X-{n}")
    assert east.active_lockout(None) is not None
    west.unlock("kiosk", "east", actor="staff", reason="false alarm")
    assert west.fleet is not None and west.fleet.sender.flush(10)
    assert east.active_lockout(None) is None


def test_time_outs_at_another_kiosk_count_for_the_subject_only(open_kiosk, clock):
    east, west = open_kiosk("east"), open_kiosk("west")
    for _ in range(4):
        fail(east, clock, "T-1", reasons=("CHALLENGE_TIMEOUT",))
    started = fail(west, clock, "T-1", reasons=("CHALLENGE_TIMEOUT",)).lockouts
    assert [lk.scope for lk in started] == ["subject"]
    clock.advance(minutes=31)
    assert west.active_lockout(west.subject_ref("T-1")) is None
    assert timedelta(minutes=31) > west.config.limits.lockout


def test_scripted_runs_at_another_kiosk_count_for_nobody(open_kiosk, clock):
    from kiosk.audit.fleet.views import fleet_attempts, fleet_stats

    east, west = open_kiosk("east"), open_kiosk("west")
    ref = east.subject_ref("S-1")
    limit = east.config.limits.limit("subject")
    for _ in range(limit):
        opened = east.open_attempt(started_at=clock.now, subject_ref=ref, app_version="0.1.0",
                                   settings_digest="ab" * 32, scripted=True)
        clock.advance(seconds=10)
        record = make_record(clock, decision="fail", subject_ref=ref, kiosk_id="east",
                             reasons=["LIVENESS_FAILED"], scripted=True)
        assert east.finish_attempt(opened, record).lockouts == ()
    assert east.fleet is not None and east.fleet.sender.flush(10)
    # West sees the rows, marked, and counts none of them: its own failures lock at the limit.
    assert west.fleet is not None
    shipped = fleet_attempts(west.fleet.store, kiosk_id="east")
    assert [a.scripted for a in shipped] == [True] * limit
    stats = fleet_stats(west.fleet.store)
    assert (stats.total, stats.scripted) == (0, limit)
    results = [fail(west, clock, "S-1") for _ in range(limit)]
    assert [bool(r.lockouts) for r in results] == [False] * (limit - 1) + [True]


def staff(argv: list[str], fleet_url: str | None, site_key, kiosk_id: str,
          **more: str) -> tuple[int, str]:
    """``kiosk ...`` as staff run it at ``kiosk_id`` (its own process, no fleet link open)."""
    env = {"KIOSK_KIOSK_KIOSK_ID": kiosk_id, "KIOSK_AUDIT_KEY_FILE": str(site_key), **more}
    if fleet_url is not None:
        env["KIOSK_FLEET_URL"] = fleet_url
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(argv, env)
    return status, out.getvalue()


def test_kiosk_audit_unlock_at_another_kiosk_names_the_lockout_and_lifts_it_at_once(
        open_kiosk, clock, fleet_url, site_key):
    """Before, it said 'no lockout was in force' and shipped nothing until the kiosk's next
    run, so the kiosk that recorded the lockout kept refusing the person."""
    clock.now = utc_now() - timedelta(minutes=2)  # the command runs on the real clock
    east, west = open_kiosk("east"), open_kiosk("west")
    for _ in range(5):
        fail(east, clock, "D-7")
    ref = east.subject_ref("D-7")
    db = west.path
    west.close()
    status, text = staff(["audit", "unlock", "--subject", "D-7", "--by", "alice", "--reason",
                          "checked the badge", "--db", db], fleet_url, site_key, "west")
    assert status == 0, text
    assert "of kiosk east (until " in text and "lifted at every kiosk" in text
    assert "no lockout was in force" not in text
    assert east.active_lockout(ref) is None  # east honours the server's copy at once


def test_kiosk_audit_unlock_with_the_fleet_down_says_the_unlock_waits(
        open_kiosk, clock, tmp_path, site_key):
    west = open_kiosk("west", url=f"postgresql:///kiosks?host={tmp_path / 'none'}&port=5432",
                      query_timeout_s=0.2, flush_timeout_s=0.0)
    db = west.path
    west.close()
    status, text = staff(["audit", "unlock", "--subject", "D-8", "--by", "alice", "--reason",
                          "checked", "--db", db],
                         f"postgresql:///kiosks?host={tmp_path / 'none'}&port=5432", site_key,
                         "west", KIOSK_FLEET_FLUSH_TIMEOUT_S="1")
    assert status == 0, text
    assert "the fleet server did not take the unlock now (" in text
    assert "it is kept and sent later" in text
    assert "no lockout was in force (the fleet's lockouts could not be read)" in text


def test_a_second_kiosk_given_the_same_id_still_honours_its_lockouts(open_kiosk, clock,
                                                                     tmp_path, fleet_url,
                                                                     site_key):
    """Its own rows are refused by the server (a conflict), and the lockout check took every
    row under its id for its own: the first kiosk's lockout did not refuse the person."""
    east = open_kiosk("east")
    for _ in range(5):
        fail(east, clock, "T-1")
    twin = open_kiosk_log(kiosk_settings(tmp_path, "east", fleet_url, site_key,
                                         folder_name="twin"), tmp_path, clock=clock)
    try:
        twin.fleet.store.server_clock = clock  # the site's time, as open_kiosk gives it
        twin.start_fleet()
        with pytest.raises(RateLimited) as refused:
            twin.open_attempt(started_at=clock.now, subject_ref=twin.subject_ref("T-1"),
                              app_version="0.1.0", settings_digest="ab" * 32)
        assert refused.value.scope == "subject"
        assert refused.value.lockout is not None and refused.value.lockout.kiosk_id == "east"
    finally:
        twin.close()
    # The first kiosk does not count its own rows twice: one more failure is no new lockout.
    assert east.active_lockout(east.subject_ref("T-1")) is not None
    assert [lk.failures for lk in east.lockouts(active_only=False)] == [5]


def test_kiosk_audit_unlock_keeps_the_unlock_when_the_link_cannot_open(
        open_kiosk, clock, fleet_url, site_key, monkeypatch):
    """The unlock is recorded before it is sent: a link that fails to open is no error."""
    import kiosk.audit.factory as factory

    west = open_kiosk("west")
    db = west.path
    west.close()

    def locked(*_args, **_kwargs):
        raise AuditUnavailable("the audit database is locked by another program (test)",
                               reason="locked")

    monkeypatch.setattr(factory, "attach_fleet", locked)
    status, text = staff(["audit", "unlock", "--subject", "D-9", "--by", "alice", "--reason",
                          "checked", "--db", db], fleet_url, site_key, "west")
    assert status == 0, text
    assert "unlock #" in text and "it is kept and sent later" in text
