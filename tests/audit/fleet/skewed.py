"""Kiosks whose clocks are off the fleet server's, for the clock tests (real PostgreSQL).

The site's time is the ``clock`` fixture, which the kiosks' stores read as the server's clock
(see ``conftest.py``); each kiosk reads it through an error of its own.
"""

from __future__ import annotations

from datetime import timedelta

from kiosk.audit import AuditLog
from kiosk.audit.fleet import FleetConfig, FleetLink
from tests.audit.conftest import T0, FakeClock


class KioskClock:
    """A kiosk's wall clock: the site's time off by ``error`` (``advance`` is time passing,
    ``error`` changed is the clock being set)."""

    def __init__(self, site: FakeClock, error: timedelta = timedelta(0)) -> None:
        self.site = site
        self.error = error

    @property
    def now(self):
        return self.site.now + self.error

    def __call__(self):
        return self.now

    def advance(self, **delta: float):
        self.site.advance(**delta)
        return self.now


def since_start(site: FakeClock):
    """A monotonic clock of the site: time that passed, whatever the kiosks' clocks read."""
    return lambda: (site.now - T0).total_seconds()


def relink(audit: AuditLog, settings, site: FakeClock, clock, monotonic) -> FleetLink:
    """Give ``audit`` a fleet link with a monotonic clock (the factory gives an injected
    clock none), reading the site's time as the server's; not started."""
    old = audit.fleet
    assert isinstance(old, FleetLink)
    old.close()
    link = FleetLink(FleetConfig.from_settings(settings), audit_path=audit.path,
                     kiosk_id=old.kiosk_id, subject_key_id=old.subject_key_id,
                     limits=audit.config.limits, clock=clock, monotonic=monotonic)
    link.store.server_clock = site
    audit.fleet = link
    return link
