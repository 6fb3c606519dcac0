"""Local matcher on pairs.csv: similarities per photo variant, rates, calibration, and cost.

Usage: python benchmarks/match.py [PAIRS.csv] [--repeat N]

Every pair is measured as the kiosk measures it (:func:`kiosk.lab.pairs.evaluate_pairs`): the
reference photo at full size, cropped tight and scaled to a 120x150 card, and a recording's k
best frames (MediaPipe-tracked, as in a session) combined by the mean of their descriptors.
Printed: each pair's similarity per variant, TAR/FAR around the threshold, the calibration
report (the refit threshold distance, its leave-one-subject-out spread, the margins), the
effect of combining k frames instead of one, and the cost of one kiosk comparison on one core
(one frame and k frames against an ID photo). The last line is one JSON object.
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
from kiosk.analysis.quality import BEST_FRAMES
from kiosk.cloud.images import load_photo
from kiosk.cloud.local import LocalMatcher
from kiosk.cloud.protocol import LiveFrame
from kiosk.lab.pair_media import PairMedia, is_photo
from kiosk.lab.pairs import evaluate_pairs, read_pairs, segment_frames
from kiosk.model import Frame

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
DEFAULT = DATA / "pairs.csv"
THRESHOLDS = (80.0, 90.0, 93.0, 95.0, 97.0, 98.0, 99.0)


def sweep(distances: list[dict], matcher: LocalMatcher) -> list[dict[str, float]]:
    """TAR and FAR over every compared pair of every variant, at several thresholds."""
    same = [d["distance"] for d in distances if d["same"]]
    diff = [d["distance"] for d in distances if not d["same"]]
    rows = []
    for threshold in THRESHOLDS:
        limit = matcher.scale.distance_at(threshold)
        rows.append({"threshold": threshold,
                     "tar": round(sum(d <= limit for d in same) / len(same), 4),
                     "far": round(sum(d <= limit for d in diff) / len(diff), 4)})
    return rows


def one_frame_versus_k(matcher: LocalMatcher, pairs_csv: Path) -> list[dict]:
    """Pairs whose live side is a recording: the distance to its best frame alone and to the
    mean of its k best frames (gate off, so every pair has both)."""
    ungated = LocalMatcher(matcher.threshold, detector=matcher.detector, gate=None)
    media = PairMedia(pairs_csv.parent, ungated, matcher.detector, BEST_FRAMES)
    rows = []
    for row in read_pairs(pairs_csv):
        if row["same"] == "?" or is_photo(row["b"]):
            continue
        frames_a = segment_frames(row.get("notes", ""), "a", row["a"])
        frames_b = segment_frames(row.get("notes", ""), "b", row["b"])
        ref, lives = media.embeddings(row["a"], frames_a, row["b"], frames_b)
        one = float(np.linalg.norm(lives[0].vector - ref.vector))
        mean = float(np.linalg.norm(np.mean([e.vector for e in lives], axis=0) - ref.vector))
        rows.append({"pair": f"{Path(row['a']).name} / {Path(row['b']).name}",
                     "same": row["same"], "k": len(lives), "one": one, "mean": mean})
    return rows


def cost(matcher: LocalMatcher, repeat: int) -> dict[str, float]:
    """One kiosk comparison on one core, as the earlier version of this script measured it:
    obama2.jpg scaled to fit 640x480 with MediaPipe's box against obama.jpg as the ID photo,
    with that one frame and with k frames (k copies: each costs one descriptor)."""
    live = load_photo(DATA / "ageitgey_face_recognition/examples/obama2.jpg")
    reference = load_photo(DATA / "ageitgey_face_recognition/examples/obama.jpg")
    scale = min(640 / live.shape[1], 480 / live.shape[0])
    live = cv2.resize(live, (round(live.shape[1] * scale), round(live.shape[0] * scale)))
    with FaceTracker() as tracker:
        box = tracker.observe(Frame(image=live, seq=0, t=0.0, media_t=0.0)).face.box
    one = [LiveFrame(live, box)]
    timings: dict[str, list[float]] = {"one_frame_ms": [], "k_frames_ms": []}
    for _ in range(repeat):
        for key, frames in (("one_frame_ms", one), ("k_frames_ms", one * BEST_FRAMES)):
            t0 = time.perf_counter()
            matcher.compare_frames(frames, reference)
            timings[key].append((time.perf_counter() - t0) * 1000)
    return {key: round(statistics.median(values), 1) for key, values in timings.items()} | {
        "k": BEST_FRAMES, "frame": f"{live.shape[1]}x{live.shape[0]}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=5, help="timed comparisons (median)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    matcher = LocalMatcher()
    load_s = time.perf_counter() - t0
    report = evaluate_pairs(args.pairs, matcher)
    print(f"{'same':>4} {'full':>6} {'tight':>6} {'card':>6}  compared  pair")
    for entry in report["per_pair"]:
        if entry.get("skipped"):
            continue
        cells = [entry.get("similarity")] + [entry.get("variants", {}).get(v)
                                             for v in ("tight", "card")]
        text = " ".join("     -" if c is None else f"{c:6.1f}" for c in cells)
        segment = f" [{entry['frames_b']}]" if entry["frames_b"] else ""
        gate = "" if entry.get("compared", True) else " " + ",".join(
            r for r in entry.get("reasons", []) if r != "MATCH_OFFLINE")
        print(f"{entry['same']:>4} {text}  {str(entry.get('compared')):>8}  "
              f"{Path(entry['a']).name} / {Path(entry['b']).name}{segment}{gate}")
    print()
    for name, block in report["variants"].items():
        print(f"{name:>5}: TAR {block['tar']:.3f} ({block['same']} same), FAR "
              f"{block['far']:.3f} ({block['different']} different), not compared "
              f"{block['not_compared']}, no face {block['failures']}; on compared pairs TAR "
              f"{block['tar_compared']:.3f} FAR {block['far_compared']:.3f}")
    rates = sweep(report["distances"], matcher)
    print("\nall compared pairs of every variant:")
    for r in rates:
        print(f"  threshold {r['threshold']:5.1f}: TAR {r['tar']:.3f}  FAR {r['far']:.3f}")
    cal = report["calibration"]
    loso = cal["leave_one_subject_out"]
    print(f"\ncalibration: threshold distance {cal['threshold_distance']:.4f}; refit at FAR "
          f"{cal['target_far']:g}: {cal['fitted_distance']:.4f} (leave one subject out "
          f"{loso['min']:.3f}-{loso['max']:.3f}, median {loso['median']:.3f}, "
          f"{loso['subjects']} subjects); normal models at the threshold: FAR "
          f"{cal['model_far']:.4f}, FRR {cal['model_frr']:.4f}")
    print(f"closest different pair {cal['closest_different']:.4f} (margin "
          f"{cal['margin_different']:+.4f}, similarity "
          f"{matcher.scale.similarity(cal['closest_different']):.1f}); farthest same pair "
          f"{cal['farthest_same']:.4f} (margin {cal['margin_same']:+.4f}, similarity "
          f"{matcher.scale.similarity(cal['farthest_same']):.1f}); no false accept among "
          f"{cal['independent_different']} independent different pairs bounds FAR below "
          f"{cal['far_bound_95']:.3f} (95%)")
    effect = one_frame_versus_k(matcher, args.pairs)
    print("\ndistance with the best frame alone -> the mean of the k best (live side a "
          "recording):")
    for row in effect:
        print(f"  {row['same']:>2} k={row['k']} {row['one']:.3f} -> {row['mean']:.3f} "
              f"({row['mean'] - row['one']:+.3f})  {row['pair']}")
    for label, kind in (("1", "same"), ("0", "different")):
        changes = [r["mean"] - r["one"] for r in effect if r["same"] == label]
        if changes:
            print(f"  {kind}: median change {statistics.median(changes):+.3f} over "
                  f"{len(changes)} pairs")
    timing = cost(matcher, args.repeat)
    print(f"\ncost on one core: model load {load_s:.2f} s; one comparison ({timing['frame']} "
          f"frame with its tracked box against an ID photo) {timing['one_frame_ms']} ms with "
          f"one frame, {timing['k_frames_ms']} ms with k={timing['k']} frames (medians of "
          f"{args.repeat})")
    figures = {
        "variants": {name: {k: block[k] for k in ("tar", "far", "tar_compared", "far_compared",
                                                  "not_compared", "failures")}
                     for name, block in report["variants"].items()},
        "at_95": next(r for r in rates if r["threshold"] == 95.0),
        "calibration": {k: v for k, v in cal.items() if k != "leave_one_subject_out"}
        | {"loso_min": loso["min"], "loso_max": loso["max"]},
        "k_effect": {kind: round(statistics.median(
            [r["mean"] - r["one"] for r in effect if r["same"] == label]), 4)
            for label, kind in (("1", "same"), ("0", "different"))},
        "model_load_s": round(load_s, 2), **timing,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
