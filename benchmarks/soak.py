#!/usr/bin/env python
"""A kiosk left running: memory, file descriptors and threads over many sessions.

Usage::

    .venv/bin/python benchmarks/soak.py [--sessions 40] [--part tracker|responder|panel|all]
                                        [--attempts 18000] [--size 1280x800]
                                        [--data ../shared/data]

A kiosk serves hundreds of people a day without a restart, so whatever a session leaves
behind (frames, analyzers, Qt pictures, database handles, threads) adds up. Everything runs
through the real window, the real worker and the real session code, offscreen, with the
30 fps in-memory camera of ``benchmarks/ui.py``:

- part ``tracker``: the real MediaPipe tracker, passive analyzers and fusion on a face clip;
  the person does not answer, so each session ends on its time-outs (the native tracker
  runs on every frame of every session);
- part ``responder``: the synthetic person who answers every prompt, the real analyzers,
  the local dlib matcher in its child process, and the audit log: every session passes and
  records a full attempt;
- part ``panel``: staff opening the operator panel again and again on a log of a month at a
  busy kiosk (``--attempts``, 600 a day): the PIN, every tab, the charts over 30 days, Close.
  Each opening counts as a session below, and the live widgets are counted too.

After each session the script reads the process's resident memory (``VmRSS``), the matcher
child's, the open file descriptors, the threads and the Python objects the collector tracks.
The first ``--warmup`` sessions load models and fill caches; the figures are the growth
after them: a least-squares slope per session over the rest, and the last reading against
the reading after warm-up (the baseline in the same run). A kiosk that leaks nothing grows by
allocator noise only (well under 1 MB a session) and keeps its descriptors and threads.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import gc
import json
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import ui as bench  # noqa: E402  (sets the offscreen platform before Qt loads)
from PySide6.QtCore import QEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from kiosk.audit import open_kiosk_log  # noqa: E402
from kiosk.lab.standin import Responder  # noqa: E402
from kiosk.runtime import RuntimeParts  # noqa: E402
from kiosk.vocabulary import FlowState  # noqa: E402


def status_kb(pid: int | str, field: str) -> int | None:
    """A ``kB`` field of ``/proc/PID/status`` (VmRSS, VmHWM), None when unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def children_rss_kb() -> int:
    """Resident memory of this process's children (the matcher process), in kB."""
    total = 0
    for task in Path("/proc/self/task").iterdir():
        try:
            pids = (task / "children").read_text().split()
        except OSError:
            continue
        total += sum(status_kb(pid, "VmRSS") or 0 for pid in pids)
    return total


def reading() -> dict:
    gc.collect()
    return {"rss_kb": status_kb("self", "VmRSS"), "child_rss_kb": children_rss_kb(),
            "fds": len(os.listdir("/proc/self/fd")), "threads": threading.active_count(),
            "os_threads": len(os.listdir("/proc/self/task")),
            "objects": len(gc.get_objects()), "widgets": len(QApplication.allWidgets())}


def process(app) -> None:
    """One turn of the event loop as the kiosk's ``app.exec()`` takes it: ``processEvents``
    alone never deletes what ``deleteLater`` handed over (the closed operator panel, a
    finished dialog), which would look like a leak here and is none in the kiosk."""
    app.processEvents()
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def run(app, window, worker, begin, sessions: int) -> tuple[list[dict], list[str]]:
    """``sessions`` sessions through the window; a reading after each."""
    bench.wait_idle(app, window)
    readings, results = [], []
    reasons: list[str] = []
    worker.decision_made.connect(
        lambda sid, decision: reasons.append(",".join(map(str, decision.reasons))))
    for i in range(sessions):
        started = time.monotonic()
        begin()
        limit = time.monotonic() + 120
        while window.flow.state in (FlowState.LIVE, FlowState.PROCESSING):
            process(app)
            time.sleep(0.001)
            if time.monotonic() > limit:
                raise SystemExit(f"session {i + 1} did not end")
        results.append(window.result.kind)
        took = time.monotonic() - started
        window.flow.finish()
        for _ in range(50):  # let the idle screen settle, as between two people
            process(app)
            time.sleep(0.01)
        readings.append(reading())
        print(f"  session {i + 1:3d} {results[-1]:>5}: rss {readings[-1]['rss_kb'] / 1024:7.1f} MB"
              f", matcher {readings[-1]['child_rss_kb'] / 1024:6.1f} MB, fds "
              f"{readings[-1]['fds']}, threads {readings[-1]['os_threads']}, objects "
              f"{readings[-1]['objects']}; {took:.1f} s, {reasons[-1] if reasons else '-'}",
              flush=True)
    return readings, results


