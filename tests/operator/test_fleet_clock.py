"""The fleet clock warning as the operator panel words it (no Qt): the skew ``kiosk fleet
status`` warns about, in staff's words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kiosk.audit.fleet.skew import SKEW_BOUND
from kiosk.audit.outbox import Outbox
from kiosk.operator.fleet import clock_warning, fleet_clock_warning
from tests.operator import test_operator as base
from tests.operator.test_panel_context import context

# The context tests' fixtures, registered here under their names.
audit, clock = base.audit, base.clock


class Fleet:
    """The fleet link as the panel asks it: the shared lockouts (none here)."""

    def lockouts(self, now, *, active_only=True, limit=100):
        return []


def measured(audit, skew_s: float | None) -> None:
    """The skew the fleet sender measured at its last contact, as it keeps it in the log."""
    outbox = Outbox(audit.path)
    try:
        outbox.ensure_state(datetime(2026, 5, 10, tzinfo=UTC))
        outbox.record(skew_s=skew_s)
    finally:
        outbox.close()


@pytest.mark.parametrize(("skew_s", "words"), [
    (-2700.0, "This kiosk's clock is 45.0 min ahead of the fleet server's."),
    (3 * 3600.0, "This kiosk's clock is 3.0 h behind the fleet server's."),
])
def test_a_clock_beyond_the_bound_is_worded_for_staff(skew_s, words):
    said = clock_warning(skew_s)
    assert said.startswith(words)
    assert "Lockouts shared with the other kiosks still go by the server's clock" in said
    assert said.endswith("Have its clock set right (NTP).")


@pytest.mark.parametrize("skew_s", [None, 0.0, SKEW_BOUND.total_seconds(),
                                    -SKEW_BOUND.total_seconds()])
def test_a_clock_within_the_bound_or_unknown_says_nothing(skew_s):
    assert clock_warning(skew_s) == ""


def test_the_context_reads_the_last_measured_skew_of_its_fleet(audit, clock):
    measured(audit, -2700.0)
    assert fleet_clock_warning(audit) == ""  # a log without a fleet link: no fleet here
    audit.fleet = Fleet()
    ctx = context(audit, clock)
    assert ctx.fleet_clock_warning().startswith("This kiosk's clock is 45.0 min ahead")
    measured(audit, 1.5)
    assert ctx.fleet_clock_warning() == ""
