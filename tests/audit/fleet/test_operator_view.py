"""The operator panel's lockouts with a fleet: every kiosk's, with its kiosk; an unlock at one
kiosk lifts the lockout everywhere (real PostgreSQL)."""

from __future__ import annotations

from kiosk.operator import OperatorContext
from kiosk.settings import Settings
from tests.audit.fleet.test_shared_lockouts import fail


def panel(audit, clock) -> OperatorContext:
    return OperatorContext(settings=Settings(), audit=audit, camera_health=lambda: None,
                           apply_settings=lambda s: None, clock=clock)


def test_the_panel_shows_every_kiosks_lockouts_and_unlocks_everywhere(open_kiosk, clock):
    east, west = open_kiosk("east"), open_kiosk("west")
    for _ in range(5):
        fail(east, clock, "D-77")
    ref = east.subject_ref("D-77")
    at_west = panel(west, clock)
    shown = at_west.lockouts()
    assert [(lk.kiosk_id, lk.scope, lk.target) for lk in shown] == [("east", "subject", ref)]
    result = at_west.unlock(shown[0].scope, shown[0].target, actor="Ana", reason="badge ok")
    assert result.lifted == ()  # nothing was locked in west's own log ...
    assert west.fleet is not None and west.fleet.sender.flush(10)
    assert east.active_lockout(ref) is None  # ... but the unlock lifted it at east
    assert at_west.lockouts() == []
    everything = at_west.lockouts(active_only=False)
    assert [(lk.kiosk_id, lk.lifted_by is not None) for lk in everything] == [("east", True)]


def test_the_panel_falls_back_to_this_kiosk_when_the_server_is_silent(open_kiosk, clock,
                                                                      tmp_path):
    url = f"postgresql:///x?host={tmp_path / 'none'}&port=5432"
    east = open_kiosk("east", url=url, query_timeout_s=0.2, flush_timeout_s=0.0,
                      connect_timeout_s=2.0)
    for _ in range(5):
        fail_locally(east, clock, "D-5")
    shown = panel(east, clock).lockouts()
    assert [(lk.kiosk_id, lk.scope) for lk in shown] == [("east", "subject")]


def fail_locally(audit, clock, subject):
    from tests.audit.conftest import make_record

    ref = audit.subject_ref(subject)
    attempt = audit.open_attempt(started_at=clock.now, subject_ref=ref, app_version="0.1.0",
                                 settings_digest="ab" * 32)
    clock.advance(seconds=10)
    audit.finish_attempt(attempt, make_record(clock, decision="fail", subject_ref=ref,
                                              kiosk_id="east"))
