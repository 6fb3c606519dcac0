"""What the out-of-service screen promises depends on what failed."""

from __future__ import annotations

import pytest

from kiosk.ui.screens.out_of_service import OutOfServiceScreen
from kiosk.vocabulary import FaultCause
from kiosk.wording import (
    OUT_OF_SERVICE_FIX,
    OUT_OF_SERVICE_RESTART,
    OUT_OF_SERVICE_RETRY,
    OUT_OF_SERVICE_WAIT,
)


@pytest.mark.parametrize(("causes", "promise"), [
    ({FaultCause.CAMERA}, OUT_OF_SERVICE_RETRY),          # a camera comes back by itself
    ({FaultCause.AUDIT}, OUT_OF_SERVICE_WAIT),            # a lost or altered log needs staff
    ({FaultCause.AUDIT, FaultCause.CAMERA}, OUT_OF_SERVICE_WAIT),
    ({FaultCause.CONFIG, FaultCause.AUDIT}, OUT_OF_SERVICE_FIX),
    ({FaultCause.INTERNAL, FaultCause.CAMERA}, OUT_OF_SERVICE_RESTART),
])
def test_the_promise_matches_the_cause(qtbot, causes, promise):
    screen = OutOfServiceScreen()
    qtbot.addWidget(screen)
    screen.set_reason("audit: the audit log /x/kiosk.db is gone", causes=frozenset(causes))
    assert screen.retry.text() == promise
