#!/usr/bin/env python
"""Cost of the light challenge's analysis as a kiosk session pays it.

Usage::

    .venv/bin/python benchmarks/light.py [CLIP ...] [--seconds 6] [--data ../shared/data]

Each clip (default: the clips of ``benchmarks/analysis.py``) is scaled to cover 640x480 and
centre-cropped (the kiosk camera's frame), relit by the simulator (a live face; the
relighting itself is not timed) with a drawn sequence, tracked, and fed to
``LightAnalyzer``:

- per frame: ``LightAnalyzer.update`` alone (the skin regions and background bands in
  linear light), p50, p90 and max, against the analysis budget of 33 ms a frame that the
  tracker and the passive analyzers already use 13-17 ms of (README, benchmarks/analysis.py);
- end of session: ``LightAnalyzer.result()`` (the judge: delay search, fits, timing, ratio,
  relief), against the end-of-session budget of 300 ms.

Pinned to one CPU unless ``--all-cores``. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np
from analysis import (  # benchmarks/ is on sys.path as the script dir
    clip_paths,
    pin_one_core,
    read_session,
)

from kiosk.analysis.face import FaceTracker
from kiosk.analysis.light import LightAnalyzer, draw_sequence
from kiosk.lab.simulate.light import LightSimulator
from kiosk.lab.simulate.light_params import LightSimParams
from kiosk.model import Frame

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"


def run_clip(images: list[np.ndarray], fps: float, seed: int) -> dict:
    seq = draw_sequence(random.Random(seed)).shifted(1.0)
    with FaceTracker() as tracker:
        faces = [tracker.observe(Frame(im, i, i / fps, i / fps)).face
                 for i, im in enumerate(images)]
    first = next((f for f in faces if f is not None), None)
    if first is None:
        return {}
    sim = LightSimulator(seq, LightSimParams(), "none", fps, images[0].shape[:2],
                         np.random.default_rng(seed), first.landmarks)
    relit = [sim.render(im, None if f is None else f.landmarks, i)
             for i, (im, f) in enumerate(zip(images, faces, strict=True))]
    analyzer = LightAnalyzer(seq)
    per_frame = []
    with FaceTracker() as tracker:
        for i, im in enumerate(relit):
            frame = Frame(im, i, i / fps, i / fps)
            obs = tracker.observe(frame)
            start = time.perf_counter()
            analyzer.update(frame, obs)
            per_frame.append(time.perf_counter() - start)
    start = time.perf_counter()
    signal = analyzer.result()
    end = time.perf_counter() - start
    return {"per_frame_ms": np.array(per_frame) * 1e3, "end_ms": end * 1e3,
            "responded": bool(signal.details.get("responded")), "frames": len(relit)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", help="videos (default: three developer clips)")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--all-cores", action="store_true")
    args = parser.parse_args(argv)
    cores = pin_one_core(args.all_cores)
    clips = clip_paths(args.clips, args.data)
    if clips is None:
        return 2
    frames, ends = [], []
    print(f"{'clip':<40} {'frames':>6} {'p50 ms':>7} {'p90 ms':>7} {'max ms':>7} "
          f"{'end ms':>7}  answered")
    for k, clip in enumerate(clips):
        images, fps = read_session(clip, args.seconds)
        r = run_clip(images, fps, k)
        if not r:
            print(f"{clip.name[-40:]:<40} no face")
            continue
        frames.append(r["per_frame_ms"])
        ends.append(r["end_ms"])
        pf = r["per_frame_ms"]
        print(f"{clip.name[-40:]:<40} {r['frames']:>6} {np.percentile(pf, 50):7.2f} "
              f"{np.percentile(pf, 90):7.2f} {pf.max():7.2f} {r['end_ms']:7.1f}  "
              f"{r['responded']}")
    all_frames = np.concatenate(frames)
    figures = {
        "update_ms_p50": round(float(np.percentile(all_frames, 50)), 3),
        "update_ms_p90": round(float(np.percentile(all_frames, 90)), 3),
        "update_ms_max": round(float(all_frames.max()), 3),
        "result_ms_max": round(float(max(ends)), 1),
        "result_ms_per_clip": [round(e, 1) for e in ends],
        "frames": int(all_frames.size),
        "budget_ms": {"per_frame": 33, "end_of_session": 300},
        "cores": cores,
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
