"""AttemptRecord validation: bad values fail where they are made, privacy rules hold."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from kiosk.audit import AttemptRecord
from kiosk.model import Signal
from tests.audit.conftest import FakeClock, make_record


def test_datetimes_are_converted_to_utc() -> None:
    clock = FakeClock(datetime(2026, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))))
    record = make_record(clock)
    assert record.ended_at.utcoffset() == timedelta(0)
    assert record.ended_at.hour == 12
    assert record.challenges[0]["prompted_at"].utcoffset() == timedelta(0)


def test_naive_datetime_is_refused(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="started_at must be timezone-aware"):
        make_record(clock, started_at=datetime(2026, 5, 1, 12, 0))
    bad = [{"action": "blink", "prompted_at": datetime(2026, 5, 1), "outcome": "passed"}]
    with pytest.raises(ValueError, match=r"challenges\[0\].prompted_at"):
        make_record(clock, challenges=bad)


def test_end_before_start_is_refused(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="ended_at must not be before started_at"):
        make_record(clock, started_at=clock.now + timedelta(seconds=1))


@pytest.mark.parametrize("ref", ["12345678", "AB-123", "A" * 64, "0" * 63])
def test_subject_must_be_a_keyed_hash_not_a_number(clock: FakeClock, ref: str) -> None:
    with pytest.raises(ValueError, match="never the ID number"):
        make_record(clock, subject_ref=ref)


def test_decision_must_be_known(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="decision must be one of"):
        make_record(clock, decision="maybe")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 100.5, -1.0])
def test_liveness_score_must_be_finite_and_in_range(clock: FakeClock, value: float) -> None:
    with pytest.raises(ValueError, match="liveness_score"):
        make_record(clock, liveness_score=value)


def test_signal_details_refuse_arrays(clock: FakeClock) -> None:
    embedding = np.zeros(128, dtype=np.float32)
    signals = {"texture": {"score": 0.1, "confidence": 0.5, "details": {"vec": embedding}}}
    with pytest.raises(ValueError, match="no arrays"):
        make_record(clock, signals=signals)


def test_reason_codes_refuse_free_text(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match=r"reasons\[0\]"):
        make_record(clock, reasons=["John Smith, 1970-01-01"])
    with pytest.raises(ValueError, match="reasons must be a list"):
        make_record(clock, reasons="SCREEN")


def test_unknown_keys_are_named(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match=r"unknown keys \['embedding'\]"):
        make_record(clock, match={"matcher": "local", "matched": True, "embedding": [0.1]})


def test_model_signals_and_numpy_scalars_are_accepted(clock: FakeClock) -> None:
    signal = Signal("moire", np.float32(0.25), 0.5, "SCREEN_SUSPECTED",
                    {"peak": np.float64(3.5), "bins": np.int64(7)})
    record = make_record(clock, signals={"moire": signal}, liveness_score=np.float32(80.0))
    entry = record.signals["moire"]
    assert entry == {"score": 0.25, "confidence": 0.5, "reason": "SCREEN_SUSPECTED",
                     "details": {"bins": 7, "peak": 3.5}}
    assert type(entry["details"]["bins"]) is int
    assert type(record.liveness_score) is float


def test_containers_are_copied(clock: FakeClock) -> None:
    reasons = ["A"]
    record = make_record(clock, decision="fail", reasons=reasons)
    reasons.append("B")
    assert record.reasons == ("A",)
    assert record.failed and not make_record(clock, decision="review").failed


def test_arguments_are_keyword_only(clock: FakeClock) -> None:
    with pytest.raises(TypeError):
        AttemptRecord("kiosk-1", clock.now, clock.now, None, "pass", "0.1", "ab" * 32)  # type: ignore[misc]