def growth(readings: list[dict], warmup: int) -> dict:
    """Growth after the warm-up: slope per session (least squares) and last minus first."""
    rest = readings[warmup - 1:]
    x = np.arange(len(rest), dtype=float)
    out: dict = {"sessions_measured": len(rest) - 1}
    for key in ("rss_kb", "child_rss_kb", "fds", "os_threads", "objects", "widgets"):
        y = np.array([r[key] for r in rest], dtype=float)
        slope = float(np.polyfit(x, y, 1)[0]) if len(rest) >= 3 else float("nan")
        out[key] = {"after_warmup": int(y[0]), "last": int(y[-1]),
                    "per_session": round(slope, 2),
                    "ratio": round(float(y[-1] / y[0]), 4) if y[0] else None}
    return out


def part_tracker(app, tmp: Path, data: Path, sessions: int, size) -> tuple[list, list]:
    from kiosk.analysis.face import FaceTracker

    # The looped clip answers prompts it was not asked (wrong actions, counted as attack
    # signs): 15 of them would lock the kiosk, and a locked kiosk analyses nothing.
    settings = bench.settings_in(tmp).replace("audit", kiosk_max_failures=1000)
    fusion, _ = bench.fusion_factory()
    camera = bench.MemoryCamera(bench.clip_frames(data))
    parts = RuntimeParts(tracker=FaceTracker, fusion=fusion, analyzers=bench.real_analyzers(),
                         audit=lambda s: open_kiosk_log(s, tmp))
    window, worker = bench.build(settings, camera, parts, size)
    window.flow.config = dataclasses.replace(window.flow.config, approach_s=1e9)

    def begin():
        window.flow.start()
        window.flow.accept()
    try:
        return run(app, window, worker, begin, sessions)
    finally:
        window.shutdown()


def part_responder(app, tmp: Path, data: Path, sessions: int, size) -> tuple[list, list]:
    from kiosk.cloud.detect import HogFaceDetector
    from kiosk.cloud.factory import build_matcher
    from kiosk.cloud.images import load_photo
    from kiosk.lab.standin import FixedFusion
    from kiosk.matcher_process import ProcessMatcher

    if not (data / bench.LIVE_PHOTO).is_file():
        raise SystemExit(f"part responder needs {data / bench.LIVE_PHOTO}")
    settings = (bench.settings_in(tmp).replace("kiosk", mode="staffed")
                .replace("matching", matcher="local")
                .replace("liveness", light_challenge=False))
    live = bench.centred_face(load_photo(data / bench.LIVE_PHOTO), HogFaceDetector())
    reference = load_photo(data / bench.ID_PHOTO)
    images = [np.clip(live.astype(np.int16) + np.random.default_rng(i).integers(
        -3, 4, live.shape), 0, 255).astype(np.uint8) for i in range(4)]
    camera = bench.MemoryCamera(images)
    responder = Responder()
    parts = RuntimeParts(tracker=lambda: responder, fusion=lambda: FixedFusion(96.0),
                         analyzers=bench.real_analyzers(),
                         audit=lambda s: open_kiosk_log(s, tmp),
                         matcher=lambda s: ProcessMatcher(build_matcher, s),
                         rng=random.Random(3))
    window, worker = bench.build(settings, camera, parts, size, observer=responder)
    window.flow.config = dataclasses.replace(window.flow.config, approach_s=1e9)

    def begin():
        window.flow.start()
        window.flow.accept()
        window.flow.identity_ready(reference, None)
    try:
        return run(app, window, worker, begin, sessions)
    finally:
        window.shutdown()


