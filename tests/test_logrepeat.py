"""A fault that persists is logged once, then again only every REPEAT_LOG_S."""

from __future__ import annotations

from kiosk.logrepeat import REPEAT_LOG_S, RepeatGate


def test_the_same_message_is_due_again_only_after_the_interval():
    now = [0.0]
    gate = RepeatGate(clock=lambda: now[0])
    seen = []
    for minute in range(25):  # a try a minute for 25 minutes
        now[0] = minute * 60.0
        seen.append(gate.due("no such folder"))
    assert [m for m, due in enumerate(seen) if due] == [0, 10, 20]
    assert REPEAT_LOG_S == 600.0


def test_a_changed_message_is_due_at_once_and_clearing_ends_the_fault():
    now = [0.0]
    gate = RepeatGate(clock=lambda: now[0])
    assert gate.due("locked") and not gate.due("locked")
    assert gate.due("full")  # another fault: at once
    assert gate.clear() == "full" and gate.last is None
    assert gate.clear() is None  # nothing to end
    assert gate.due("full")  # after a recovery, the same fault again is news
