"""Challenge detectors on the developer manifest: event precision/recall and detector cost.

Tracks every video row of ``manifest.csv`` once, then runs the detectors with the whole-clip
baseline (``kiosk analyze``) and the session-like start baseline, at the clip's own rate and
decimated to half (30 -> 15 fps), and scores them with
:func:`kiosk.lab.events_eval.evaluate_events`. Prints a table per setting, the wrong and
missed events, and the figures as one JSON object on the last line.

    .venv/bin/python benchmarks/challenges.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

from kiosk.analysis.challenges import ActionDetector, detect_events
from kiosk.analysis.face import FaceTracker
from kiosk.camera import open_source
from kiosk.lab import synthetic as S
from kiosk.lab.events_eval import evaluate_events, format_summary, row_key

ROOT = Path(__file__).resolve().parent.parent


def track(path: Path) -> list:
    with open_source(str(path), paced=False) as source, FaceTracker() as tracker:
        return [tracker.observe(frame) for frame in source]


def detector_cost_us(observations, repeats: int = 3) -> float:
    """Median microseconds per observation for the whole ActionDetector."""
    costs = []
    for _ in range(repeats):
        detector = ActionDetector()
        start = time.perf_counter()
        for obs in observations:
            detector.update(obs)
        costs.append((time.perf_counter() - start) / len(observations) * 1e6)
    return sorted(costs)[len(costs) // 2]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--quiet", action="store_true", help="no per-row listing")
    args = parser.parse_args(argv)
    manifest = args.data / "manifest.csv"
    if not manifest.is_file():
        print(f"no manifest at {manifest}", file=sys.stderr)
        return 2
    with manifest.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    videos = [r for r in rows if r["media"] == "video"]
    tracked = {}
    start = time.perf_counter()
    for r in videos:
        tracked[r["path"]] = track(args.data / r["path"])
    print(f"tracked {len(videos)} videos, {sum(map(len, tracked.values()))} frames in "
          f"{time.perf_counter() - start:.0f} s")

    figures = {}
    for baseline in ("clip", "start"):
        for step, label in ((1, "native"), (2, "half_rate")):
            name = f"{baseline}_{label}"
            detections = {row_key(r): detect_events(tracked[r["path"]][::step],
                                                    baseline=baseline) for r in videos}
            result = evaluate_events(rows, detections)
            print(f"\n== baseline={baseline}, {label} frame rate ==")
            print(format_summary(result["per_action"]))
            print("spurious on bona fide clips without such labels:",
                  {k: v["events"] for k, v in result["spurious"].items()})
            if not args.quiet and name == "clip_native":
                for report in result["rows"]:
                    if report["missed"] or report["wrong"]:
                        print(" ", report["row"])
                        for m in report["missed"]:
                            print(f"     missed {m.action} {m.start:.1f}-{m.end:.1f}")
                        for w in report["wrong"]:
                            print(f"     wrong  {w.action} {w.start:.2f}-{w.end:.2f} "
                                  f"({w.confidence:.2f})")
            figures[name] = {
                "per_action": {a: {k: (round(v, 3) if isinstance(v, float) else v)
                                   for k, v in c.items()}
                               for a, c in result["per_action"].items()},
                "spurious": {k: v["events"] for k, v in result["spurious"].items()},
            }

    real = tracked["tranvanluyt2203_face_anti_spoofing/videos/real.mp4"]
    synthetic = S.stream(60.0, 30, S.blink(5.0), S.turn(10.0, 30.0), S.smile(20.0), noise=1.0)
    figures["detector_us_per_frame_real"] = round(detector_cost_us(real), 1)
    figures["detector_us_per_frame_synthetic"] = round(detector_cost_us(synthetic), 1)
    print(f"\ndetectors: {figures['detector_us_per_frame_real']} us/frame on real.mp4, "
          f"{figures['detector_us_per_frame_synthetic']} us/frame synthetic")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
