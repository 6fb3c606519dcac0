"""LatestFrameSlot: newest frame wins, drops are counted, close wakes waiters."""

from __future__ import annotations

import threading

import numpy as np

from kiosk.camera.slot import LatestFrameSlot
from kiosk.model import Frame


def frame(seq: int) -> Frame:
    return Frame(image=np.zeros((2, 2, 3), np.uint8), seq=seq, t=seq / 30, media_t=seq / 30)


def test_newest_frame_wins_and_drops_are_counted() -> None:
    slot = LatestFrameSlot()
    assert slot.put(frame(0)) is False
    assert slot.put(frame(1)) is True
    assert slot.put(frame(2)) is True
    assert slot.get(timeout=0).seq == 2
    assert slot.get_nowait() is None
    assert (slot.put_count, slot.taken, slot.dropped) == (3, 1, 2)
    assert slot.put(frame(3)) is False          # the previous one was taken: no drop
    assert slot.get(timeout=0).seq == 3
    assert slot.dropped == 2


def test_get_times_out_empty() -> None:
    slot = LatestFrameSlot()
    assert slot.get(timeout=0.01) is None
    assert not slot.closed


def test_get_waits_for_a_producer() -> None:
    slot = LatestFrameSlot()
    got: list[Frame | None] = []
    consumer = threading.Thread(target=lambda: got.append(slot.get(timeout=10)))
    consumer.start()
    slot.put(frame(7))
    consumer.join(10)
    assert not consumer.is_alive()
    assert [f.seq for f in got] == [7]


def test_close_wakes_waiters_and_keeps_the_last_frame() -> None:
    slot = LatestFrameSlot()
    got: list[Frame | None] = []
    waiter = threading.Thread(target=lambda: got.append(slot.get()))   # no timeout
    waiter.start()
    slot.close()
    waiter.join(10)
    assert not waiter.is_alive()
    assert got == [None]

    slot = LatestFrameSlot()
    slot.put(frame(1))
    slot.close()
    assert slot.put(frame(2)) is False          # ignored once closed
    assert slot.get().seq == 1                  # the waiting frame is still handed out
    assert slot.get() is None                   # then None at once
    assert slot.closed and slot.put_count == 1


def test_concurrent_producer_and_slow_consumer_lose_nothing_silently() -> None:
    slot = LatestFrameSlot()
    n = 2000

    def produce() -> None:
        for i in range(n):
            slot.put(frame(i))
        slot.close()

    producer = threading.Thread(target=produce)
    producer.start()
    seen = []
    while (f := slot.get(timeout=10)) is not None:
        seen.append(f.seq)
    producer.join(10)
    assert seen == sorted(seen) and seen[-1] == n - 1       # in order, ends with the newest
    assert slot.taken + slot.dropped == n                    # every frame taken or counted
