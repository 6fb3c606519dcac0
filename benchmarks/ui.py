#!/usr/bin/env python
"""The kiosk window under load: preview frame rate, UI event-loop stalls, session duration.

Usage::

    .venv/bin/python benchmarks/ui.py [--sessions 3] [--size 1920x1080] [--data ../shared/data]

Everything runs through the real window (:class:`kiosk.ui.app.KioskWindow`), the real worker
and the real session code, offscreen, with a 30 fps live source (a clip of a face held in
memory and served in real time, as a camera would: older frames are dropped, never queued).

Part A, analysis load: the real MediaPipe tracker, the kiosk's passive analyzers and the
fusion model (a fixed score when the model file is not there yet). The person in the clip
does not answer prompts, so each session ends on a time-out after the first prompt.

Part B, a prompt responder: a synthetic person who answers each prompt ~0.45 s after it
appears (the tracker is replaced by the synthetic observation stream, as in the UI tests),
the real passive analyzers on a photo of a face (with sensor noise), a fixed liveness score,
and the local dlib matcher, in its child process as the kiosk runs it, comparing the best
frame with another photo of the same person. The source is a live one, so the session runs
the light check first, as at a kiosk with a camera. The figures are the wall time from consent
to the result on screen and from the first prompt on screen to the result.

Part C, the same person missing the first prompt: the kiosk's second chance replaces it, so
the session takes one more prompt.

Part D, part B without the light check: consent to result with three prompts (target: median
under 8 s); the difference of the medians of B and D is what the light check adds to a session
(target: under 4 s).

Part 0, the baseline: the kiosk showing the preview with no analysis, for what the
machine's own load costs (other processes share its cores).

Each part measures, during the sessions:

- the preview rate: distinct camera frames painted by the live screen per second, against
  the source's own rate (target: the camera's 30 fps);
- the longest gap between ticks of a 5 ms UI-thread timer, minus 5 ms (target: no stall over
  50 ms), and its 99th percentile.

Timings are wall-clock on this machine, whatever else runs on it (the load average is
printed). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2  # noqa: F401  (before Qt: see kiosk/ui/qtenv.py)
import numpy as np

REPO = Path(__file__).resolve().parent.parent

from kiosk.ui.qtenv import drop_opencv_qt_paths  # noqa: E402

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
drop_opencv_qt_paths(os.environ)

from PySide6.QtCore import QElapsedTimer, QObject, Qt, QTimer, Slot  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from kiosk.analysis.capture import MIN_ANALYSIS_FPS  # noqa: E402
from kiosk.audit import create_key_file, open_kiosk_log  # noqa: E402
from kiosk.camera import BaseSource  # noqa: E402
from kiosk.feed import FrameFeed  # noqa: E402
from kiosk.lab.standin import FixedFusion, Responder  # noqa: E402
from kiosk.runtime import RuntimeParts  # noqa: E402
from kiosk.settings import Settings  # noqa: E402
from kiosk.ui.app import KioskWindow  # noqa: E402
from kiosk.ui.worker import KioskWorker  # noqa: E402
from kiosk.vocabulary import FlowState  # noqa: E402

DATA = REPO.parent / "shared" / "data"
CLIP = "KwaiVGI_LivePortrait/assets/examples/driving/d7.mp4"
LIVE_PHOTO = "ageitgey_face_recognition/examples/obama2.jpg"
ID_PHOTO = "ageitgey_face_recognition/examples/obama.jpg"
SIZE = (640, 480)
FPS = 30.0


class MemoryCamera(BaseSource):
    """A live source serving in-memory 640x480 pictures at ``fps`` in real time."""

    is_live = True

    def __init__(self, images: list[np.ndarray], fps: float = FPS) -> None:
        super().__init__("memory camera", nominal_fps=fps)
        self._images = images
        self._period = 1.0 / fps
        self._next = 0.0

    def _open(self) -> None:
        self._next = time.monotonic()

    def _close(self) -> None:
        pass

    def _read(self):
        wait = self._next - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._next = max(self._next + self._period, time.monotonic() - 0.1)
        now = time.monotonic()
        return self._emit(self._images[self._seq % len(self._images)], now, t=now)


def fit(image: np.ndarray) -> np.ndarray:
    """Scaled to fit 640x480, margins filled by reflection."""
    h, w = image.shape[:2]
    k = min(SIZE[0] / w, SIZE[1] / h)
    nw, nh = min(SIZE[0], round(w * k)), min(SIZE[1], round(h * k))
    small = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA)
    left, top = (SIZE[0] - nw) // 2, (SIZE[1] - nh) // 2
    return cv2.copyMakeBorder(small, top, SIZE[1] - nh - top, left, SIZE[0] - nw - left,
                              cv2.BORDER_REFLECT)


def clip_frames(data: Path, n: int = 90) -> list[np.ndarray]:
    path = data / CLIP
    frames = []
    if path.is_file():
        cap = cv2.VideoCapture(str(path))
        while len(frames) < n:
            ok, image = cap.read()
            if not ok:
                break
            frames.append(fit(image))
        cap.release()
    if not frames:  # no developer data: noise (MediaPipe finds no face: a lighter load)
        rng = np.random.default_rng(0)
        frames = [rng.integers(0, 255, (SIZE[1], SIZE[0], 3), np.uint8) for _ in range(8)]
    return frames


def centred_face(image: np.ndarray, detector) -> np.ndarray:
    """``image`` cropped and scaled so its face sits where the synthetic face is (a 200 px
    wide face centred at (320, 240) of a 640x480 frame)."""
    box = detector.detect(image)[0]
    k = 200.0 / box.width
    cx, cy = box.center
    m = np.float32([[k, 0, 320 - k * cx], [0, k, 240 - k * cy]])
    return cv2.warpAffine(image, m, SIZE, borderMode=cv2.BORDER_REFLECT)


class PromptWatcher(QObject):
    """Notes, in the UI thread, when each session's first prompt reaches the screen, and when
    each analysed frame's progress arrives (the worker reports one per frame it analysed)."""

    def __init__(self) -> None:
        super().__init__()
        self.first_prompt: dict[int, float] = {}
        self.analysed: dict[int, list[float]] = {}

    @Slot(int, object)
    def on_progress_made(self, session_id: int, progress) -> None:
        now = time.monotonic()
        self.analysed.setdefault(session_id, []).append(now)
        if progress.prompt is not None and session_id not in self.first_prompt:
            self.first_prompt[session_id] = now

    def analysed_fps(self, session_id: int) -> float | None:
        """Frames the worker analysed per second in one session."""
        times = self.analysed.get(session_id, [])
        if len(times) < 2 or times[-1] <= times[0]:
            return None
        return (len(times) - 1) / (times[-1] - times[0])


