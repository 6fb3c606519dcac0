"""What the out-of-service screen promises depends on what failed."""

from __future__ import annotations

import pytest

from kiosk.ui.screens.out_of_service import OutOfServiceScreen
from kiosk.vocabulary import FaultCause
from kiosk.wording import (
    OUT_OF_SERVICE_FIX,
    OUT_OF_SERVICE_RESTART,
    OUT_OF_SERVICE_RESTARTING,
    OUT_OF_SERVICE_RETRY,
    OUT_OF_SERVICE_WAIT,
)


@pytest.mark.parametrize(("causes", "supervised", "promise"), [
    ({FaultCause.CAMERA}, False, OUT_OF_SERVICE_RETRY),   # a camera comes back by itself
    ({FaultCause.CAMERA}, True, OUT_OF_SERVICE_RETRY),
    ({FaultCause.AUDIT}, False, OUT_OF_SERVICE_WAIT),     # a lost or altered log needs staff
    ({FaultCause.AUDIT, FaultCause.CAMERA}, False, OUT_OF_SERVICE_WAIT),
    ({FaultCause.RECORDING}, False, OUT_OF_SERVICE_WAIT),  # `kiosk record`: staff free space
    ({FaultCause.CONFIG, FaultCause.AUDIT}, False, OUT_OF_SERVICE_FIX),
    ({FaultCause.STARTUP}, True, OUT_OF_SERVICE_FIX),     # a model or matcher that cannot load
    ({FaultCause.INTERNAL, FaultCause.CAMERA}, False, OUT_OF_SERVICE_RESTART),
    ({FaultCause.INTERNAL, FaultCause.CONFIG}, True, OUT_OF_SERVICE_RESTARTING),
])
def test_the_promise_matches_the_cause(qtbot, causes, supervised, promise):
    screen = OutOfServiceScreen()
    qtbot.addWidget(screen)
    screen.set_reason("audit: the audit log /x/kiosk.db is gone", causes=frozenset(causes),
                      restarting=supervised)
    assert screen.retry.text() == promise
