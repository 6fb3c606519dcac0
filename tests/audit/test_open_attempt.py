"""open_attempt: the lockout check and the open row in one transaction; refusals; tries in
flight; the fair per-kiosk lockout (issue 13 case 2, issue 11 point 6)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.audit import (
    AuditConfig,
    AuditLog,
    ChainKey,
    RateLimited,
    RateLimitPolicy,
    SubjectHasher,
)
from kiosk.reasons import Reason
from tests.audit.conftest import DIGEST, FakeClock, make_record

REPO = Path(__file__).resolve().parents[2]


def open_(audit: AuditLog, clock: FakeClock, ref: str | None) -> int:
    return audit.open_attempt(started_at=clock.now, subject_ref=ref, app_version="0.1.0",
                              settings_digest=DIGEST)


def finish(audit: AuditLog, clock: FakeClock, attempt_id: int, ref: str | None,
           decision: str = "fail", reasons: tuple[str, ...] = (Reason.LIVENESS_FAILED,)):
    return audit.finish_attempt(attempt_id, make_record(clock, decision=decision,
                                                        subject_ref=ref, reasons=reasons))


def test_a_locked_subject_is_refused_and_the_refusal_recorded(keyed_log: AuditLog,
                                                              clock: FakeClock) -> None:
    ref = keyed_log.subject_ref("A1")
    for _ in range(5):
        finish(keyed_log, clock, open_(keyed_log, clock, ref), ref,
               reasons=(Reason.CHALLENGE_TIMEOUT,))
    lockout = keyed_log.active_lockout(ref)
    assert lockout is not None and lockout.scope == "subject"
    with pytest.raises(RateLimited, match="this subject is locked out until") as info:
        open_(keyed_log, clock, ref)
    refused = info.value
    assert (refused.scope, refused.lockout, refused.started) == ("subject", lockout, ())
    stored = keyed_log.get_attempt(refused.attempt_id)
    assert stored.record is not None
    assert (stored.decision, stored.record.reasons) == ("fail", (Reason.RATE_LIMITED,))
    # Somebody else may go ahead.
    other = keyed_log.subject_ref("B2")
    assert keyed_log.get_attempt(open_(keyed_log, clock, other)).status == "incomplete"
    assert keyed_log.verify().ok


def test_a_locked_kiosk_refuses_everyone_without_recording(clock: FakeClock,
                                                           hasher: SubjectHasher) -> None:
    config = AuditConfig(limits=RateLimitPolicy(kiosk_max_failures=3))
    with AuditLog.open(":memory:", config, clock=clock, subject_hasher=hasher) as audit:
        for i in range(3):
            ref = audit.subject_ref(f"N{i}")
            finish(audit, clock, open_(audit, clock, ref), ref)
        rows = len(audit.list_attempts())
        for number in ("N9", None):
            with pytest.raises(RateLimited, match="this kiosk is locked out") as info:
                open_(audit, clock, audit.subject_ref(number) if number else None)
            assert (info.value.scope, info.value.attempt_id) == ("kiosk", None)
            assert info.value.lockout is not None
        assert len(audit.list_attempts()) == rows  # passers-by do not extend the lockout


def test_tries_in_flight_count_toward_the_limit(keyed_log: AuditLog, clock: FakeClock) -> None:
    ref = keyed_log.subject_ref("A1")
    finish(keyed_log, clock, open_(keyed_log, clock, ref), ref)  # one failure
    opened = [open_(keyed_log, clock, ref) for _ in range(4)]  # 1 + 4 = the limit of 5
    with pytest.raises(RateLimited, match="1 failure.*4 attempt.*in flight") as info:
        open_(keyed_log, clock, ref)
    assert info.value.lockout is None and info.value.attempt_id is not None
    # The refusal is a failure too: 2 failures + 4 in flight; the four now fail.
    results = [finish(keyed_log, clock, i, ref) for i in opened]
    assert [len(r.lockouts) for r in results] == [0, 0, 1, 0]
    assert keyed_log.active_lockout(ref) is not None
    ran = [a for a in keyed_log.list_attempts() if a.record and
           a.record.reasons != (Reason.RATE_LIMITED,)]
    assert len(ran) == 5


CONCURRENT = r"""
import sys, time
from datetime import UTC, datetime
from pathlib import Path
from kiosk.audit import (AttemptRecord, AuditConfig, AuditLog, ChainKey, RateLimited,
                         SubjectHasher)
