"""Fixtures of the session tests: a wall clock that advances per reading and a real audit
log in tmp_path."""

from __future__ import annotations

import pytest

from kiosk.audit import open_kiosk_log
from tests.session.test_session import Clock


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def audit(settings, tmp_path, clock):
    log = open_kiosk_log(settings, tmp_path, clock=clock)
    yield log
    log.close()
