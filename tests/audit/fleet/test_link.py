"""The fleet link inside the audit log: the unreachable-server policy, the purge that keeps
unshipped rows, the local record of acknowledgements, and ``kiosk fleet status``."""

from __future__ import annotations

import contextlib
import io
import json
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from kiosk.audit import FleetSilent, RateLimited, open_kiosk_log
from kiosk.cli import main
from tests.audit.conftest import make_record
from tests.audit.fleet.conftest import kiosk_settings


def nowhere(tmp_path: Path) -> str:
    return f"postgresql:///kiosks?host={tmp_path / 'no-server'}&port=5432"


def start(audit, clock, subject=None):
    ref = audit.subject_ref(subject) if subject else None
    return audit.open_attempt(started_at=clock.now, subject_ref=ref, app_version="0.1.0",
                              settings_digest="ab" * 32)


def first_error(audit) -> str | None:
    """The sender's first error, waited for up to 15 s."""
    assert audit.fleet is not None
    deadline = time.monotonic() + 15
    while audit.fleet.sender.last_error is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return audit.fleet.sender.last_error


def test_refuse_policy_refuses_only_after_the_configured_silence(open_kiosk, clock, tmp_path):
    east = open_kiosk("east", url=nowhere(tmp_path), unreachable_policy="refuse",
                      refuse_after_min=10.0, query_timeout_s=0.2, flush_timeout_s=0.0)
    first = start(east, clock)
    east.finish_attempt(first, make_record(clock, kiosk_id="east"))
    clock.advance(minutes=9)
    start(east, clock)  # still within the stated 10 minutes
    assert east.fleet_refusal() is None  # the idle screen offers Start
    clock.advance(minutes=2)
    assert "has not answered for 11.0 min" in (east.fleet_refusal() or "")
    with pytest.raises(FleetSilent) as refused:
        start(east, clock)
    assert refused.value.scope == "kiosk" and refused.value.attempt_id is None
    assert refused.value.lockout is None
    assert "has not answered for 11.0 min" in refused.value.reason


def test_verify_names_the_silent_server_not_a_lockout(tmp_path, capsys):
    # Staff told "locked out after repeated failures" look for a lockout that does not exist;
    # the person reads that checks are paused, as at a locked kiosk.
    import cv2
    import numpy as np

    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(3):
        cv2.imwrite(str(frames / f"{i:04d}.png"), np.full((120, 160, 3), 128, np.uint8))
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
           "KIOSK_FLEET_URL": nowhere(tmp_path), "KIOSK_FLEET_UNREACHABLE_POLICY": "refuse",
           "KIOSK_FLEET_REFUSE_AFTER_MIN": "0", "KIOSK_FLEET_QUERY_TIMEOUT_S": "0.2",
           "KIOSK_FLEET_FLUSH_TIMEOUT_S": "0", "KIOSK_FLEET_CONNECT_TIMEOUT_S": "2"}
    status = main(["verify", "--source", str(frames), "--db", str(tmp_path / "k.db"),
                   "--json"], env)
    result = json.loads(capsys.readouterr().out)
    assert status == 1 and result["reasons"] == ["FLEET_SILENT"]
    assert result["attempt_id"] is None and result["lockouts"] == []
    assert main(["verify", "--source", str(frames), "--db", str(tmp_path / "k.db")], env) == 1
    out = capsys.readouterr().out
    assert "FLEET_SILENT" in out and "fleet server has not answered" in out
    assert "locked out" not in out


def test_local_policy_goes_on_with_local_counts(open_kiosk, clock, tmp_path):
    east = open_kiosk("east", url=nowhere(tmp_path), query_timeout_s=0.2, flush_timeout_s=0.0)
    clock.advance(hours=5)
    for _ in range(4):
        attempt = start(east, clock, "D-1")
        clock.advance(seconds=5)
        east.finish_attempt(attempt, make_record(clock, decision="fail", kiosk_id="east",
                                                 subject_ref=east.subject_ref("D-1")))
    assert east.active_lockout(east.subject_ref("D-1")) is None


