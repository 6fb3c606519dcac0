"""Store-and-forward with real processes and a real PostgreSQL server: the server stopped
during a burst, a kiosk killed mid-send, two ``kiosk verify`` processes sharing a lockout, a
local row edited after it was shipped, and the unreachable-server policy."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import psycopg
import pytest

from kiosk.audit import create_key_file
from kiosk.lab.pgcluster import PgCluster
from tests.audit.fleet.conftest import new_database

REPO = Path(__file__).resolve().parents[3]


class Kiosk:
    """One kiosk's folder and environment (its own database, the site's key file)."""

    def __init__(self, root: Path, kiosk_id: str, url: str, key: Path, **env: str) -> None:
        self.folder = root / kiosk_id
        (self.folder / "data").mkdir(parents=True, exist_ok=True)
        self.db = self.folder / "data" / "kiosk.db"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
        self.env.update({"PYTHONPATH": str(REPO), "HOME": str(self.folder),
                         "KIOSK_KIOSK_KIOSK_ID": kiosk_id, "KIOSK_AUDIT_DB_PATH": str(self.db),
                         "KIOSK_AUDIT_KEY_FILE": str(key), "KIOSK_FLEET_URL": url,
                         "KIOSK_FLEET_RETRY_MAX_S": "1", **env})

    def driver(self, *args: str, background: bool = False, **env: str):
        argv = [sys.executable, "-m", "tests.audit.fleet.driver", *args]
        proc = subprocess.Popen(argv, cwd=REPO, env={**self.env, **env},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if background:
            return proc
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
        return json.loads(out.strip().splitlines()[-1])

    def kiosk(self, *argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "kiosk", *argv], cwd=REPO, env=self.env,
                              capture_output=True, text=True, timeout=300, check=False)


def grey_folder(tmp_path: Path, frames: int = 2) -> Path:
    """An image folder of grey frames: a source with no face (``kiosk verify`` refuses a
    single image, as a file or as a folder of one, so there are at least two)."""
    folder = tmp_path / "grey"
    folder.mkdir()
    for i in range(frames):
        cv2.imwrite(str(folder / f"{i + 1:04d}.png"), np.full((120, 160, 3), 128, np.uint8))
    return folder


def server_rows(url: str, kiosk_id: str) -> list[int]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT seq FROM fleet_rows WHERE kiosk_id = %s "
                                           "ORDER BY seq", [kiosk_id])]


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "site.key"
    create_key_file(path)
    return path


@pytest.fixture
def own_cluster():
    """A cluster this test may stop and start."""
    cluster = PgCluster().start()
    yield cluster
    cluster.close()


def test_server_stopped_during_a_burst_loses_and_duplicates_nothing(tmp_path, key,
                                                                     own_cluster):
    url = new_database(own_cluster)
    east = Kiosk(tmp_path, "east", url, key, KIOSK_FLEET_FLUSH_TIMEOUT_S="60")
    proc = east.driver("burst", "60", "0.05", background=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if len(server_rows(url, "east")) >= 10:
                break
        except psycopg.Error:
            pass
        time.sleep(0.05)
    own_cluster.stop("immediate")  # a crash of the server in the middle of the burst
    time.sleep(2.0)
    own_cluster.start()
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    result = json.loads(out.strip().splitlines()[-1])
    assert result["head"] == 60
    assert server_rows(url, "east") == list(range(1, 61))  # every row once, in order
    verified = east.kiosk("audit", "verify", "--fleet")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "fleet copy OK: 60 row(s)" in verified.stdout


def test_a_kiosk_killed_mid_send_resumes_without_gaps_or_duplicates(tmp_path, key,
                                                                    pg_cluster):
    url = new_database(pg_cluster)
    total = 1500
    east = Kiosk(tmp_path, "east", url, key, KIOSK_FLEET_BATCH_ROWS="3")
    assert east.driver("write", str(total))["head"] == total
    proc = east.driver("ship", background=True)
    deadline = time.monotonic() + 60
    count = 0  # kill the sender once the server holds some rows, watching on one connection
    while time.monotonic() < deadline and count < 30:
        with contextlib.suppress(psycopg.Error), psycopg.connect(url, autocommit=True) as conn:
            while time.monotonic() < deadline and count < 30:
                found = conn.execute("SELECT count(*) FROM fleet_rows").fetchone()
                count = found[0] if found else 0
                time.sleep(0.002)
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    before = server_rows(url, "east")
    assert 0 < len(before) < total, "the kill came too late to interrupt the transfer"
    assert before == list(range(1, len(before) + 1))
    result = east.driver("ship")
    assert result["state"] == total
    assert server_rows(url, "east") == list(range(1, total + 1))
    with psycopg.connect(url) as conn:
        batches = conn.execute("SELECT first_seq, last_seq FROM fleet_batches WHERE kiosk_id "
                               "= 'east' ORDER BY id").fetchall()
    assert sum(last - first + 1 for first, last in batches) == total  # nothing stored twice


def test_two_kiosk_verify_processes_share_a_subject_lockout(tmp_path, key, pg_cluster):
    url = new_database(pg_cluster)
    source = grey_folder(tmp_path)  # no face: every session fails
    east, west = Kiosk(tmp_path, "east", url, key), Kiosk(tmp_path, "west", url, key)

    def verify(kiosk: Kiosk) -> dict:
        done = kiosk.kiosk("verify", "--source", str(source), "--subject", "D-1234", "--json")
        assert done.returncode == 1, done.stderr[-2000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    for _ in range(3):
        assert verify(east)["lockouts"] == []
    assert verify(west)["lockouts"] == []
    fifth = verify(west)
    assert [lk["scope"] for lk in fifth["lockouts"]] == ["subject"]
    for kiosk in (east, west):
        refused = verify(kiosk)
        assert refused["reasons"] == ["RATE_LIMITED"]
    listed = east.kiosk("audit", "lockouts", "--fleet")
    assert listed.returncode == 0, listed.stderr
    assert "west" in listed.stdout and "1 lockout(s) of the fleet in force" in listed.stdout
    attempts = west.kiosk("audit", "list", "--fleet")
    kiosks = [line.split()[0] for line in attempts.stdout.splitlines()[1:-1]]
    assert sorted(kiosks) == ["east"] * 4 + ["west"] * 3, attempts.stdout


def test_scripted_runs_at_one_kiosk_are_marked_everywhere_and_lock_nobody(tmp_path, key,
                                                                            pg_cluster):
    url = new_database(pg_cluster)
    source = grey_folder(tmp_path, frames=45)  # 3 s at the folder rate: room for the prompt
    east, west = Kiosk(tmp_path, "east", url, key), Kiosk(tmp_path, "west", url, key)
    for _ in range(5):
        done = east.kiosk("verify", "--source", str(source), "--subject", "D-7", "--script",
                          "blink@0.5", "--json")
        assert done.returncode == 1, done.stderr[-2000:]
        assert json.loads(done.stdout.strip().splitlines()[-1])["lockouts"] == []
    listed = west.kiosk("audit", "list", "--fleet")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count(" fail (scripted) ") == 5, listed.stdout
    stats = west.kiosk("audit", "stats", "--fleet")
    assert "attempts of the fleet: 0\n" in stats.stdout
    assert "scripted evaluation runs, not counted: 5" in stats.stdout
    done = west.kiosk("verify", "--source", str(source), "--subject", "D-7", "--json")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert "RATE_LIMITED" not in report["reasons"] and report["lockouts"] == []


def test_a_local_row_edited_after_shipping_is_caught_even_with_the_key(tmp_path, key,
                                                                       pg_cluster):
    from tests.audit.fleet.tampering import rewrite_with_key

    url = new_database(pg_cluster)
    east = Kiosk(tmp_path, "east", url, key)
    east.driver("burst", "5")
    rewrite_with_key(east.db, key, seq=3, changes={"decision": "fail"})
    local = east.kiosk("audit", "verify")
    assert local.returncode == 0, local.stdout  # the key holder fooled the local check
    checked = east.kiosk("audit", "verify", "--fleet")
    assert checked.returncode == 1
    assert "fleet copy DIFFERS at seq 3 (attempts id 3): decision differ" in checked.stdout


@pytest.mark.parametrize("policy, refused", [("local", False), ("refuse", True)])
def test_an_unreachable_server_follows_the_stated_policy(tmp_path, key, policy, refused):
    source = grey_folder(tmp_path)
    nowhere = f"postgresql:///kiosks?host={tmp_path / 'no-server'}&port=5432"
    east = Kiosk(tmp_path, "east", nowhere, key, KIOSK_FLEET_UNREACHABLE_POLICY=policy,
                 KIOSK_FLEET_REFUSE_AFTER_MIN="0", KIOSK_FLEET_FLUSH_TIMEOUT_S="0",
                 KIOSK_FLEET_CONNECT_TIMEOUT_S="2")
    done = east.kiosk("verify", "--source", str(source), "--subject", "D-1", "--json")
    assert done.returncode == 1, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert (report["reasons"] == ["FLEET_SILENT"]) is refused  # no lockout: the server's silence
    if refused:  # nothing was recorded: the refusal is the kiosk's, not the person's try
        status = east.kiosk("fleet", "status")
        assert status.returncode == 1 and "reachable: NO" in status.stdout
        assert "local log head seq 0" in status.stdout
    else:
        # Recorded here while the server is away; a grey picture never places a face (and
        # no cue is attack evidence on its own in it, so no LIVENESS_FAILED).
        assert report["attempt_id"] == 1 and report["reasons"] == ["NO_BASELINE", "NOT_PLACED"]
