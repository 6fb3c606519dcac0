"""``kiosk fleet status`` (and the fleet commands of ``kiosk audit``) when the server cannot
be reached: the cause in words, at once, and what was acknowledged in plain words."""

from __future__ import annotations

import contextlib
import io
import json
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from kiosk.audit import open_kiosk_log
from kiosk.audit.fleet.probe import connect_failure
from kiosk.cli import main
from tests.audit.conftest import make_record
from tests.audit.fleet.conftest import (  # noqa: F401  (fixtures, registered by import)
    fleet_url,
    kiosk_settings,
    open_kiosk,
    pg_cluster,
    site_key,
)

#: Long enough that a command waiting for it would be caught (the probe answers at once).
TIMEOUT_S = "10"


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A local port that is bound but never listens: every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"postgresql://kiosk@127.0.0.1:{sock.getsockname()[1]}/kiosks"


@pytest.fixture
def local_log(tmp_path: Path, site_key: Path) -> str:  # noqa: F811
    """A kiosk log that never had a fleet (nothing acknowledged)."""
    settings = kiosk_settings(tmp_path, "east", "", site_key)
    with open_kiosk_log(settings, tmp_path, fleet=False) as audit:
        return str(audit.path)


def status_of(tmp_path: Path, db: str, url: str, *extra: str) -> tuple[int, str, float]:
    env = {"HOME": str(tmp_path), "KIOSK_FLEET_URL": url, "KIOSK_KIOSK_KIOSK_ID": "east",
           "KIOSK_FLEET_CONNECT_TIMEOUT_S": TIMEOUT_S}
    out = io.StringIO()
    t0 = time.monotonic()
    with contextlib.redirect_stdout(out):
        status = main(["fleet", "status", "--db", db, *extra], env)
    return status, out.getvalue(), time.monotonic() - t0


def test_a_refused_port_is_named_at_once(tmp_path, local_log, refused_url):
    status, text, elapsed = status_of(tmp_path, local_log, refused_url)
    assert status == 1 and elapsed < 5.0, (elapsed, text)
    assert "  reachable: NO\n" in text
    assert "refused the connection: nothing listens on that host and port" in text
    assert "did not answer" not in text
    assert "  last acknowledged: never (no acknowledgement from the server is recorded " \
           "here)\n" in text
    assert "from the none" not in text


def test_an_unknown_service_is_named(tmp_path, local_log, monkeypatch):
    services = tmp_path / "pg_service.conf"
    services.write_text("[other]\nhost=localhost\n")
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    monkeypatch.setenv("PGSYSCONFDIR", str(tmp_path))
    status, text, elapsed = status_of(tmp_path, local_log, "postgresql:///k?service=nosuchsvc")
    assert status == 1 and elapsed < 5.0
    assert "is named by a service that is not defined" in text


def test_a_refused_login_says_so_without_naming_the_role(tmp_path, local_log, pg_cluster):  # noqa: F811
    status, text, _ = status_of(tmp_path, local_log, pg_cluster.url(user="mallory"))
    assert status == 1
    assert "refused the login: authentication failed (the server has no such role)" in text
    assert "mallory" not in text
    _, text, _ = status_of(tmp_path, local_log, pg_cluster.url("nowhere"))
    assert "has no such database" in text


def test_the_local_record_says_what_was_acknowledged(open_kiosk, clock, tmp_path,  # noqa: F811
                                                     refused_url):
    east = open_kiosk("east")
    for _ in range(2):
        attempt = east.open_attempt(started_at=clock.now, subject_ref=None,
                                    app_version="0.1.0", settings_digest="ab" * 32)
        east.finish_attempt(attempt, make_record(clock, kiosk_id="east"))
    assert east.fleet is not None and east.fleet.sender.flush(10)
    east.close()
    status, text, _ = status_of(tmp_path, east.path, refused_url)
    assert status == 1
    assert "  last acknowledged: seq 2 (from the local record of the last contact)\n" in text
    status, text, _ = status_of(tmp_path, east.path, refused_url, "--json")
    report = json.loads(text)
    assert report["acknowledged_from"] == "local record" and report["server_seq"] == 2
    assert report["error"].startswith("the fleet server 127.0.0.1:")


def test_a_server_never_reached_acknowledged_nothing(open_kiosk, tmp_path,  # noqa: F811
                                                      refused_url):
    east = open_kiosk("east", url=refused_url, flush_timeout_s=0.0)  # its state, no contact
    east.close()
    status, text, _ = status_of(tmp_path, east.path, refused_url)
    assert status == 1
    assert "  last contact: never\n" in text
    assert "  last acknowledged: never (no acknowledgement from the server is recorded " \
           "here)\n" in text