class Stalls:
    """A 5 ms precise UI timer; records the gaps between its ticks."""

    def __init__(self, interval_ms: int = 5) -> None:
        self.interval = interval_ms
        self.gaps: list[float] = []
        self._clock = QElapsedTimer()
        self._last: int | None = None
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_timeout)
        self.recording = False

    def start(self) -> None:
        self._clock.start()
        self._timer.start()

    def _on_timeout(self) -> None:
        now = self._clock.nsecsElapsed()
        if self._last is not None and self.recording:
            self.gaps.append((now - self._last) / 1e6)
        self._last = now

    def stall_ms(self) -> tuple[float, float]:
        """(longest gap, 99th percentile gap), minus the interval, in ms."""
        if not self.gaps:
            return float("nan"), float("nan")
        gaps = np.asarray(self.gaps) - self.interval
        return float(gaps.max()), float(np.percentile(gaps, 99))


def settings_in(tmp: Path) -> Settings:
    keys = tmp / "keys"  # not in the database's folder (the kiosk warns about that)
    data = tmp / "data"
    keys.mkdir()
    data.mkdir()
    create_key_file(keys / "audit.key")
    return Settings().replace("audit", db_path=str(data / "kiosk.db"),
                              key_file=str(keys / "audit.key"))


def wait_idle(app, window, timeout_s: float = 120.0) -> float:
    """Pump the event loop until the kiosk is idle (started); returns the deadline used.

    Raises
    ------
    SystemExit
        It did not start in time (its fault reason is the message).
    """
    deadline = time.monotonic() + timeout_s
    while window.flow.state != FlowState.IDLE and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
    if window.flow.state != FlowState.IDLE:
        raise SystemExit(f"the kiosk did not start: {window.flow.fault_reason}")
    return deadline


