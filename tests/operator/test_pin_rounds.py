"""Refusals of the operator PIN that grow, and a restart that does not shrink them (audit
finding t03). Before, each refusal lasted 5 minutes and the count started again from zero
when it ended: 60 guesses an hour with no end, a 4-digit PIN found in about 83 hours."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from kiosk.audit import AuditLog
from kiosk.operator import OperatorContext, pin
from kiosk.operator.pin import MAX_WRONG, REFUSAL, PinGate
from kiosk.settings import Settings
from tests.operator import test_operator as base
from tests.operator.test_operator import PIN, T0, Clock

# The operator tests' fixtures, registered here under their names.
audit, clock = base.audit, base.clock

MINUTES = [5, 10, 20, 40, 80, 160, 320, 640, 1280, 1440, 1440]
"""The refusals of a guesser who never has the right PIN, in minutes: doubled up to a day."""


def guess_wrong(check, times: int = MAX_WRONG) -> list:
    """``times`` wrong PINs; their results."""
    return [check(f"1357{i % 10}") for i in range(times)]


def refusal_started(results: list, now) -> timedelta:
    """The length of the refusal the last of ``results`` started (every one of them refused,
    the last too)."""
    assert [r.refused_until is not None for r in results] == [False] * (len(results) - 1) + [
        True]
    assert not any(r.accepted for r in results) and all(r.wrong for r in results)
    return results[-1].refused_until - now


def panel(audit: AuditLog, clock: Clock) -> OperatorContext:
    """A new kiosk process on the same audit log (a restart)."""
    return OperatorContext(settings=Settings().replace("kiosk", operator_pin=PIN), audit=audit,
                           camera_health=lambda: None, apply_settings=lambda s: None,
                           clock=clock, list_cameras=lambda: [])


# -- the gate alone, with an injected clock --------------------------------------------------

def test_each_refusal_is_twice_the_last_up_to_a_day(clock: Clock) -> None:
    gate = PinGate(clock)
    for minutes in MINUTES:
        results = guess_wrong(lambda pin: gate.check(pin, PIN))
        assert refusal_started(results, clock.now) == timedelta(minutes=minutes)
        assert gate.refusal == timedelta(minutes=minutes)  # what the caller records
        clock.now = results[-1].refused_until
    # The person at the keypad is told how long, never which round it is.
    said = [r.message for r in guess_wrong(lambda pin: gate.check(pin, PIN), 4)]
    assert said[-1] == "Wrong PIN. 1 more wrong entry and the panel locks for 24 hours."
    assert not any("round" in text for text in said)


def test_a_right_pin_starts_the_rounds_again(clock: Clock) -> None:
    gate = PinGate(clock)
    for _ in range(3):
        clock.now = guess_wrong(lambda pin: gate.check(pin, PIN))[-1].refused_until
    assert gate.check(PIN, PIN).accepted
    results = guess_wrong(lambda pin: gate.check(pin, PIN))
    assert refusal_started(results, clock.now) == REFUSAL
    assert [r.wrong_in_a_row for r in results] == [1, 2, 3, 4, 5]


def test_the_count_runs_on_after_a_refusal(clock: Clock) -> None:
    gate = PinGate(clock)
    first = guess_wrong(lambda pin: gate.check(pin, PIN))
    assert first[0].message == ("Wrong PIN. 4 more wrong entries and the panel locks for "
                                "5 minutes.")
    clock.now = first[-1].refused_until
    after = gate.check("24680", PIN)
    assert after.wrong_in_a_row == MAX_WRONG + 1
    assert after.message == "Wrong PIN. 4 more wrong entries and the panel locks for 10 minutes."


def test_a_wait_of_an_hour_or_more_is_said_in_hours(clock: Clock) -> None:
    gate = PinGate(clock, refusal=timedelta(minutes=40))
    started = guess_wrong(lambda pin: gate.check(pin, PIN))[-1]
    assert started.message == "Wrong PIN. Too many wrong PINs: try again in 40 minutes."
    clock.now = started.refused_until
    second = guess_wrong(lambda pin: gate.check(pin, PIN))[-1]
    assert second.message == "Wrong PIN. Too many wrong PINs: try again in 1 h 20 min."
    clock.now += timedelta(seconds=30)  # 79 min 30 s left: never said to be shorter
    assert gate.check(PIN, PIN).message == "Too many wrong PINs: try again in 1 h 20 min."


def test_the_longest_refusal_holds_after_any_number_of_rounds() -> None:
    assert pin.refusal_length(1) == REFUSAL
    assert pin.refusal_length(10) == pin.refusal_length(10**6) == pin.MAX_REFUSAL
    with pytest.raises(ValueError, match="round_ must be at least 1"):
        pin.refusal_length(0)
    with pytest.raises(ValueError, match="max_refusal"):
        PinGate(Clock(), refusal=timedelta(hours=2), max_refusal=timedelta(hours=1))


@pytest.mark.parametrize("options", [{"max_wrong": 0}, {"refusal": timedelta(0)},
                                     {"refusal": timedelta(seconds=-1)}])
def test_a_gate_that_would_never_refuse_is_not_built(options) -> None:
    with pytest.raises(ValueError, match="max_wrong must be at least 1"):
        PinGate(Clock(), **options)


def test_the_tightest_gate_allowed_refuses_after_one_wrong_pin(clock: Clock) -> None:
    # The boundaries themselves are allowed: one wrong PIN, and every round as long as the
    # first.
    gate = PinGate(clock, max_wrong=1, refusal=timedelta(minutes=5),
                   max_refusal=timedelta(minutes=5))
    first = gate.check("0000", PIN)
    assert not first.accepted and first.refused_until == T0 + timedelta(minutes=5)
    clock.now = first.refused_until
    assert gate.check("0000", PIN).refused_until == clock.now + timedelta(minutes=5)


def test_a_refusal_is_logged_with_its_round_and_length_never_the_digits(
        clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="kiosk.operator.pin")
    gate = PinGate(clock)
    clock.now = guess_wrong(lambda pin: gate.check(pin, PIN))[-1].refused_until
    guess_wrong(lambda pin: gate.check(pin, PIN))
    warnings = [r.getMessage() for r in caplog.records
                if r.name == "kiosk.operator.pin" and r.levelno == logging.WARNING]
    assert warnings == [
        "operator PIN refusal round 1: 5 wrong PINs since the last right one; every entry "
        "refused for 5 minutes",
        "operator PIN refusal round 2: 10 wrong PINs since the last right one; every entry "
        "refused for 10 minutes"]
    assert "1357" not in caplog.text and PIN not in caplog.text


# -- through the audit log: a restart keeps the rounds ---------------------------------------

def test_a_restart_does_not_shorten_the_next_refusal(audit: AuditLog, clock: Clock) -> None:
    first = refusal_started(guess_wrong(panel(audit, clock).check_pin), T0)
    assert first == timedelta(minutes=5)
    clock.now = T0 + first
    # A new process for each entry: the count and its rounds come from the log alone.
    second = refusal_started(guess_wrong(lambda pin: panel(audit, clock).check_pin(pin)),
                             clock.now)
    assert second == timedelta(minutes=10)
    held = panel(audit, clock).check_pin(PIN)  # refused during the 10 minutes, restarted
    assert not held.accepted and held.message == "Too many wrong PINs: try again in 10 minutes."
    clock.now += timedelta(minutes=9, seconds=59)
    assert not panel(audit, clock).check_pin(PIN).accepted
    clock.now += timedelta(seconds=1)
    third = refusal_started(guess_wrong(panel(audit, clock).check_pin), clock.now)
    assert third == timedelta(minutes=20)
    refused = audit.operator_actions(action="pin_refused", limit=1)[0]
    assert refused.details == {"in_a_row": 15, "refused": True, "refusal_s": 1200.0}
    clock.now += third
    assert panel(audit, clock).check_pin(PIN).accepted  # the right PIN ends the rounds
    assert refusal_started(guess_wrong(panel(audit, clock).check_pin), clock.now) == REFUSAL


@pytest.mark.parametrize(("old", "minutes"), [
    ([1, 2, 3, 4, 5, 1, 2, 3, 4, 5], 10),  # the last record is a refusal: it counts as one
    ([1, 2, 3, 4, 5, 1, 2], 5),  # counted from the last refusal: the rounds start again
], ids=["ends-with-a-refusal", "after-a-refusal"])
def test_a_log_from_before_the_rounds_still_works(audit: AuditLog, clock: Clock,
                                                 old: list[int], minutes: int) -> None:
    for in_a_row in old:  # the records the previous version wrote: no round in them
        details = {"in_a_row": in_a_row, "refused": in_a_row == MAX_WRONG}
        if in_a_row == MAX_WRONG:
            details["refusal_s"] = 300.0
        audit.record_action("pin_refused", actor="operator panel",
                            reason="wrong operator PIN", details=details)
    ctx = panel(audit, clock)
    if old[-1] == MAX_WRONG:  # its refusal is still in force
        assert ctx.pin_refused_until(stored=True) == T0 + REFUSAL
        assert not ctx.check_pin(PIN).accepted
        clock.now += REFUSAL
    results = guess_wrong(ctx.check_pin, MAX_WRONG - old[-1] % MAX_WRONG)
    assert refusal_started(results, clock.now) == timedelta(minutes=minutes)


# -- staff ending the refusals while the kiosk runs ------------------------------------------

def test_a_reset_by_staff_reaches_the_running_kiosk(audit: AuditLog, clock: Clock) -> None:
    """Before, the running kiosk kept its own count: the right PIN stayed refused after
    ``kiosk audit pin-reset`` until the kiosk restarted."""
    ctx = panel(audit, clock)
    for _ in range(2):
        clock.now = guess_wrong(ctx.check_pin)[-1].refused_until
    assert refusal_started(guess_wrong(ctx.check_pin), clock.now) == timedelta(minutes=20)
    assert not ctx.check_pin(PIN).accepted
    audit.record_action("pin_accepted", actor="Dana", reason="PIN refusals ended by staff")
    assert ctx.pin_refused_until(stored=True) is None
    assert refusal_started(guess_wrong(ctx.check_pin), clock.now) == REFUSAL  # round 1 again
    clock.now += REFUSAL
    assert ctx.check_pin(PIN).accepted


def test_only_a_new_right_pin_ends_what_was_counted_while_the_log_was_unreadable(
        clock: Clock) -> None:
    """A right PIN already in the log at the first read may be older than the entries this
    process counted while the log could not be read: it ends nothing. One recorded after
    that read does."""
    log_says: list = [None]
    gate = PinGate(clock, stored=lambda: log_says[0])
    guess_wrong(lambda pin: gate.check(pin, PIN))  # the records failed: counted in memory
    log_says[0] = pin.PinState(0, None, last_right=3)  # readable again: an old right PIN
    assert not gate.check(PIN, PIN).accepted
    log_says[0] = pin.PinState(0, None, last_right=9)  # staff ended the refusals meanwhile
    assert gate.check(PIN, PIN).accepted