def test_a_server_that_answers_says_what_it_acknowledged(tmp_path, local_log, fleet_url):  # noqa: F811
    status, text, _ = status_of(tmp_path, local_log, fleet_url)
    assert status == 0, text
    assert "  last acknowledged: nothing yet (from the server)\n" in text


def test_before_the_kiosks_first_start_the_server_is_still_asked(  # noqa: F811
        tmp_path, fleet_url, open_kiosk, clock):  # noqa: F811
    fresh = str(tmp_path / "new" / "kiosk.db")  # setting a kiosk up: no log yet
    status, text, _ = status_of(tmp_path, fresh, fleet_url)
    assert status == 0, text
    assert "  reachable: yes (" in text
    assert f"kiosk: east; no local audit log yet at {fresh} (the kiosk has not run" in text
    assert "WARNING" not in text
    assert json.loads(status_of(tmp_path, fresh, fleet_url, "--json")[1])["local_log"] is False
    assert not Path(fresh).exists() and not Path(fresh).parent.exists()  # nothing created
    # Another kiosk already ships under the id this one is about to take.
    east = open_kiosk("east")
    attempt = east.open_attempt(started_at=clock.now, subject_ref=None, app_version="0.1.0",
                                settings_digest="ab" * 32)
    east.finish_attempt(attempt, make_record(clock, kiosk_id="east"))
    assert east.fleet is not None and east.fleet.sender.flush(10)
    east.close()
    _, text, _ = status_of(tmp_path, fresh, fleet_url)
    assert ("WARNING: the server already holds another kiosk's chain under the id 'east': "
            "give this kiosk its own kiosk.kiosk_id before it starts") in text


def test_a_lost_log_is_not_taken_for_a_new_kiosk(tmp_path, site_key, refused_url):  # noqa: F811
    settings = kiosk_settings(tmp_path, "east", "", site_key)
    with open_kiosk_log(settings, tmp_path, fleet=False) as audit:
        path = Path(audit.path)
    path.rename(tmp_path / "moved.db")
    env = {"HOME": str(tmp_path), "KIOSK_FLEET_URL": refused_url,
           "KIOSK_AUDIT_KEY_FILE": settings.audit.key_file}
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["fleet", "status", "--db", str(path)], env) == 2
    assert "though the kiosk kept its log" in err.getvalue()


def test_the_audit_fleet_commands_name_the_cause_at_once(tmp_path, refused_url, capsys):
    env = {"HOME": str(tmp_path), "KIOSK_FLEET_URL": refused_url,
           "KIOSK_FLEET_CONNECT_TIMEOUT_S": TIMEOUT_S}
    t0 = time.monotonic()
    assert main(["audit", "list", "--fleet"], env) == 2
    assert time.monotonic() - t0 < 5.0
    assert "refused the connection" in capsys.readouterr().err


@pytest.mark.parametrize("error, phrase", [
    # The tests may not resolve names (tests/cloud/conftest.py): psycopg's own message.
    (psycopg.OperationalError("failed to resolve host 'no-such-host.invalid': [Errno -2] "
                              "Name or service not known"),
     "cannot be found: its host name does not resolve"),
    (psycopg.OperationalError('connection failed: connection to server at "10.0.0.5", port '
                              '5432 failed: FATAL:  password authentication failed for user '
                              '"kiosk"'), "refused the login: authentication failed"),
    (psycopg.errors.ConnectionTimeout("connection timeout expired"),
     "did not answer within 7 s (timed out"),
    (psycopg.OperationalError('connection failed: FATAL:  no pg_hba.conf entry for host '
                              '"10.0.0.9", user "kiosk", database "kiosks"'),
     "no pg_hba.conf entry admits this host, role and database"),
    (psycopg.ProgrammingError('invalid connection option "foo"'),
     "is given by a connection string libpq refuses"),
    (psycopg.OperationalError('something new for user "kiosk" password=hunter2 x'),
     'is unavailable: something new for user "..." password=... x'),
])
def test_connect_failures_in_words(error, phrase):
    text = connect_failure(error, timeout_s=7)
    assert phrase in text
    assert "hunter2" not in text and '"kiosk"' not in text


def test_a_clock_far_off_the_servers_is_a_warning_line(tmp_path, local_log, fleet_url,  # noqa: F811
                                                       monkeypatch):
    # Every machine here shares one clock: a bound below zero makes its skew "far off".
    monkeypatch.setattr("kiosk.audit.fleet.skew.SKEW_BOUND", timedelta(seconds=-1))
    status, text, _ = status_of(tmp_path, local_log, fleet_url)
    assert status == 0, text
    assert "\n  WARNING: this kiosk's clock is " in text and "set the clock right (NTP)" in text