def run_sessions(app, window, worker, camera, sessions: int, stalls: Stalls, begin) -> dict:
    """Run ``sessions`` sessions through the window (``begin()`` starts one from idle);
    returns the figures."""
    deadline = wait_idle(app, window)
    watcher = PromptWatcher()
    worker.progress_made.connect(watcher.on_progress_made)
    first_prompt = watcher.first_prompt
    durations, decisions, rates, paint_rates, source_rates = [], [], [], [], []
    analysed: list[float] = []
    consent_to_result = []
    preview = window.live.preview
    for _ in range(sessions):
        consented = time.monotonic()
        begin()
        assert window.flow.state == FlowState.LIVE, window.flow.state
        sid = window.flow.session_id
        frames0, t0 = camera.health.frames, time.monotonic()
        shown0, paints0 = preview.frames_shown, preview.paints
        stalls.recording = True
        while window.flow.state == FlowState.LIVE or window.flow.state == FlowState.PROCESSING:
            app.processEvents()
            time.sleep(0.001)
            if time.monotonic() > deadline + 300:
                raise SystemExit("a session did not end")
        stalls.recording = False
        consent_to_result.append(time.monotonic() - consented)
        span = time.monotonic() - t0
        rates.append((preview.frames_shown - shown0) / span)
        paint_rates.append((preview.paints - paints0) / span)
        source_rates.append((camera.health.frames - frames0) / span)
        decisions.append(window.result.kind)
        if sid in first_prompt:
            durations.append(time.monotonic() - first_prompt[sid])
        if (rate := watcher.analysed_fps(sid)) is not None:
            analysed.append(rate)
        window.flow.finish()
    max_stall, p99 = stalls.stall_ms()
    return {"preview_fps": round(min(rates), 1), "paints_per_s": round(min(paint_rates), 1),
            "source_fps": round(min(source_rates), 1),
            "analysed_fps": round(min(analysed), 1) if analysed else None,
            "max_stall_ms": round(max_stall, 1), "p99_stall_ms": round(p99, 1),
            "first_prompt_to_result_s": [round(d, 2) for d in durations],
            "consent_to_result_s": [round(d, 2) for d in consent_to_result],
            "consent_to_result_median_s": round(float(np.median(consent_to_result)), 2),
            "results": decisions}


def build(settings, camera, parts, size, observer=None):
    worker = KioskWorker(settings, FrameFeed(camera), parts, observer=observer)
    window = KioskWindow(settings, worker)
    window.resize(*size)
    window.show()
    window.start()
    return window, worker


def real_analyzers():
    from kiosk.analysis.passive import default_analyzers
    from kiosk.analysis.texture import load_texture_reference

    reference = load_texture_reference()
    return lambda s: default_analyzers(s, camera_fixed=True, texture_reference=reference)


def fusion_factory():
    """The real fusion model when it loads, else a fixed score (reported)."""
    try:
        from kiosk.analysis.fusion import Fusion
        Fusion.load()
        return Fusion.load, "model"
    except Exception as exc:  # model not trained yet on this checkout
        print(f"  fusion model unavailable ({exc}); fixed score instead", file=sys.stderr)
        return lambda: FixedFusion(96.0), "fixed"