def test_the_silence_is_counted_across_restarts(open_kiosk, clock, tmp_path):
    east = open_kiosk("east", url=nowhere(tmp_path), unreachable_policy="refuse",
                      refuse_after_min=10.0, query_timeout_s=0.2, flush_timeout_s=0.0)
    east.close()
    clock.advance(minutes=11)
    again = open_kiosk("east", url=nowhere(tmp_path), unreachable_policy="refuse",
                       refuse_after_min=10.0, query_timeout_s=0.2, flush_timeout_s=0.0)
    with pytest.raises(RateLimited):
        start(again, clock)


def test_a_server_that_answers_resets_the_silence(open_kiosk, clock):
    east = open_kiosk("east", unreachable_policy="refuse", refuse_after_min=1.0)
    assert east.fleet is not None and east.fleet.sender.flush(10)  # it created the schema
    clock.advance(minutes=30)
    start(east, clock)  # the server answered: no refusal whatever the time since configured
    assert east.fleet_refusal() is None
    # Not even with no silence allowed: the idle screen must offer Start while it answers.
    eager = open_kiosk("west", unreachable_policy="refuse", refuse_after_min=0.0)
    assert eager.active_lockout(None) is None  # answered
    clock.advance(seconds=5)  # the idle screen asks between two of its checks
    assert eager.fleet_refusal() is None


def test_the_purge_keeps_rows_the_server_does_not_hold(open_kiosk, clock, tmp_path):
    east = open_kiosk("east", url=nowhere(tmp_path), query_timeout_s=0.2, flush_timeout_s=0.0)
    for _ in range(3):
        east.finish_attempt(start(east, clock), make_record(clock, kiosk_id="east"))
    clock.advance(days=60)
    result = east.purge(timedelta(days=30))
    assert result.attempts == 0 and east.chain_head().anchor_seq == 0


def test_shipped_rows_may_be_purged(open_kiosk, clock):
    east = open_kiosk("east")
    for _ in range(3):
        east.finish_attempt(start(east, clock), make_record(clock, kiosk_id="east"))
    assert east.fleet is not None and east.fleet.sender.flush(10)
    state = east.fleet_state()
    assert state is not None and state.server_seq == 3 and state.last_contact is not None
    clock.advance(days=60)
    assert east.purge(timedelta(days=30)).attempts == 3


def test_the_staffs_purge_keeps_rows_the_server_does_not_hold(open_kiosk, clock, fleet_url,
                                                              site_key):
    """`kiosk audit purge` has no fleet link of its own: it keeps what the kiosk's record of
    acknowledgements says the server lacks (it removed those rows, and the sender then
    stopped for good: 'purged before the server received them')."""
    east = open_kiosk("east")
    east.finish_attempt(start(east, clock), make_record(clock, kiosk_id="east"))
    assert east.fleet is not None and east.fleet.sender.flush(10)
    east.close()
    east = open_kiosk("east", start=False)  # as with the server down: nothing more ships
    for _ in range(2):
        east.finish_attempt(start(east, clock), make_record(clock, kiosk_id="east"))
    db = east.path
    east.close()
    env = {"KIOSK_FLEET_URL": fleet_url, "KIOSK_KIOSK_KIOSK_ID": "east",
           "KIOSK_AUDIT_KEY_FILE": str(site_key)}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):  # the records are months older than today
        status = main(["audit", "purge", "--older-than", "1d", "--by", "staff", "--db", db],
                      env)
    text = out.getvalue()
    assert status == 0, text
    assert "kept 2 row(s) old enough to go: the fleet server has not received them" in text
    assert ": 1 attempt(s)" in text and "anchor now at seq 1;" in text
    again = open_kiosk("east")
    assert again.fleet is not None and again.fleet.sender.flush(10)
    assert again.fleet.sender.conflict is None
    state = again.fleet_state()
    assert state is not None and state.server_seq == again.chain_head().head_seq


