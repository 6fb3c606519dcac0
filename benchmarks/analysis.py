#!/usr/bin/env python
"""Cost of the passive analysis as a kiosk session pays it: per frame and at the end.

Usage::

    .venv/bin/python benchmarks/analysis.py [CLIP ...] [--seconds 10] [--data ../shared/data]

Each clip (default: two bona fide clips and the monitor replay of the developer set) is
scaled to cover a 640x480 frame (the kiosk camera's size) and centre-cropped, and its first
``--seconds`` are run as one session with the kiosk's analyzers (camera fixed):

- per frame: ``FaceTracker.observe`` plus every analyzer's ``update`` (the per-frame budget
  of issue 4 is 33 ms on one core), p50 and p90 over all frames;
- end of session: every analyzer's ``result()`` plus ``Fusion.fuse`` (budget 300 ms).

The process is pinned to one CPU (``--all-cores`` lifts it; MediaPipe otherwise spreads
over several). Timings are wall-clock on this machine, whatever else runs on it; the liveness column is
for orientation only (cropped clips, fixed-camera coupling on hand-held recordings). The
last line is one JSON
object with ``per_frame_ms_p50``, ``_p90``, ``_p99``, ``_max``, ``analyzers_ms_p50``,
``end_of_session_ms`` (the worst clip) and per-analyzer figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from kiosk.analysis.face import FaceTracker
from kiosk.analysis.fusion import Fusion
from kiosk.analysis.passive import default_analyzers
from kiosk.analysis.texture import load_texture_reference
from kiosk.model import Frame

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
DEFAULT_CLIPS = (
    "KwaiVGI_LivePortrait/assets/examples/driving/d9.mp4",
    "tranvanluyt2203_face_anti_spoofing/videos/real.mp4",
    "tranvanluyt2203_face_anti_spoofing/videos/fake.mp4",
)
SIZE = (640, 480)


def to_kiosk_frame(image: np.ndarray) -> np.ndarray:
    """``image`` scaled to cover 640x480 and centre-cropped; (480, 640, 3) uint8.

    Cropping rather than padding: a padded margin would add straight borders around the
    picture, which the device-edge cue rightly reads as a frame.
    """
    h, w = image.shape[:2]
    k = max(SIZE[0] / w, SIZE[1] / h)
    nw, nh = max(SIZE[0], round(w * k)), max(SIZE[1], round(h * k))
    big = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA if k < 1 else
                     cv2.INTER_LINEAR)
    left, top = (nw - SIZE[0]) // 2, (nh - SIZE[1]) // 2
    return np.ascontiguousarray(big[top:top + SIZE[1], left:left + SIZE[0]])


def read_session(path: Path, seconds: float) -> tuple[list[np.ndarray], float]:
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    frames = []
    while len(frames) < round(seconds * fps):
        ok, image = cap.read()
        if not ok:
            break
        frames.append(to_kiosk_frame(image))
    cap.release()
    return frames, fps


def run_session(images: list[np.ndarray], fps: float, fusion: Fusion, reference) -> dict:
    analyzers = default_analyzers(texture_reference=reference, camera_fixed=True)
    per_frame, per_analyzer = [], {a.name: [] for a in analyzers}
    with FaceTracker() as tracker:
        for i, image in enumerate(images):
            frame = Frame(image=image, seq=i, t=i / fps, media_t=i / fps)
            start = time.perf_counter()
            obs = tracker.observe(frame)
            for a in analyzers:
                t0 = time.perf_counter()
                a.update(frame, obs)
                per_analyzer[a.name].append(time.perf_counter() - t0)
            per_frame.append(time.perf_counter() - start)
    start = time.perf_counter()
    signals = [a.result() for a in analyzers]
    fused = fusion.fuse(signals)
    end = time.perf_counter() - start
    analyzers_ms = np.sum([v for v in per_analyzer.values()], axis=0) * 1e3
    return {"per_frame_ms": np.array(per_frame) * 1e3, "analyzers_ms": analyzers_ms,
            "per_analyzer_ms": {k: np.array(v) * 1e3 for k, v in per_analyzer.items()},
            "end_ms": end * 1e3, "liveness": fused.score, "reasons": fused.reasons}


def pin_one_core(all_cores: bool) -> str:
    """Pin this process to one CPU (the budgets are for one core) unless ``all_cores``; call
    it before MediaPipe starts its threads, which inherit the affinity. Says which."""
    if all_cores or not hasattr(os, "sched_setaffinity"):
        return "all"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"cpu {cpu} only"


def clip_paths(given: list[str], data: Path) -> list[Path] | None:
    """The clips given, or the default developer clips; None (after saying which) when one
    is missing."""
    clips = [Path(c) for c in given] or [data / c for c in DEFAULT_CLIPS]
    missing = [str(c) for c in clips if not c.is_file()]
    if missing:
        print(f"missing clips: {', '.join(missing)}", file=sys.stderr)
        return None
    return clips


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", help="videos (default: three developer clips)")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--all-cores", action="store_true",
                        help="do not pin the process to one CPU (the budget is for one core)")
    args = parser.parse_args(argv)
    cores = pin_one_core(args.all_cores)
    clips = clip_paths(args.clips, args.data)
    if clips is None:
        return 2
    fusion, reference = Fusion.load(), load_texture_reference()
    frame_ms, analyzer_ms, ends = [], [], []
    per_analyzer: dict[str, list[np.ndarray]] = {}
    print(f"{'clip':<40} {'frames':>6} {'p50 ms':>7} {'p90 ms':>7} {'analyzers p50':>14} "
          f"{'end ms':>7}  liveness")
    for clip in clips:
        images, fps = read_session(clip, args.seconds)
        r = run_session(images, fps, fusion, reference)
        frame_ms.append(r["per_frame_ms"])
        analyzer_ms.append(r["analyzers_ms"])
        ends.append(r["end_ms"])
        for k, v in r["per_analyzer_ms"].items():
            per_analyzer.setdefault(k, []).append(v)
        print(f"{clip.name[-40:]:<40} {len(images):>6} {np.percentile(r['per_frame_ms'], 50):7.1f}"
              f" {np.percentile(r['per_frame_ms'], 90):7.1f} "
              f"{np.percentile(r['analyzers_ms'], 50):14.1f} {r['end_ms']:7.1f}  "
              f"{r['liveness']:.1f} {','.join(r['reasons'])}")
    all_frames, all_analyzers = np.concatenate(frame_ms), np.concatenate(analyzer_ms)
    breakdown = {k: {"p50": round(float(np.percentile(np.concatenate(v), 50)), 2),
                     "p90": round(float(np.percentile(np.concatenate(v), 90)), 2),
                     "mean": round(float(np.mean(np.concatenate(v))), 2)}
                 for k, v in per_analyzer.items()}
    print("per analyzer update (ms): " + ", ".join(
        f"{k} p50 {v['p50']} p90 {v['p90']} mean {v['mean']}" for k, v in breakdown.items()))
    figures = {
        "per_frame_ms_p50": round(float(np.percentile(all_frames, 50)), 2),
        "per_frame_ms_p90": round(float(np.percentile(all_frames, 90)), 2),
        "per_frame_ms_p99": round(float(np.percentile(all_frames, 99)), 2),
        "per_frame_ms_max": round(float(all_frames.max()), 2),
        "analyzers_ms_p50": round(float(np.percentile(all_analyzers, 50)), 2),
        "analyzers_ms_p90": round(float(np.percentile(all_analyzers, 90)), 2),
        "end_of_session_ms": round(float(max(ends)), 1),
        "end_of_session_ms_per_clip": [round(e, 1) for e in ends],
        "frames": int(all_frames.size),
        "per_analyzer_update_ms": breakdown,
        "budget_ms": {"per_frame": 33, "end_of_session": 300},
        "cores": cores,
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