def part_a(app, tmp: Path, frames, sessions: int, size) -> dict:
    from kiosk.analysis.face import FaceTracker

    settings = settings_in(tmp)
    fusion, kind = fusion_factory()
    camera = MemoryCamera(frames)
    parts = RuntimeParts(tracker=FaceTracker, fusion=fusion, analyzers=real_analyzers(),
                         audit=lambda s: open_kiosk_log(s, tmp))
    window, worker = build(settings, camera, parts, size)
    window.flow.config = dataclasses.replace(window.flow.config, approach_s=1e9)
    stalls = Stalls()
    stalls.start()

    def begin():
        window.flow.start()
        window.flow.accept()
    try:
        figures = run_sessions(app, window, worker, camera, sessions, stalls, begin)
    finally:
        window.shutdown()
    figures["fusion"] = kind
    return figures


def part_b(app, tmp: Path, data: Path, frames, sessions: int, size, skip: int = 0,
           light: bool = True) -> dict:
    """The prompt responder; ``skip`` prompts missed at first in each session (1: the
    second chance is used); ``light`` False: without the light check (part D)."""
    from kiosk.cloud.detect import HogFaceDetector
    from kiosk.cloud.factory import build_matcher
    from kiosk.cloud.images import load_photo
    from kiosk.matcher_process import ProcessMatcher

    settings = (settings_in(tmp).replace("kiosk", mode="staffed")
                .replace("matching", matcher="local")
                .replace("liveness", light_challenge=light))
    detector = HogFaceDetector()
    if (data / LIVE_PHOTO).is_file():
        live = centred_face(load_photo(data / LIVE_PHOTO), detector)
        reference = load_photo(data / ID_PHOTO)
        images = [np.clip(live.astype(np.int16) + np.random.default_rng(i).integers(
            -3, 4, live.shape), 0, 255).astype(np.uint8) for i in range(4)]  # sensor noise
    else:
        images, reference = frames, frames[0]
    camera = MemoryCamera(images)
    responder = Responder(skip=skip)
    parts = RuntimeParts(tracker=lambda: responder, fusion=lambda: FixedFusion(96.0),
                         analyzers=real_analyzers(), audit=lambda s: open_kiosk_log(s, tmp),
                         matcher=lambda s: ProcessMatcher(build_matcher, s),
                         rng=random.Random(3))
    window, worker = build(settings, camera, parts, size, observer=responder)
    window.flow.config = dataclasses.replace(window.flow.config, approach_s=1e9)
    stalls = Stalls()
    stalls.start()

    def begin():  # the staffed desk, the ID photo handed straight to the flow
        window.flow.start()
        window.flow.accept()
        window.flow.identity_ready(reference, None)
    try:
        figures = run_sessions(app, window, worker, camera, sessions, stalls, begin)
    finally:
        window.shutdown()
    return figures