def test_verify_fleet_says_when_rows_were_purged_before_the_server_got_them(
        open_kiosk, clock, fleet_url, site_key):
    east = open_kiosk("east")
    east.finish_attempt(start(east, clock), make_record(clock, kiosk_id="east"))
    assert east.fleet is not None and east.fleet.sender.flush(10)
    east.close()
    east = open_kiosk("east", start=False)
    for _ in range(2):
        east.finish_attempt(start(east, clock), make_record(clock, kiosk_id="east"))
    db = east.path
    east.close()
    local = {"KIOSK_KIOSK_KIOSK_ID": "east", "KIOSK_AUDIT_KEY_FILE": str(site_key)}
    with contextlib.redirect_stdout(io.StringIO()):  # settings without the fleet: no floor
        assert main(["audit", "purge", "--older-than", "1d", "--by", "staff", "--db", db],
                    local) == 0
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["audit", "verify", "--fleet", "--db", db],
                      {**local, "KIOSK_FLEET_URL": fleet_url})
    assert status == 1, out.getvalue()
    assert "fleet copy INCOMPLETE: rows 2-3 were purged from the local log before the server " \
           "received them" in out.getvalue()


def test_fleet_status_reports_backlog_acknowledgement_and_skew(open_kiosk, clock, tmp_path,
                                                               fleet_url, site_key):
    east = open_kiosk("east", start=False)
    for _ in range(4):
        east.finish_attempt(start(east, clock), make_record(clock, kiosk_id="east"))
    db = east.path
    env = {"HOME": str(tmp_path), "KIOSK_FLEET_URL": fleet_url,
           "KIOSK_KIOSK_KIOSK_ID": "east", "KIOSK_AUDIT_KEY_FILE": str(site_key)}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["fleet", "status", "--db", db], env)
    text = out.getvalue()
    assert status == 0, text
    assert "reachable: yes" in text and "sender backlog: 4 row(s)" in text
    assert "clock skew:" in text and "unknown" not in text.split("clock skew:")[1]
    east.start_fleet()
    assert east.fleet is not None and east.fleet.sender.flush(10)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["fleet", "status", "--db", db, "--json"], env) == 0
    report = json.loads(out.getvalue())
    assert report["backlog"] == 0 and report["server_seq"] == 4 and report["local_head"] == 4
    assert report["registered_db_matches"] is True


def test_the_sender_stops_at_a_rewritten_history_and_says_so(open_kiosk, clock, site_key):
    from tests.audit.fleet.tampering import rewrite_with_key

    east = open_kiosk("east")
    for _ in range(3):
        east.finish_attempt(start(east, clock), make_record(clock, kiosk_id="east"))
    assert east.fleet is not None and east.fleet.sender.flush(10)
    rewrite_with_key(Path(east.path), site_key, seq=2, changes={"decision": "review"})
    east.finish_attempt(start(east, clock), make_record(clock, kiosk_id="east"))
    assert not east.fleet.sender.flush(10)
    assert east.fleet.sender.conflict is not None
    assert "seq 4 does not continue the server's copy" in east.fleet.sender.conflict
    state = east.fleet_state()
    assert state is not None and state.server_seq == 3
    assert state.last_error is not None and state.last_error.startswith("conflict:")


def test_a_refused_login_is_named_rather_than_a_server_that_does_not_answer(
        open_kiosk, clock, fleet_url):
    """The pool retries a refused login until its time-out; one direct connection then says
    why, in the log and in the state `kiosk fleet status` shows."""
    url = fleet_url.replace("user=postgres", "user=no_such_role")
    assert url != fleet_url
    east = open_kiosk("east", url=url, connect_timeout_s=2.0, query_timeout_s=0.2,
                      flush_timeout_s=0.0)
    east.finish_attempt(start(east, clock), make_record(clock, kiosk_id="east"))
    error = first_error(east)
    assert error is not None and "refused the login" in error and "no such role" in error
    assert "did not answer" not in error
    time.sleep(0.3)  # recorded just after it is published
    state = east.fleet_state()
    assert state is not None and state.last_error == error


def test_closing_the_link_keeps_the_outage_it_found(open_kiosk, clock, tmp_path):
    """Closing the pool under a sender still waiting for a connection is no outage of its
    own: the state keeps the cause found (it read "the pool 'kiosk-fleet' is closed")."""
    east = open_kiosk("east", url=nowhere(tmp_path), connect_timeout_s=2.0,
                      query_timeout_s=0.2, flush_timeout_s=0.0)
    east.finish_attempt(start(east, clock), make_record(clock, kiosk_id="east"))
    found = first_error(east)
    assert found is not None and "is closed" not in found
    time.sleep(0.5)  # the sender is back inside the pool, waiting for a connection
    east.close()
    again = open_kiosk("east", url=nowhere(tmp_path), start=False)
    state = again.fleet_state()
    assert state is not None and state.last_error == found