def seed_month(folder: Path, attempts: int) -> Path:
    """A log of ``attempts`` attempts spread over the last 30 days, keyed as the kiosk keys
    it (``benchmarks/audit.py``'s realistic records); returns its path."""
    from datetime import UTC, datetime, timedelta

    from audit import make_record

    from kiosk.audit import AuditConfig, AuditLog, KeyStore

    rng = random.Random(30)
    keys = KeyStore(key_file=folder / "keys" / "audit.key")
    hasher = keys.subject_hasher()
    refs = [hasher.ref(f"ID{i:05d}") for i in range(attempts // 6 + 1)]
    start = datetime.now(UTC) - timedelta(days=30)
    step = timedelta(days=30) / attempts
    now = [start]
    path = folder / "data" / "kiosk.db"
    with AuditLog.open(path, AuditConfig(retention_days=0), clock=lambda: now[0],
                       subject_hasher=hasher, chain_key=keys.chain_key()) as audit:
        for i in range(attempts):
            now[0] = start + step * (i + 1)
            audit.record_attempt(make_record(rng, now[0], rng.choice(refs)))
    return path


def part_panel(app, tmp: Path, data: Path, sessions: int, size,
               attempts: int = 18000) -> tuple[list, list]:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from kiosk.lab.standin import FixedFusion

    settings = bench.settings_in(tmp).replace("kiosk", operator_pin="4711")
    t0 = time.monotonic()
    seed_month(tmp, attempts)
    print(f"  seeded {attempts} attempts over 30 days in {time.monotonic() - t0:.0f} s",
          flush=True)
    camera = bench.MemoryCamera(bench.clip_frames(data)[:8])
    parts = RuntimeParts(tracker=lambda: Responder(present=False),
                         fusion=lambda: FixedFusion(96.0), analyzers=lambda s: [],
                         audit=lambda s: open_kiosk_log(s, tmp), matcher=lambda s: None)
    window, _ = bench.build(settings, camera, parts, size)
    bench.wait_idle(app, window)

    def pump(until, limit_s: float = 60.0) -> None:
        deadline = time.monotonic() + limit_s
        while not until():
            if time.monotonic() > deadline:
                raise SystemExit("the operator panel did not answer")
            process(app)
            time.sleep(0.005)

    def settle(runner) -> None:  # the panel's database calls in flight are done
        pump(lambda: not runner.busy)

    readings, results = [], []
    try:
        for i in range(sessions):
            started = time.monotonic()
            window.escape.activated.emit()
            pump(lambda: window.operator.dialog is not None)
            dialog = window.operator.dialog
            QTest.keyClicks(dialog.pin_edit, "4711")
            QTest.keyClick(dialog.pin_edit, Qt.Key.Key_Return)
            pump(lambda: window.operator.panel is not None)
            panel = window.operator.panel
            settle(panel.runner)
            panel.charts.days_spin.setValue(30)
            for index in range(panel.tabs.count()):
                panel.tabs.setCurrentIndex(index)
                settle(panel.runner)
            panel.charts.refresh_button.click()
            settle(panel.runner)
            panel.close_button.click()
            pump(lambda: window.operator.panel is None)
            results.append("closed")
            readings.append(reading())
            r = readings[-1]
            print(f"  opening {i + 1:3d}: rss {r['rss_kb'] / 1024:7.1f} MB, widgets "
                  f"{r['widgets']}, fds {r['fds']}, threads {r['os_threads']}, objects "
                  f"{r['objects']}; {time.monotonic() - started:.1f} s", flush=True)
    finally:
        window.shutdown()
    return readings, results


def report(name: str, readings: list[dict], results: list[str], warmup: int) -> dict:
    g = growth(readings, warmup)
    rss, fds, threads = g["rss_kb"], g["fds"], g["os_threads"]
    print(f"{name}: {len(results)} sessions ({results.count('pass')} pass); after the "
          f"{warmup} warm-up sessions, over {g['sessions_measured']} more: rss "
          f"{rss['after_warmup'] / 1024:.1f} -> {rss['last'] / 1024:.1f} MB (x{rss['ratio']}, "
          f"{rss['per_session']:.0f} kB a session), matcher child "
          f"{g['child_rss_kb']['per_session']:.0f} kB a session, fds {fds['after_warmup']} -> "
          f"{fds['last']}, threads {threads['after_warmup']} -> {threads['last']}, Python "
          f"objects {g['objects']['per_session']:.0f} a session, widgets "
          f"{g['widgets']['after_warmup']} -> {g['widgets']['last']}")
    return {"results": results, "growth": g, "readings": readings}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--part", choices=("tracker", "responder", "panel", "all"),
                        default="all")
    parser.add_argument("--attempts", type=int, default=18000,
                        help="attempts in the panel part's log (a month at 600 a day)")
    parser.add_argument("--size", default="1280x800", help="window size WxH")
    parser.add_argument("--data", type=Path, default=bench.DATA)
    args = parser.parse_args(argv)
    if args.sessions < args.warmup + 3:
        parser.error("--sessions must exceed --warmup by at least 3")
    size = tuple(int(v) for v in args.size.lower().split("x"))
    app = QApplication(sys.argv[:1])
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; window "
          f"{args.size}; {args.sessions} sessions per part, {args.warmup} of them warm-up")
    summary = {}
    panel = functools.partial(part_panel, attempts=args.attempts)
    for name, part in (("tracker", part_tracker), ("responder", part_responder),
                       ("panel", panel)):
        if args.part not in (name, "all"):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            readings, results = part(app, Path(tmp), args.data, args.sessions, size)
        summary[name] = report(name, readings, results, args.warmup)
    print(json.dumps({k: {"results": v["results"], "growth": v["growth"]}
                      for k, v in summary.items()}))
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "ui"
    raise SystemExit(main())
