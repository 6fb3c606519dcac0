"""Cost of the multi-frame analyzers on 640x480 frames.

Usage: python benchmarks/motion_analyzers.py [VIDEO] [--frames N] [--repeat R]

The clip is letterboxed into 640x480 and tracked once (not timed); then the multi-frame
analyzers of :func:`kiosk.analysis.passive.default_analyzers` (planar, coupling, pulse,
flicker, reflection, expression, rigid smile) are fed the same frames and observations,
interleaved per frame so that machine noise hits all alike, and ``result()`` is timed at the
end. The per-frame budget of the whole analysis is benchmarks/analysis.py's; this script
shows each cue's share. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from frames import SHARED_DATA, frames_640x480  # benchmarks/ is on sys.path as the script dir

from kiosk.analysis.face import FaceTracker
from kiosk.analysis.passive import MULTI_FRAME, default_analyzers
from kiosk.model import Frame

DEFAULT = (SHARED_DATA / "tranvanluyt2203_face_anti_spoofing" / "videos" / "real.mp4")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--frames", type=int, default=300, help="frames per session (300 = 10 s)")
    parser.add_argument("--repeat", type=int, default=3, help="sessions timed (median taken)")
    args = parser.parse_args()
    images = frames_640x480(args.video, args.frames)
    frames = [Frame(image, i, i / 30.0, i / 30.0) for i, image in enumerate(images)]
    with FaceTracker() as tracker:
        observations = [tracker.observe(f) for f in frames]

    analyzers = [a for a in default_analyzers() if a.name in MULTI_FRAME]
    update_ms: dict[str, list[float]] = {a.name: [] for a in analyzers}
    result_ms: dict[str, list[float]] = {a.name: [] for a in analyzers}
    signals = {}
    for _ in range(args.repeat):
        per_frame = {a.name: [] for a in analyzers}
        for a in analyzers:
            a.reset()
        for frame, obs in zip(frames, observations, strict=True):
            for a in analyzers:
                t0 = time.perf_counter()
                a.update(frame, obs)
                per_frame[a.name].append((time.perf_counter() - t0) * 1000)
        for a in analyzers:
            update_ms[a.name].append(statistics.fmean(per_frame[a.name]))
            t0 = time.perf_counter()
            signals[a.name] = a.result()
            result_ms[a.name].append((time.perf_counter() - t0) * 1000)

    result: dict = {"frames": len(frames), "repeat": args.repeat}
    for a in analyzers:
        result[f"{a.name}_update_ms_mean"] = round(statistics.median(update_ms[a.name]), 2)
        result[f"{a.name}_result_ms"] = round(statistics.median(result_ms[a.name]), 1)
    result["update_ms_mean_total"] = round(sum(result[f"{a.name}_update_ms_mean"]
                                               for a in analyzers), 2)
    result["result_ms_total"] = round(sum(result[f"{a.name}_result_ms"] for a in analyzers), 1)
    print(f"{args.video.name}: {len(frames)} frames at 640x480, {args.repeat} sessions "
          f"(medians)")
    for a in analyzers:
        s = signals[a.name]
        print(f"{a.name:11s} update {result[f'{a.name}_update_ms_mean']:6.2f} ms/frame   "
              f"result {result[f'{a.name}_result_ms']:6.1f} ms   "
              f"(score {s.score:.2f}, confidence {s.confidence:.2f})")
    print(f"{'total':11s} update {result['update_ms_mean_total']:6.2f} ms/frame   "
          f"result {result['result_ms_total']:6.1f} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
