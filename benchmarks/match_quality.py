"""Where the quality gate's limits come from: how degrading a face moves pair distances.

Usage: python benchmarks/match_quality.py [PAIRS.csv]

For every pair of ``pairs.csv`` whose reference is a photo, the reference is degraded on
purpose (downscaled until its eyes are 12-32 px apart, blurred by 1-6% of the eye distance,
darkened to 20-60% of its light) and the change of the pair's descriptor distance is printed,
median over same-person and over different-person pairs, with the gate's own measure at each
step. The pose curve comes from video frames of three people against their own selfies,
binned by MediaPipe's yaw, with dlib's ``turn`` (nose offset in eye distances) beside it.
The gate (:mod:`kiosk.cloud.face_quality`) stops where the same-person rise reaches 0.03, a
quarter of the margin between the median same-person distance and the threshold distance.
The gate itself is off here, so every degraded pair is measured.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import cv2
import numpy as np

from kiosk.analysis.face import FaceTracker
from kiosk.camera import open_source
from kiosk.cloud.images import load_photo
from kiosk.cloud.local import LocalMatcher
from kiosk.lab.pair_media import PairMedia, is_photo
from kiosk.lab.pairs import read_pairs, segment_frames

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
REAL = "Trainingdata-datamarket_Anti-Spoofing-Real-Dataset/samples/"
JM = ("jomariya23156_face-recognition-with-liveness-web-login/face_recognition_and_liveness/"
      "face_liveness_detection/")
POSE_PAIRS = [
    (REAL + "0001e96803--621ea6f51185323cad2533b8/live_selfie.jpg",
     REAL + "0001e96803--621ea6f51185323cad2533b8/live_video.mp4"),
    (REAL + "0001e96803--621f74a85af9d379642ce38f/live_selfie.jpg",
     REAL + "0001e96803--621f74a85af9d379642ce38f/live_video.MOV"),
    (JM + "images/reals/3.jpg", JM + "videos/real_1.mp4"),
]
LEVELS = {"eyes_px": (12, 16, 20, 24, 32), "blur": (0.01, 0.02, 0.03, 0.04, 0.06),
          "light": (0.6, 0.5, 0.4, 0.3, 0.2)}
YAW_BINS = ((0, 5), (5, 10), (10, 15), (15, 20), (20, 25), (25, 30), (30, 40), (40, 90))


def degrade(image: np.ndarray, kind: str, level: float, eyes: float,
            rng: np.random.Generator) -> np.ndarray:
    if kind == "eyes_px":
        factor = min(1.0, level / eyes)
        return cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    if kind == "blur":
        return cv2.GaussianBlur(image, (0, 0), level * eyes)
    noisy = image.astype(np.float32) * level + rng.normal(0.0, 1.5, image.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def degradations(matcher: LocalMatcher, pairs_csv: Path) -> dict:
    media = PairMedia(pairs_csv.parent, matcher, matcher.detector)
    rng = np.random.default_rng(0)
    rises: dict = {kind: {"1": [], "0": []} for kind in LEVELS}
    measures: dict = {kind: [] for kind in LEVELS}
    for row in read_pairs(pairs_csv):
        if row["same"] == "?" or not is_photo(row["a"]):
            continue
        ref, lives = media.embeddings(row["a"], None, row["b"],
                                      segment_frames(row.get("notes", ""), "b", row["b"]))
        live = np.mean([e.vector for e in lives], axis=0)
        base = float(np.linalg.norm(live - ref.vector))
        photo = load_photo(pairs_csv.parent / row["a"])
        eyes = ref.quality.interocular
        for kind, levels in LEVELS.items():
            rise, measure = [], []
            for level in levels:
                try:
                    worse = matcher.embed(degrade(photo, kind, level, eyes, rng))
                except Exception:  # the face is lost: no distance at this level
                    rise.append(np.nan)
                    measure.append(np.nan)
                    continue
                rise.append(float(np.linalg.norm(live - worse.vector)) - base)
                measure.append({"eyes_px": worse.quality.interocular,
                                "blur": worse.quality.sharpness,
                                "light": worse.quality.brightness}[kind])
            rises[kind][row["same"]].append(rise)
            measures[kind].append(measure)
    return {kind: {"levels": LEVELS[kind],
                   "same_rise": np.nanmedian(rises[kind]["1"], axis=0).round(3).tolist(),
                   "different_rise": np.nanmedian(rises[kind]["0"], axis=0).round(3).tolist(),
                   "gate_measure": np.nanmedian(measures[kind], axis=0).round(3).tolist()}
            for kind in LEVELS}


def pose(matcher: LocalMatcher) -> tuple[list[dict], float]:
    rows = []
    for selfie, video in POSE_PAIRS:
        ref = matcher.embed(load_photo(DATA / selfie))
        with open_source(str(DATA / video), paced=False) as source, FaceTracker() as tracker:
            for index, frame in enumerate(source):
                obs = tracker.observe(frame)
                if index % 2 or obs.face is None or abs(obs.face.pitch) >= 15:
                    continue
                live = matcher.embed(frame.image, obs.face.box)
                rows.append((abs(obs.face.yaw), abs(live.quality.turn),
                             float(np.linalg.norm(live.vector - ref.vector))))
    frontal = statistics.median(d for yaw, _, d in rows if yaw < 5)
    tangents = np.tan(np.radians([yaw for yaw, _, _ in rows]))
    turns = np.array([t for _, t, _ in rows])
    k = float(np.sum(tangents * turns) / np.sum(tangents * tangents))
    table = []
    for low, high in YAW_BINS:
        inside = [(t, d) for yaw, t, d in rows if low <= yaw < high]
        if inside:
            table.append({"yaw": f"{low}-{high}", "frames": len(inside),
                          "rise": round(statistics.median(d for _, d in inside) - frontal, 3),
                          "turn": round(statistics.median(t for t, _ in inside), 3)})
    return table, k


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="?", type=Path, default=DATA / "pairs.csv")
    args = parser.parse_args()
    matcher = LocalMatcher(gate=None)
    curves = degradations(matcher, args.pairs)
    names = {"eyes_px": "eyes apart (px)", "blur": "blur (sigma / eye distance)",
             "light": "light kept"}
    measure = {"eyes_px": "eye distance", "blur": "sharpness", "light": "brightness"}
    for kind, curve in curves.items():
        print(f"{names[kind]:>28}: " + "  ".join(f"{v:>6}" for v in curve["levels"]))
        print(f"{'same-person rise':>28}: " + "  ".join(f"{v:+6.3f}"
                                                          for v in curve["same_rise"]))
        print(f"{'different-person rise':>28}: " + "  ".join(
            f"{v:+6.3f}" for v in curve["different_rise"]))
        print(f"{measure[kind]:>28}: " + "  ".join(f"{v:6.3f}" for v in curve["gate_measure"]))
        print()
    table, k = pose(matcher)
    print("yaw (deg)  frames  distance rise  dlib turn")
    for row in table:
        print(f"{row['yaw']:>9}  {row['frames']:>6}  {row['rise']:+13.3f}  {row['turn']:9.3f}")
    print(f"dlib turn ~ {k:.2f} tan(yaw) (least squares over "
          f"{sum(r['frames'] for r in table)} frames)")
    print(json.dumps({"degradations": curves, "pose": table, "turn_per_tan_yaw": round(k, 3)}))


if __name__ == "__main__":
    main()
