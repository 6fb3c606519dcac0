"""``kiosk audit pin-reset``: staff end the operator PIN's refusals, which grow to a day and
refuse the right PIN too (kiosk/operator/pin.py), as a right PIN would, recording who and
why."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.audit import AuditLog, action_detail
from kiosk.operator import OperatorContext
from kiosk.operator.pin import MAX_WRONG, PinGate
from kiosk.settings import Settings
from tests.cli.test_audit import env, run  # noqa: F401  (fixture, registered by import)

PIN = "4821"


def _now() -> datetime:
    return datetime.now(UTC)


def test_pin_reset_ends_a_refusal(tmp_path: Path, env, capsys):  # noqa: F811
    db = tmp_path / "kiosk.db"
    with AuditLog.open(db) as audit:
        # The ninth round of a guesser: every entry refused for a day.
        audit.record_action("pin_refused", actor="panel", reason="wrong operator PIN",
                            details={"in_a_row": 45, "refused": True, "refusal_s": 86400})
        before = audit.pin_state()
        gate = PinGate(_now, stored=audit.pin_state)
        assert not gate.check(PIN, PIN).accepted  # the right PIN is refused meanwhile
    assert before[0] == 45 and before[1] is not None

    status, out, err = run(capsys, env, "pin-reset", "--by", "Dana", "--reason",
                           "guessing on Saturday night", "--db", str(db))
    assert status == 0, err
    assert out.startswith("PIN refusals ended: action #2 recorded by Dana (was: refused until ")
    assert "after 45 wrong PIN(s))" in out
    assert out.splitlines()[1] == "a running kiosk reads it at the next PIN entry"

    with AuditLog.open(db) as audit:
        assert audit.pin_state() == (0, None, action_id(out))
        action = audit.operator_actions()[0]
        assert (action.action, action.actor) == ("pin_accepted", "Dana")
        assert action.reason == "PIN refusals ended by staff: guessing on Saturday night"
        # Staff reading the actions see the attack's round.
        refused = audit.operator_actions(action="pin_refused")[0]
        assert action_detail(refused) == "45 since the last right PIN, refused for 1440 min"
        # A kiosk started after it reads the reset: the right PIN opens the panel.
        assert PinGate(_now, stored=audit.pin_state).check(PIN, PIN).accepted


def action_id(out: str) -> int:
    """The action number ``kiosk audit pin-reset`` printed."""
    return int(out.split("action #", 1)[1].split()[0])


def test_a_running_kiosk_reads_the_reset_at_the_next_entry(tmp_path: Path, env,  # noqa: F811
                                                            capsys):
    db = tmp_path / "kiosk.db"
    with AuditLog.open(db) as audit:
        ctx = OperatorContext(settings=Settings().replace("kiosk", operator_pin=PIN),
                              audit=audit, camera_health=lambda: None,
                              apply_settings=lambda s: None, list_cameras=lambda: [])
        for _ in range(MAX_WRONG):
            ctx.check_pin("13579")
        assert ctx.pin_refused_until() is not None
        # Staff end it from a shell while the kiosk runs: another process, another
        # connection to the log.
        status, out, err = run(capsys, env, "pin-reset", "--by", "Dana", "--reason",
                               "locked out by a guesser", "--db", str(db))
        assert status == 0, err
        assert ctx.check_pin(PIN).accepted
        assert audit.pin_state() == (0, None, action_id(out) + 1)  # the entry's own record


def test_pin_reset_needs_who_and_why(tmp_path: Path, env, capsys):  # noqa: F811
    with pytest.raises(SystemExit) as exited:
        run(capsys, env, "pin-reset", "--by", "Dana", "--db", str(tmp_path / "kiosk.db"))
    assert exited.value.code == 2
    assert "the following arguments are required: --reason" in capsys.readouterr().err
    assert not (tmp_path / "kiosk.db").exists()
