#!/usr/bin/env python
"""Cost of the single-frame analyzers (texture, moire, edges, glare, lighting, display) per frame.

Usage::

    .venv/bin/python benchmarks/frame_analyzers.py [CLIP ...] [--stride 6] [--scores]

Each clip (default: two bona fide clips and the monitor replay of the developer set) is
decoded, resized to 640x480 (the kiosk's camera size) and tracked once; then the analyzers
are fed every frame as in a session and ``update`` and ``result`` are timed per analyzer.
Tracking time is printed for reference but not counted. ``--scores`` also prints every
developer-set file's Signal per analyzer (score / confidence and the cue's raw input), the
figures behind the constants in kiosk/analysis/context/*.py and kiosk/analysis/texture.py.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from kiosk.analysis.face import FaceTracker
from kiosk.analysis.passive import single_frame_analyzers
from kiosk.model import Frame

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
DEFAULT_CLIPS = (
    "KwaiVGI_LivePortrait/assets/examples/driving/d9.mp4",
    "tranvanluyt2203_face_anti_spoofing/videos/real.mp4",
    "tranvanluyt2203_face_anti_spoofing/videos/fake.mp4",
)
RAW_KEY = {"texture": "ratio", "edges": "evidence", "glare": "unexplained",
           "lighting": "evidence", "display": "black_ratio"}


def raw_input(name: str, signal) -> str:
    """The number a Signal's score was computed from (moire: its local or joint peak)."""
    d = signal.details
    if name == "moire":
        kind = d.get("peak_kind")
        return f"{kind} {d[kind + '_peak']}" if kind else "-"
    return str(d.get(RAW_KEY[name], "-"))


def read_clip(path: Path, size: tuple[int, int] | None) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        frames.append(cv2.resize(image, size, interpolation=cv2.INTER_AREA) if size else image)
    cap.release()
    if not frames:
        raise SystemExit(f"no frames decoded from {path}")
    return frames


def track(frames: list[np.ndarray], fps: float = 30.0):
    out = []
    t0 = time.perf_counter()
    with FaceTracker() as tracker:
        for i, image in enumerate(frames):
            frame = Frame(image, i, i / fps, i / fps)
            out.append((frame, tracker.observe(frame)))
    return out, (time.perf_counter() - t0) * 1000.0 / len(frames)


def time_session(tracked, stride: int):
    analyzers = single_frame_analyzers(stride=stride)
    per = {a.name: [] for a in analyzers}
    total = []
    for frame, obs in tracked:
        spent = 0.0
        for a in analyzers:
            t = time.perf_counter()
            a.update(frame, obs)
            dt = (time.perf_counter() - t) * 1000.0
            per[a.name].append(dt)
            spent += dt
        total.append(spent)
    results, result_ms = {}, {}
    for a in analyzers:
        t = time.perf_counter()
        results[a.name] = a.result()
        result_ms[a.name] = (time.perf_counter() - t) * 1000.0
    return per, total, result_ms, results


def session_signals(tracked, stride: int):
    analyzers = single_frame_analyzers(stride=stride)
    for frame, obs in tracked:
        for a in analyzers:
            a.update(frame, obs)
    return {a.name: a.result() for a in analyzers}


def print_scores(stride: int) -> None:
    with (DATA / "manifest.csv").open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if not r["notes"].startswith("overlay:")]
    print("\nper file: score/confidence (raw input) per analyzer")
    for row in rows:
        path = DATA / row["path"]
        frames = read_clip(path, None) if row["media"] == "video" else [cv2.imread(str(path))]
        tracked, _ = track(frames)
        sig = session_signals(tracked, stride)
        label = row["label"] + (f"/{row['species']}" if row["species"] else "")
        cells = "  ".join(f"{n} {s.score:.2f}/{s.confidence:.2f} ({raw_input(n, s)})"
                          for n, s in sig.items())
        print(f"{row['media']:5s} {label:14s} {cells}  {row['path'].split('/')[-1]}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("clips", nargs="*", help="clips relative to ../shared/data or absolute")
    ap.add_argument("--stride", type=int, default=6)
    ap.add_argument("--scores", action="store_true", help="also print per-file signals")
    args = ap.parse_args(argv)
    clips = args.clips or list(DEFAULT_CLIPS)
    all_frames, all_total, results_total = {}, [], []
    tracker_ms = []
    for clip in clips:
        path = Path(clip) if Path(clip).is_absolute() else DATA / clip
        tracked, ms = track(read_clip(path, (640, 480)))
        tracker_ms.append(ms)
        per, total, result_ms, results = time_session(tracked, args.stride)
        all_total += total
        results_total.append(sum(result_ms.values()))
        print(f"{path.name}: {len(tracked)} frames at 640x480, tracker {ms:.1f} ms/frame")
        for name, times in per.items():
            measured = [t for t in times if t > 0.05]
            all_frames.setdefault(name, []).extend(times)
            s = results[name]
            print(f"  {name:8s} mean {statistics.fmean(times):5.2f} ms/frame  "
                  f"measured frames {len(measured):3d} at {statistics.median(measured or [0]):5.2f} "
                  f"ms (max {max(times):5.2f})  result {result_ms[name]:5.2f} ms  "
                  f"score {s.score:.2f} conf {s.confidence:.2f}")
        print(f"  all of them: mean {statistics.fmean(total):.2f} ms/frame, p50 "
              f"{statistics.median(total):.2f}, p95 {float(np.percentile(total, 95)):.2f}, "
              f"max {max(total):.2f}; result() total {sum(result_ms.values()):.2f} ms")
    if args.scores:
        print_scores(args.stride)
    summary = {
        "stride": args.stride,
        "clips": len(clips),
        "tracker_ms_per_frame": round(statistics.fmean(tracker_ms), 2),
        "per_analyzer_ms_per_frame": {n: round(statistics.fmean(t), 3)
                                      for n, t in all_frames.items()},
        "analyzers_ms_per_frame_mean": round(statistics.fmean(all_total), 3),
        "analyzers_ms_per_frame_p50": round(statistics.median(all_total), 3),
        "analyzers_ms_per_frame_p95": round(float(np.percentile(all_total, 95)), 3),
        "analyzers_ms_per_frame_max": round(max(all_total), 3),
        "result_ms_max": round(max(results_total), 3),
    }
    sys.stdout.flush()
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
