"""Local matcher on pairs.csv: similarities, rates around the threshold, and its cost.

Usage: python benchmarks/match.py [PAIRS.csv]

Each file's face is described twice: from dlib's HOG detection (what ``kiosk match`` and
``kiosk evaluate --pairs`` do) and from the MediaPipe tracker's landmark box (what the kiosk
passes with its best frame). Both sets of pair similarities are printed, with TAR/FAR at several
thresholds, then the per-step cost on one core. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from kiosk.analysis.face import FaceTracker
from kiosk.cloud.images import encode_jpeg
from kiosk.cloud.local import LocalMatcher
from kiosk.cloud.media import load_face_image
from kiosk.lab.pairs import read_pairs, segment_frames
from kiosk.model import Frame

DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "pairs.csv"
THRESHOLDS = (80.0, 90.0, 93.0, 95.0, 97.0, 98.0, 99.0)


def tracker_box(image: np.ndarray) -> tuple[float, float, float, float] | None:
    """MediaPipe's landmark box of the main face (a fresh tracker: the images are unrelated)."""
    with FaceTracker() as tracker:
        obs = tracker.observe(Frame(image=image, seq=0, t=0.0, media_t=0.0))
    return None if obs.face is None else obs.face.box


def rates(pairs: list[tuple[str, float | None]], threshold: float) -> dict[str, float]:
    same = [s for label, s in pairs if label == "1"]
    diff = [s for label, s in pairs if label == "0"]
    tar = sum(1 for s in same if s is not None and s >= threshold) / len(same)
    far = sum(1 for s in diff if s is not None and s >= threshold) / len(diff)
    return {"threshold": threshold, "tar": round(tar, 4), "far": round(far, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="?", type=Path, default=DEFAULT)
    args = parser.parse_args()
    matcher = LocalMatcher()
    rows = read_pairs(args.pairs)
    images: dict[tuple[str, object], np.ndarray] = {}
    embeds: dict[str, dict] = {"hog": {}, "tracker": {}}
    detect_ms: list[float] = []
    describe_ms: list[float] = []
    for row in rows:
        for side in ("a", "b"):
            key = (row[side], segment_frames(row.get("notes", ""), side, row[side]))
            if key in images:
                continue
            image = load_face_image(args.pairs.parent / key[0], matcher.detector, key[1])
            images[key] = image
            t0 = time.perf_counter()
            boxes = matcher.detect(image)
            t1 = time.perf_counter()
            embeds["hog"][key] = matcher.embed(image, boxes[0]) if boxes else None
            detect_ms.append((t1 - t0) * 1000)
            box = tracker_box(image)
            t2 = time.perf_counter()
            embeds["tracker"][key] = None if box is None else matcher.embed(image, box)
            describe_ms.append((time.perf_counter() - t2) * 1000)
    # embed() with a HOG box re-applies the landmark-box conversion; use detection directly.
    embeds["hog"] = {k: matcher.embed(img) for k, img in images.items()}

    report: dict[str, object] = {}
    print(f"{'same':>4}  {'hog d':>6} {'sim':>6}  {'mp d':>6} {'sim':>6}  pair")
    for path in ("hog", "tracker"):
        report[path] = {"pairs": []}
    for row in rows:
        keys = [(row[s], segment_frames(row.get("notes", ""), s, row[s])) for s in ("a", "b")]
        cells = []
        for path in ("hog", "tracker"):
            a, b = (embeds[path][k] for k in keys)
            if a is None or b is None:
                cells.append((None, None))
                report[path]["pairs"].append((row["same"], None))
                continue
            d = float(np.linalg.norm(a.vector - b.vector))
            s = matcher.scale.similarity(d)
            cells.append((d, s))
            report[path]["pairs"].append((row["same"], s))
        text = "  ".join("  -     -   " if d is None else f"{d:6.3f} {s:6.1f}" for d, s in cells)
        print(f"{row['same']:>4}  {text}  {Path(row['a']).name} / {Path(row['b']).name}"
              + (f" [{keys[1][1][0]}-{keys[1][1][1]}]" if keys[1][1] else ""))
    summary: dict[str, object] = {}
    for path in ("hog", "tracker"):
        pairs = report[path]["pairs"]
        sweep = [rates(pairs, t) for t in THRESHOLDS]
        same = [s for label, s in pairs if label == "1" and s is not None]
        diff = [s for label, s in pairs if label == "0" and s is not None]
        unsure = [s for label, s in pairs if label == "?" and s is not None]
        summary[path] = {"sweep": sweep, "same_min": round(min(same), 2),
                         "different_max": round(max(diff), 2),
                         "unsure": [round(s, 1) for s in unsure],
                         "missing": sum(1 for _, s in pairs if s is None)}
        print(f"\n{path}: same min {min(same):.2f}, different max {max(diff):.2f}, unsure "
              f"{[round(s, 1) for s in unsure]}")
        for r in sweep:
            print(f"  threshold {r['threshold']:5.1f}: TAR {r['tar']:.3f}  FAR {r['far']:.3f}")

    # Cost of the kiosk path: a 640x480 best frame with its tracked box against an ID photo.
    live = next(img for (p, _), img in images.items() if p.endswith("obama2.jpg"))
    reference = next(img for (p, _), img in images.items() if p.endswith("obama.jpg"))
    scale = min(640 / live.shape[1], 480 / live.shape[0])
    live = cv2.resize(live, (round(live.shape[1] * scale), round(live.shape[0] * scale)))
    box = tracker_box(live)
    compare_ms, jpeg_ms = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        matcher.compare(live, reference, live_box=box)
        compare_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        encode_jpeg(live)
        jpeg_ms.append((time.perf_counter() - t0) * 1000)
    figures = {
        "images": len(images),
        "hog_detect_ms_median": round(statistics.median(detect_ms), 1),
        "descriptor_ms_median": round(statistics.median(describe_ms), 1),
        "compare_640x480_with_box_ms_median": round(statistics.median(compare_ms), 1),
        "jpeg_640x480_ms_median": round(statistics.median(jpeg_ms), 1),
        **{f"{path}_{k}": v for path, vals in summary.items() for k, v in vals.items()
           if k != "sweep"},
        **{f"{path}_at_95": next(r for r in vals["sweep"] if r["threshold"] == 95.0)
           for path, vals in summary.items()},
    }
    print(f"\ncost: HOG detection {figures['hog_detect_ms_median']} ms, descriptor "
          f"{figures['descriptor_ms_median']} ms, compare (640x480 + box vs ID photo) "
          f"{figures['compare_640x480_with_box_ms_median']} ms, JPEG "
          f"{figures['jpeg_640x480_ms_median']} ms (medians)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