def test_a_second_database_under_the_same_kiosk_id_is_a_conflict_not_an_acknowledgement(
        open_kiosk, clock, tmp_path, fleet_url, site_key):
    """Before, the twin took the first kiosk's head as its own acknowledgement: its rows
    counted as shipped (backlog 0) though the server never got them."""
    first = open_kiosk("east")
    for _ in range(2):
        first.finish_attempt(start(first, clock), make_record(clock, kiosk_id="east"))
    assert first.fleet is not None and first.fleet.sender.flush(10)
    twin = open_kiosk_log(kiosk_settings(tmp_path, "east", fleet_url, site_key,
                                         folder_name="twin"), tmp_path, clock=clock)
    try:
        twin.start_fleet()
        twin.finish_attempt(start(twin, clock), make_record(clock, kiosk_id="east"))
        assert twin.fleet is not None and not twin.fleet.sender.flush(10)
        assert "two kiosks share one kiosk id" in (twin.fleet.sender.conflict or "")
        state = twin.fleet_state()
        assert state is None or not state.server_seq
    finally:
        twin.close()
    env = {"KIOSK_FLEET_URL": fleet_url, "KIOSK_KIOSK_KIOSK_ID": "east",
           "KIOSK_AUDIT_KEY_FILE": str(site_key)}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        # Exit 1: its rows reach no other kiosk (before: 0, and a monitor saw nothing wrong).
        assert main(["fleet", "status", "--db", str(tmp_path / "twin" / "kiosk.db"), "--json"],
                    env) == 1
    report = json.loads(out.getvalue())
    assert report["registered_db_matches"] is False and report["shipping"] is False
    assert report["server_seq"] == 0 and report["backlog"] == report["local_head"] == 1
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["audit", "verify", "--fleet", "--db", str(tmp_path / "twin" / "kiosk.db")],
                    env) == 1
    assert "two kiosks share one kiosk id" in out.getvalue()


def test_a_row_that_names_its_camera_ships_as_stored_and_verifies(open_kiosk, clock, fleet_url,
                                                                  site_key):
    from tests.audit.test_camera import GRABBER

    east = open_kiosk("east")
    opened = east.open_attempt(started_at=clock.now, subject_ref=None, app_version="0.1.0",
                               settings_digest="ab" * 32, camera=GRABBER)
    east.finish_attempt(opened, make_record(clock, kiosk_id="east", camera=GRABBER))
    assert east.fleet is not None and east.fleet.sender.flush(10)
    db = east.path
    east.close()
    with psycopg.connect(fleet_url) as conn:
        (content,) = conn.execute("SELECT content FROM fleet_rows WHERE seq = 1").fetchone()
    assert json.loads(json.loads(content)["camera"]) == GRABBER  # the stored text, unchanged
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["audit", "verify", "--fleet", "--db", db],
                      {"KIOSK_KIOSK_KIOSK_ID": "east", "KIOSK_AUDIT_KEY_FILE": str(site_key),
                       "KIOSK_FLEET_URL": fleet_url})
    assert status == 0, out.getvalue()
    assert "fleet copy OK: 1 row(s) of kiosk 'east'" in out.getvalue()


def test_a_new_fleets_first_lockout_check_waits_for_its_own_schema(open_kiosk, caplog):
    """The first kiosk of a new fleet asked the server for lockouts about 60 ms before its
    sender created the tables: it fell back to its own counts and told staff to run
    `kiosk fleet migrate`, which nobody needed to."""
    audit = open_kiosk("east")  # a fresh database, no schema; the sender starts now
    assert audit.fleet is not None
    with caplog.at_level("WARNING"):
        view = audit.fleet.view(None, admission=True)
    assert view is not None
    assert "own counts" not in caplog.text and "fleet migrate" not in caplog.text
