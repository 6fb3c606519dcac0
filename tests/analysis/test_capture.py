"""The slowest capture the liveness check judges, and how its rate is measured."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.analysis.capture import MIN_ANALYSIS_FPS, frame_rate, too_slow, too_slow_so_far
from kiosk.analysis.physiology import SHORTEST_BLINK_S


def test_the_rate_is_the_median_interval_so_a_stall_or_a_burst_does_not_move_it():
    t = np.arange(60) / 30.0
    assert frame_rate(t) == pytest.approx(30.0)
    stalled = np.concatenate([t[:30], t[30:] + 2.0])  # a 2 s stall halfway
    assert frame_rate(stalled) == pytest.approx(30.0)
    dropped = t[::3]  # a worker that analyses every third frame sees 10 a second
    assert frame_rate(dropped) == pytest.approx(10.0)
    assert frame_rate([0.0, 0.0, 0.2, 0.4]) == pytest.approx(5.0)  # repeated times ignored


def test_too_few_frames_have_no_rate():
    assert frame_rate([]) is None and frame_rate([1.5]) is None
    assert frame_rate([1.0, 1.0]) is None
    with pytest.raises(ValueError, match="one-dimensional"):
        frame_rate(np.zeros((3, 2)))


def test_every_blink_must_fall_on_a_frame():
    # A frame at least every 100 ms (the shortest blink): 10 a second, and no faster rule.
    assert MIN_ANALYSIS_FPS == pytest.approx(1.0 / SHORTEST_BLINK_S) == pytest.approx(10.0)
    assert not too_slow(30.0) and not too_slow(10.0) and not too_slow(1 / 0.1005)
    assert too_slow(9.5) and too_slow(7.7) and too_slow(5.0)
    assert not too_slow(None)


def test_a_session_learns_the_rate_once_three_seconds_of_frames_are_in():
    slow = np.arange(0, 2.9, 1 / 8)            # 8 per second, 2.875 s: not yet
    assert not too_slow_so_far(slow)
    assert too_slow_so_far(np.arange(0, 3.1, 1 / 8))
    assert not too_slow_so_far(np.arange(0, 3.1, 1 / 10))   # at the limit: judged
    # A camera whose first second stalls (exposure settling) is judged on its median.
    settling = np.concatenate([[0.0, 0.4, 0.8], 0.8 + np.arange(1, 80) / 30])
    assert not too_slow_so_far(settling)
    assert not too_slow_so_far([]) and not too_slow_so_far([0.0])