def record(audit, clock, rows: int = 1) -> None:
    for _ in range(rows):
        attempt = audit.open_attempt(started_at=clock.now, subject_ref=None,
                                     app_version="0.1.0", settings_digest="ab" * 32)
        audit.finish_attempt(attempt, make_record(clock, kiosk_id="east"))


def put_back(saved: Path, db: Path) -> None:
    """Going back (README): the older copy in place of the log."""
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.write_bytes(saved.read_bytes())


@pytest.fixture
def restored(open_kiosk, clock, tmp_path) -> Path:  # noqa: F811
    """East's log put back to a copy of it taken at seq 2, after the server got seq 3."""
    east = open_kiosk("east")
    record(east, clock, 2)
    assert east.fleet is not None and east.fleet.sender.flush(10)
    east.close()
    db = Path(east.path)
    saved = tmp_path / "kiosk.db.before"
    saved.write_bytes(db.read_bytes())
    east = open_kiosk("east")
    record(east, clock)
    assert east.fleet is not None and east.fleet.sender.flush(10)
    east.close()
    put_back(saved, db)
    return db


def test_an_older_copy_put_back_is_not_taken_for_a_kiosk_that_ships(tmp_path, fleet_url,  # noqa: F811
                                                                     restored):
    """Before, status printed "sender backlog: -1 row(s)" and exited 0."""
    status, text, _ = status_of(tmp_path, str(restored), fleet_url)
    assert status == 1, text
    assert "  last acknowledged: seq 3 (from the server)\n" in text
    assert "  sender backlog: none can ship" in text and "backlog: -" not in text
    assert ("  NOT SHIPPING: the local log no longer continues the server's copy (the server "
            "holds rows up to seq 3 but the local log ends at seq 2: rows were removed, or an "
            "older copy of the log was restored)") in text
    assert "give this kiosk a new kiosk.kiosk_id" in text
    status, text, _ = status_of(tmp_path, str(restored), fleet_url, "--json")
    report = json.loads(text)
    assert status == 1 and report["shipping"] is False and report["backlog"] is None
    assert "an older copy of the log was restored" in report["diverged"]


def test_an_older_copy_that_wrote_rows_since_does_not_continue_the_servers(  # noqa: F811
        tmp_path, fleet_url, restored, open_kiosk, clock):  # noqa: F811
    """Before, once the copy had written seq 3 (not the server's seq 3) status said backlog 0
    and "shipping": true, exit 0; with seq 4 too, backlog 1 until the sender tried."""
    east = open_kiosk("east", start=False)  # the sender has not found out (yet)
    clock.advance(minutes=1)  # the same row at the same time would be the server's seq 3
    record(east, clock)
    for rows in (3, 4):
        assert east.chain_head().head_seq == rows
        status, text, _ = status_of(tmp_path, str(restored), fleet_url)
        assert status == 1, text
        assert ("  NOT SHIPPING: the local log no longer continues the server's copy (seq 3 "
                "(attempts id 3): ") in text and "differ from the server's copy" in text
        report = json.loads(status_of(tmp_path, str(restored), fleet_url, "--json")[1])
        assert report["shipping"] is False and report["backlog"] is None
        record(east, clock)


def test_the_senders_last_error_says_when_it_was_recorded(  # noqa: F811
        tmp_path, fleet_url, refused_url, open_kiosk, clock):  # noqa: F811
    """Before, "reachable: yes" came with "sender's last error: ..." of an earlier run, and
    nothing said whether that error was current."""
    east = open_kiosk("east")
    record(east, clock)
    assert east.fleet is not None and east.fleet.sender.flush(10)
    east.close()
    clock.advance(minutes=5)
    down = open_kiosk("east", url=refused_url, connect_timeout_s=2.0, query_timeout_s=0.2,
                      flush_timeout_s=0.0)
    record(down, clock)
    deadline = time.monotonic() + 15
    while (state := down.fleet_state()) is None or state.last_error is None:
        assert time.monotonic() < deadline, "the sender recorded no error"
        time.sleep(0.05)
    assert state.last_contact is not None
    down.close()
    status, text, _ = status_of(tmp_path, down.path, fleet_url)
    assert status == 0, text
    # Its seq 2 waits, after the server's seq 1, which the local log continues.
    assert "  sender backlog: 1 row(s)\n" in text and "NOT SHIPPING" not in text
    contact = state.last_contact.isoformat(timespec="seconds")
    assert (f"  sender's last error (recorded after the sender's last successful contact, "
            f"{contact}; the server answers this check now): the fleet server ") in text
    report = json.loads(status_of(tmp_path, down.path, fleet_url, "--json")[1])
    assert report["sender_contact"] == state.last_contact.isoformat()
    assert report["sender_error"] == state.last_error
