"""The operator panel's lockouts page, where it shows the fleet's lockouts, warns staff when
this kiosk's clock is far off the fleet server's, as ``kiosk fleet status`` does (offscreen).

Before, only the sender's log and ``kiosk fleet status`` said so: staff at the panel saw the
fleet's lockouts and nothing of a clock 45 minutes off."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kiosk.audit import AuditConfig, AuditLog, SubjectHasher
from kiosk.audit.outbox import Outbox
from kiosk.operator import OperatorContext
from kiosk.settings import Settings
from kiosk.ui.operator import OperatorPanel
from tests.audit.test_remote import StaticFleet

T0 = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
WAIT_MS = 5000


class Fleet(StaticFleet):
    """A fleet link whose server holds no lockout."""

    def lockouts(self, now, *, active_only=True, limit=100):
        return []


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[AuditLog]:
    log = AuditLog.open(tmp_path / "kiosk.db", AuditConfig(), clock=lambda: T0,
                        subject_hasher=SubjectHasher(bytes(32)))
    log.fleet = Fleet(None)
    yield log
    log.close()


def measured(audit: AuditLog, skew_s: float) -> None:
    """The skew the fleet sender measured at its last contact, as it keeps it in the log."""
    outbox = Outbox(audit.path)
    try:
        outbox.ensure_state(T0)
        outbox.record(skew_s=skew_s)
    finally:
        outbox.close()


def shown_panel(qtbot: Any, audit: AuditLog) -> OperatorPanel:
    ctx = OperatorContext(settings=Settings(), audit=audit, camera_health=lambda: None,
                          apply_settings=lambda s: None, clock=lambda: T0,
                          list_cameras=lambda: [])
    panel = OperatorPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1280, 900)
    panel.show()
    panel.tabs.setCurrentWidget(panel.lockouts)
    qtbot.waitUntil(lambda: panel.lockouts.caption.text() == "Lockouts in force: none",
                    timeout=WAIT_MS)
    return panel


def test_the_lockouts_page_warns_of_a_clock_far_off_the_servers(qtbot: Any,
                                                                audit: AuditLog) -> None:
    measured(audit, -2700.0)
    panel = shown_panel(qtbot, audit)
    warning = panel.lockouts.fleet_clock
    assert warning.isVisible()
    assert warning.text().startswith("This kiosk's clock is 45.0 min ahead of the fleet "
                                     "server's.")
    assert "Have its clock set right (NTP)." in warning.text()
    assert warning.accessibleName() == "Fleet warning"
    measured(audit, 0.4)  # set right; the sender measured again
    panel.lockouts.refresh()
    qtbot.waitUntil(lambda: not warning.isVisible(), timeout=WAIT_MS)
    panel.close()


def test_the_lockouts_page_says_why_checks_are_paused_with_no_lockout(
        qtbot: Any, audit: AuditLog) -> None:
    # The idle screen of a kiosk whose fleet server is silent under unreachable_policy =
    # refuse shows it paused; staff at the panel found no lockout and no reason.
    silent = ("the fleet server db.site has not answered for 12.0 min "
              "(fleet.unreachable_policy = refuse): no new session until it answers")
    audit.fleet.refusal = lambda: silent  # type: ignore[union-attr]
    panel = shown_panel(qtbot, audit)
    warning = panel.lockouts.fleet_clock
    assert warning.isVisible()
    assert warning.text().startswith(f"Self-service checks are paused: {silent}. No lockout")
    audit.fleet.refusal = lambda: None  # type: ignore[union-attr]
    panel.lockouts.refresh()
    qtbot.waitUntil(lambda: not warning.isVisible(), timeout=WAIT_MS)
    panel.close()


def test_a_clock_within_the_bound_shows_no_warning(qtbot: Any, audit: AuditLog) -> None:
    measured(audit, 90.0)
    panel = shown_panel(qtbot, audit)
    assert not panel.lockouts.fleet_clock.isVisible()
    panel.close()
