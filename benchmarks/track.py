"""Face tracking cost on 640x480 frames: the landmarker alone against the whole observation.

Usage: python benchmarks/track.py [VIDEO] [--frames N]

Both figures come from the same run over the same frames, interleaved per frame so that
machine noise hits both alike. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
from frames import SHARED_DATA, frames_640x480  # benchmarks/ is on sys.path as the script dir

from kiosk.analysis.face import FaceTracker
from kiosk.model import Frame

DEFAULT = (SHARED_DATA / "KwaiVGI_LivePortrait" / "assets" / "examples" / "driving" / "d9.mp4")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--frames", type=int, default=300)
    args = parser.parse_args()
    images = frames_640x480(args.video, args.frames)

    # Two trackers, one per measurement, so each keeps its own VIDEO-mode tracking state.
    with FaceTracker() as raw, FaceTracker() as full:
        for i, image in enumerate(images[:10]):  # warm-up
            raw.landmarks(Frame(image, i, i / 30, i / 30))
            full.observe(Frame(image, i, i / 30, i / 30))
        landmarker_ms, observation_ms = [], []
        for i, image in enumerate(images):
            frame = Frame(image, i, 1 + i / 30, i / 30)
            t0 = time.perf_counter()
            raw.landmarks(frame)
            t1 = time.perf_counter()
            full.observe(frame)
            t2 = time.perf_counter()
            landmarker_ms.append((t1 - t0) * 1000)
            observation_ms.append((t2 - t1) * 1000)

    result = {
        "frames": len(images),
        "landmarker_ms_p50": round(statistics.median(landmarker_ms), 2),
        "landmarker_ms_p90": round(percentile(landmarker_ms, 90), 2),
        "observation_ms_p50": round(statistics.median(observation_ms), 2),
        "observation_ms_p90": round(percentile(observation_ms, 90), 2),
    }
    result["ratio"] = round(result["observation_ms_p50"] / result["landmarker_ms_p50"], 3)
    print(f"{args.video.name}: {len(images)} frames at 640x480")
    print(f"landmarker alone : p50 {result['landmarker_ms_p50']} ms, "
          f"p90 {result['landmarker_ms_p90']} ms")
    print(f"FaceObservation  : p50 {result['observation_ms_p50']} ms, "
          f"p90 {result['observation_ms_p90']} ms")
    print(f"ratio (p50)      : {result['ratio']} (target <= 1.2)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
