"""What staff read about the fleet: a kiosk whose role the server refuses, overrides and long
kiosk ids in ``kiosk audit list|stats|lockouts --fleet``, and the fleet's unlocks in the local
``kiosk audit lockouts`` (real PostgreSQL)."""

from __future__ import annotations

import time
from datetime import timedelta

import psycopg

from kiosk.audit.fleet.pgschema import WRITER_ROLE
from kiosk.audit.timeutil import utc_now
from tests.audit.conftest import make_record
from tests.audit.fleet.test_shared_lockouts import fail, staff


def kiosk_login(fleet_url: str, pg_cluster, role: str) -> str:
    """A kiosk's login role in the writer group, and its URL."""
    with psycopg.connect(fleet_url, autocommit=True) as conn:
        conn.execute(f'DROP ROLE IF EXISTS "{role}"; CREATE ROLE "{role}" LOGIN '
                     f"IN ROLE {WRITER_ROLE}")
    return pg_cluster.url(fleet_url.split("///")[1].split("?")[0], user=role)


def finish(audit, clock, decision: str = "pass") -> int:
    attempt = audit.open_attempt(started_at=clock.now, subject_ref=None, app_version="0.1.0",
                                 settings_digest="ab" * 32)
    clock.advance(seconds=10)
    audit.finish_attempt(attempt, make_record(clock, decision=decision,
                                              kiosk_id=audit.config.kiosk_id))
    return attempt


def test_a_kiosk_whose_role_is_not_named_as_its_id_keeps_its_rows_and_says_why(
        open_kiosk, clock, fleet_url, pg_cluster, site_key):
    fail(open_kiosk("east"), clock, "D-1")  # the owner's kiosk creates the schema
    url = kiosk_login(fleet_url, pg_cluster, "kiosk-west")
    west = open_kiosk("west", url=url)
    finish(west, clock)
    assert west.fleet is not None
    assert not west.fleet.sender.flush(10)
    assert west.fleet.sender.conflict == ("the server refused rows for kiosk 'west' from role "
                                          "'kiosk-west': name each kiosk's role after its "
                                          "kiosk id (kiosk.kiosk_id)")
    assert west.chain_head().head_seq == 1  # kept locally
    db = west.path
    west.close()
    status, text = staff(["fleet", "status", "--db", db], url, site_key, "west")
    assert status == 1, text  # its rows reach no other kiosk
    assert ("  REFUSED: the server refused rows for kiosk 'west' from role 'kiosk-west': name "
            "each kiosk's role after its kiosk id (kiosk.kiosk_id); the rows stay in the local "
            "log\n") in text
    assert "  sender's last error (" in text and "): refused: the server refused rows" in text


def test_the_fleets_list_and_stats_show_overrides_as_the_local_ones_do(
        open_kiosk, clock, fleet_url, site_key):
    east = open_kiosk("east")
    attempt = finish(east, clock, "fail")
    east.override(attempt, "pass", actor="anna", reason="checked the ID by hand")
    assert east.fleet is not None and east.fleet.sender.flush(10)
    _, listed = staff(["audit", "list", "--fleet"], fleet_url, site_key, "east")
    assert " fail, now pass " in listed, listed
    _, passed = staff(["audit", "list", "--fleet", "--decision", "pass"], fleet_url, site_key,
                      "east")
    _, failed = staff(["audit", "list", "--fleet", "--decision", "fail"], fleet_url, site_key,
                      "east")
    assert " fail, now pass " in passed and failed.splitlines()[-1].startswith("0 "), failed
    _, local = staff(["audit", "list", "--db", east.path], None, site_key, "east")
    assert " fail, now pass " in local
    _, stats = staff(["audit", "stats", "--fleet"], fleet_url, site_key, "east")
    assert ("lockouts: 0; operator unlocks: 0; decisions overridden by staff: 1 (the counts "
            "above are the decisions as recorded)\n") in stats, stats


def test_an_override_from_a_shell_reaches_the_fleets_views(open_kiosk, clock, fleet_url,
                                                           site_key):
    east = open_kiosk("east")
    attempt = finish(east, clock, "review")
    assert east.fleet is not None and east.fleet.sender.flush(10)
    db = east.path
    east.close()
    status, text = staff(["audit", "override", str(attempt), "--to", "pass", "--by", "anna",
                          "--reason", "ID checked by hand", "--db", db], fleet_url, site_key,
                         "east")
    assert status == 0, text
    assert text.splitlines()[:2] == [
        f"override #1 recorded by anna: attempt #{attempt} review, now pass",
        "  the fleet server holds it"]
    _, listed = staff(["audit", "list", "--fleet", "--decision", "pass"], fleet_url, site_key,
                      "west")
    assert " review, now pass " in listed, listed