def idle_baseline(app, tmp: Path, frames, size, seconds: float = 6.0) -> dict:
    """The same probes on an idle kiosk showing the preview (the identity screen's), with no
    analysis beyond the idle face check: what this machine's load alone costs."""
    settings = settings_in(tmp).replace("kiosk", mode="staffed")
    camera = MemoryCamera(frames)
    parts = RuntimeParts(tracker=lambda: Responder(present=False),
                         fusion=lambda: FixedFusion(96.0), analyzers=lambda s: [],
                         audit=lambda s: open_kiosk_log(s, tmp), matcher=lambda s: None)
    window, worker = build(settings, camera, parts, size)
    window.flow.config = dataclasses.replace(window.flow.config, approach_s=1e9)
    stalls = Stalls()
    stalls.start()
    try:
        wait_idle(app, window, 60)
        window.flow.start()
        window.flow.accept()
        preview = window.identity.preview
        shown0, frames0, t0 = preview.frames_shown, camera.health.frames, time.monotonic()
        stalls.recording = True
        while time.monotonic() - t0 < seconds:
            app.processEvents()
            time.sleep(0.001)
        stalls.recording = False
        span = time.monotonic() - t0
    finally:
        window.shutdown()
    max_stall, p99 = stalls.stall_ms()
    return {"preview_fps": round((preview.frames_shown - shown0) / span, 1),
            "source_fps": round((camera.health.frames - frames0) / span, 1),
            "max_stall_ms": round(max_stall, 1), "p99_stall_ms": round(p99, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--size", default="1920x1080", help="window size WxH")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    app = QApplication(sys.argv[:1])
    frames = clip_frames(args.data)
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f}; window {args.size}, "
          f"source {FPS:.0f} fps, {args.sessions} sessions per part")
    challenges = Settings().liveness.challenge_count
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b, \
            tempfile.TemporaryDirectory() as c, tempfile.TemporaryDirectory() as d, \
            tempfile.TemporaryDirectory() as e:
        base = idle_baseline(app, Path(c), frames, size)
        print(f"0  idle kiosk, preview only: preview {base['preview_fps']} fps (source "
              f"{base['source_fps']}), longest UI stall {base['max_stall_ms']} ms (p99 "
              f"{base['p99_stall_ms']})")
        fig_a = part_a(app, Path(a), frames, args.sessions, size)
        print(f"A  real tracker + analyzers ({fig_a['fusion']} fusion): preview "
              f"{fig_a['preview_fps']} fps (source {fig_a['source_fps']}), longest UI stall "
              f"{fig_a['max_stall_ms']} ms (p99 {fig_a['p99_stall_ms']}), frames analysed "
              f"{fig_a['analysed_fps']} a second at the slowest session (liveness is judged "
              f"from {MIN_ANALYSIS_FPS:.0f}), results {fig_a['results']}")
        fig_b = part_b(app, Path(b), args.data, frames, args.sessions, size)
        print(f"B  prompt responder ({challenges} prompts) + local matcher + light check: consent "
              f"to result "
              f"{fig_b['consent_to_result_s']} s (median "
              f"{fig_b['consent_to_result_median_s']}), first prompt to result "
              f"{fig_b['first_prompt_to_result_s']} s, preview {fig_b['preview_fps']} fps "
              f"(source {fig_b['source_fps']}), longest UI stall {fig_b['max_stall_ms']} ms "
              f"(p99 {fig_b['p99_stall_ms']}), results {fig_b['results']}")
        fig_c = part_b(app, Path(d), args.data, frames, args.sessions, size, skip=1)
        print(f"C  the same person missing the first prompt (second chance): consent to "
              f"result {fig_c['consent_to_result_s']} s (median "
              f"{fig_c['consent_to_result_median_s']}), results {fig_c['results']}")
        fig_d = part_b(app, Path(e), args.data, frames, args.sessions, size, light=False)
        added = None
        if fig_b["consent_to_result_median_s"] is not None and \
                fig_d["consent_to_result_median_s"] is not None:
            added = round(fig_b["consent_to_result_median_s"]
                          - fig_d["consent_to_result_median_s"], 2)
        print(f"D  part B without the light check: consent to result "
              f"{fig_d['consent_to_result_s']} s (median {fig_d['consent_to_result_median_s']}), "
              f"results {fig_d['results']}; the light check adds {added} s (target 4 s)")
    worst = max(fig_b["first_prompt_to_result_s"] or [float("nan")])
    summary = {
        "load_average": round(load, 2), "window": args.size, "source_fps": FPS,
        "idle_baseline": base, "analysis_load": fig_a, "responder": fig_b,
        "responder_second_chance": fig_c, "responder_without_light": fig_d,
        "light_added_s": added,
        "consent_to_result_median_s": fig_d["consent_to_result_median_s"],
        "consent_to_result_with_light_median_s": fig_b["consent_to_result_median_s"],
        "consent_to_result_retry_median_s": fig_c["consent_to_result_median_s"],
        "preview_fps_min": min(fig_a["preview_fps"], fig_b["preview_fps"]),
        "max_stall_ms": max(fig_a["max_stall_ms"], fig_b["max_stall_ms"]),
        "session_s_max": worst,
        "targets": {"preview_fps": FPS, "max_stall_ms": 50.0,
                    "consent_to_result_median_s": 8.0, "light_added_s": 4.0},
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "ui"
    raise SystemExit(main())
