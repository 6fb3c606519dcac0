"""Signals emitted from Python must not leak references to the singletons.

PySide6 6.12.0 returned True from ``Signal.emit()`` without taking a reference: every emission
dropped True's count by one, and after a few thousand frames of the kiosk the interpreter
aborted ("Fatal Python error: bool_dealloc" or "none_dealloc", issue 13). pyproject.toml keeps
that version out; this test fails on any version with such a leak.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal, Slot


class Emitter(QObject):
    one = Signal(object)
    two = Signal(int, object)
    none = Signal()


class Receiver(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    @Slot(object)
    def on_one(self, value: object) -> None:
        self.calls += 1

    @Slot(int, object)
    def on_two(self, a: int, b: object) -> None:
        self.calls += 1

    @Slot()
    def on_none(self) -> None:
        self.calls += 1


def counts() -> tuple[int, int, int]:
    return sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)


def test_emitting_signals_keeps_every_singletons_reference_count(qapp):
    emitter, receiver = Emitter(), Receiver()
    emitter.one.connect(receiver.on_one)
    emitter.two.connect(receiver.on_two)
    emitter.none.connect(receiver.on_none)
    emitter.one.emit(None)  # warm up caches
    before = counts()
    for i in range(300):
        emitter.one.emit(None)
        emitter.one.emit(i)
        emitter.two.emit(i, None)
        emitter.none.emit()
    after = counts()
    assert receiver.calls == 1 + 4 * 300
    # A leak drops one reference per emission (1,201 here); other threads of the test process
    # (a worker finishing, the garbage collector) move the counts by a few at most.
    drift = [a - b for a, b in zip(after, before, strict=True)]
    assert all(abs(d) < 100 for d in drift), \
        f"reference counts of (None, True, False) {before} -> {after}"