def test_long_kiosk_ids_are_shown_whole(open_kiosk, clock, fleet_url, site_key):
    ids = ("reception-floor-1", "reception-floor-2")
    for kiosk_id in ids:
        kiosk = open_kiosk(kiosk_id)
        for _ in range(5):
            fail(kiosk, clock, f"D-{kiosk_id}")  # one lockout at each
    for command in ("list", "stats", "lockouts"):
        _, text = staff(["audit", command, "--fleet", "--all"] if command == "lockouts"
                        else ["audit", command, "--fleet"], fleet_url, site_key, ids[0])
        assert all(f"{kiosk_id} " in text for kiosk_id in ids), text


def test_the_local_lockouts_apply_the_fleets_unlocks(open_kiosk, clock, fleet_url, site_key,
                                                     tmp_path):
    clock.now = utc_now() - timedelta(minutes=2)  # the command runs on the real clock
    east, west = open_kiosk("east"), open_kiosk("west")
    for _ in range(5):
        fail(east, clock, "D-7")
    unlock = west.unlock("subject", east.subject_ref("D-7"), actor="anna", reason="badge ok")
    assert west.fleet is not None and west.fleet.sender.flush(10)
    db = east.path
    east.close()
    _, text = staff(["audit", "lockouts", "--db", db], fleet_url, site_key, "east")
    assert "\n0 lockout(s) in force\n" in text, text
    assert "`kiosk audit lockouts --fleet`" in text
    _, text = staff(["audit", "lockouts", "--all", "--db", db], fleet_url, site_key, "east")
    assert f"  lifted by unlock #{unlock.action_id} at west\n" in text, text
    down = f"postgresql:///kiosks?host={tmp_path / 'none'}&port=5432"
    t0 = time.monotonic()
    _, text = staff(["audit", "lockouts", "--db", db], down, site_key, "east")
    assert time.monotonic() - t0 < 10
    assert "\n1 lockout(s) in force\nthe fleet server could not be asked (" in text, text
    assert "a lockout lifted at another kiosk may show as in force here" in text


def test_the_fleets_actions_name_the_kiosk_each_was_recorded_at(open_kiosk, clock, fleet_url,
                                                                 site_key):
    """A camera refused at one kiosk and an override at another, read from anywhere."""
    east, west = open_kiosk("east"), open_kiosk("west")
    east.record_camera_refused({"kind": "camera", "device": "/dev/video2",
                                "name": "OBS Virtual Camera", "driver": "v4l2loopback",
                                "virtual": "driver 'v4l2loopback'"})
    # Shipped before west's rows exist: the server puts each row on its own clock with the
    # offset measured when it arrives, and this test's clock stands still in real time, so
    # the order of the two kiosks' rows is the order they were shipped in.
    assert east.fleet.sender.flush(10)
    clock.advance(seconds=5)
    attempt = finish(west, clock, "fail")
    west.override(attempt, "pass", actor="anna", reason="checked the ID by hand")
    assert west.fleet.sender.flush(10)
    status, text = staff(["audit", "actions", "--fleet"], fleet_url, site_key, "east")
    assert status == 0, text
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["KIOSK", "ID", "WHEN"]
    assert lines[1].split()[0] == "west" and " override " in lines[1]
    assert "checked the ID by hand: fail -> pass" in lines[1]
    assert lines[2].split()[0] == "east" and " camera_refused " in lines[2]
    assert lines[2].endswith("virtual camera refused: /dev/video2 'OBS Virtual Camera' "
                             "v4l2loopback; flagged virtual: driver 'v4l2loopback'")
    assert lines[-1] == "2 action(s) of the fleet, newest first"
    _, only = staff(["audit", "actions", "--fleet", "--action", "camera_refused"], fleet_url,
                    site_key, "west")
    assert [line.split()[0] for line in only.splitlines()[1:-1]] == ["east"]


def test_the_fleets_list_finds_one_persons_attempts_at_every_kiosk(open_kiosk, clock,
                                                                   fleet_url, site_key):
    """A request to see one's data at a site of several kiosks (privacy audit, F2)."""
    east, west = open_kiosk("east"), open_kiosk("west")
    fail(east, clock, "D-42")
    fail(west, clock, "d 42")  # the same number typed another way
    fail(west, clock, "D-43")
    status, listed = staff(["audit", "list", "--fleet", "--subject", "D-42"], fleet_url,
                           site_key, "east")
    assert status == 0, listed
    rows = listed.splitlines()[1:-1]
    assert sorted(line.split()[0] for line in rows) == ["east", "west"], listed
    assert listed.splitlines()[-1] == "2 attempt(s) of the fleet, newest first"
    ref = east.subject_ref("D-43")
    _, other = staff(["audit", "list", "--fleet", "--subject-ref", ref], fleet_url, site_key,
                     "east")
    assert [line.split()[0] for line in other.splitlines()[1:-1]] == ["west"], other