path, go = sys.argv[1], Path(sys.argv[2])
audit = AuditLog.open(path, AuditConfig(busy_timeout_s=30),
                      subject_hasher=SubjectHasher(bytes(range(32))),
                      chain_key=ChainKey(bytes(range(32, 64))))
ref = audit.subject_ref("VICTIM")
while not go.exists():
    time.sleep(0.005)
start = datetime.now(UTC)
try:
    attempt = audit.open_attempt(started_at=start, subject_ref=ref, app_version="0.1.0",
                                 settings_digest="ab" * 32)
except RateLimited as exc:
    print("refused", exc.scope, flush=True)
    raise SystemExit(0)
time.sleep(0.5)  # the session runs
audit.finish_attempt(attempt, AttemptRecord(
    kiosk_id="kiosk-1", started_at=start, ended_at=datetime.now(UTC), subject_ref=ref,
    decision="fail", app_version="0.1.0", settings_digest="ab" * 32,
    reasons=["LIVENESS_FAILED"]))
print("ran", flush=True)
"""


def test_twelve_concurrent_sessions_for_one_subject_run_at_most_five(tmp_path: Path,
                                                                     chain_key: ChainKey,
                                                                     hasher: SubjectHasher
                                                                     ) -> None:
    path = tmp_path / "kiosk.db"
    AuditLog.open(path, subject_hasher=hasher, chain_key=chain_key).close()
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    children = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(path), str(go)],
                                 cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
                for _ in range(12)]
    time.sleep(2.0)  # let every process open the log and wait at the line
    go.touch()
    outcomes = []
    for child in children:
        out, _ = child.communicate(timeout=120)
        assert child.returncode == 0
        outcomes.append(out.split()[0])
    assert outcomes.count("ran") <= 5 and outcomes.count("ran") + outcomes.count("refused") == 12
    with AuditLog.open(path, read_only=True, chain_key=chain_key) as audit:
        ref = hasher.ref("VICTIM")
        failures = [a for a in audit.list_attempts(limit=None)
                    if a.record and a.record.reasons == ("LIVENESS_FAILED",)]
        assert len(failures) == outcomes.count("ran") <= 5
        assert audit.verify().ok
        assert audit.active_lockout(ref) is not None


def test_honest_misses_never_lock_the_kiosk_but_attacks_do(clock: FakeClock,
                                                          hasher: SubjectHasher) -> None:
    with AuditLog.open(":memory:", AuditConfig(), clock=clock, subject_hasher=hasher) as audit:
        assert audit.config.limits.limit("kiosk") == 15
        honest = (Reason.CHALLENGE_TIMEOUT, Reason.FACE_LOST, Reason.NO_BASELINE,
                  Reason.SOURCE_ENDED, Reason.INTERRUPTED, Reason.NO_USABLE_FRAME)
        for i in range(30):  # 30 people in 15 minutes, each missing once
            ref = audit.subject_ref(f"P{i}")
            finish(audit, clock, open_(audit, clock, ref), ref, reasons=(honest[i % 6],))
            clock.advance(seconds=25)
        assert audit.lockouts(active_only=False) == []
        for i in range(14):
            ref = audit.subject_ref(f"X{i}")
            finish(audit, clock, open_(audit, clock, ref), ref,
                   reasons=(Reason.LIVENESS_FAILED, Reason.SCREEN_SUSPECTED))
        assert audit.active_lockout(None) is None
        ref = audit.subject_ref("X14")
        started = finish(audit, clock, open_(audit, clock, ref), ref,
                         reasons=(Reason.WRONG_ACTION,)).lockouts
        assert [(lk.scope, lk.failures) for lk in started] == [("kiosk", 15)]


def test_tries_of_a_locked_out_subject_count_toward_the_kiosk(clock: FakeClock,
                                                              hasher: SubjectHasher) -> None:
    config = AuditConfig(limits=RateLimitPolicy(max_failures=2, kiosk_max_failures=4))
    with AuditLog.open(":memory:", config, clock=clock, subject_hasher=hasher) as audit:
        ref = audit.subject_ref("A1")
        for _ in range(2):  # two time-outs lock the subject; the kiosk counts none of them
            finish(audit, clock, open_(audit, clock, ref), ref,
                   reasons=(Reason.CHALLENGE_TIMEOUT,))
        started = []
        for _ in range(4):
            with pytest.raises(RateLimited) as info:
                open_(audit, clock, ref)
            started.extend(info.value.started)
        assert [lk.scope for lk in started] == ["kiosk"]
