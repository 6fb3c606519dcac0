#!/usr/bin/env python
"""Figures of the light challenge (issue 16): the null, the developer videos, simulations.

Usage::

    .venv/bin/python scripts/light_figures.py null [--trials 2000]
    .venv/bin/python scripts/light_figures.py developer [--draws 10] [--data ../shared/data]
    .venv/bin/python scripts/light_figures.py simulated [--seconds 5.5] [--width 320]
        [--params '{"auto_exposure": true}'] [--attacks none,screen] [--glare 0.3]

- ``null``: the judge on synthetic recordings that do not answer (per-frame colour drifting
  as a random walk of 0.2-2 % a frame plus 0.1-1 % white noise, face and background
  independent: head motion, exposure drift, sensor noise), judged against drawn sequences
  at 15 and 30 fps, and against four-segment sequences: the share whose fit is significant
  (p <= judge.significance_level), the fit's quantiles, the share that answered.
- ``developer``: every video of the developer set (manifest.csv, media "video"), tracked
  once at its own frame rate, judged against ``--draws`` freshly drawn sequences at random
  offsets: the share that answered (target 0) and why the rest did not.
- ``simulated``: every bona fide video relit by ``kiosk.lab.simulate.light`` (a live face)
  and the three attacks (tint, screen, print) at 15 and 30 fps, then tracked and judged as
  the kiosk would: the share that answered per kind. Simulated figures only: never mixed
  with real ones. ``--glare SHARE`` paints, on every relit frame, a saturated white disc
  on the nose tip over about SHARE of the nose region (a lamp's glare on skin or on a
  print's gloss; on the print, at its one face).

Prints one line per item and a summary; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from kiosk.analysis.face import FaceTracker
from kiosk.analysis.light import LightAnalyzer, LightSequence, Segment, draw_sequence, judge
from kiosk.analysis.light.judge import significance_level
from kiosk.analysis.light.regions import NOSE, background_means, face_region_means
from kiosk.camera import open_source
from kiosk.model import Frame

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"


def null(args) -> dict:
    rng = np.random.default_rng(args.seed)
    draw = random.Random(args.seed)
    out = {}
    for fps, short in ((30.0, False), (15.0, False), (30.0, True), (15.0, True)):
        significant = answered = 0
        fits = []
        for _ in range(args.trials):
            seq = draw_sequence(draw)
            if short:
                segs = seq.segments[1:5]
                t0 = segs[0].start
                seq = LightSequence(tuple(Segment(s.start - t0, s.end - t0, s.rgb)
                                          for s in segs))
            n = int((seq.duration + 2.0) * fps)
            t = np.arange(n) / fps
            walk, white = rng.uniform(0.002, 0.02), rng.uniform(0.001, 0.01)
            common = np.cumsum(rng.normal(0, walk, n))[:, None, None]
            face = 0.2 * np.exp(np.cumsum(rng.normal(0, walk, (n, 1, 3)), axis=0) + common
                                + rng.normal(0, white, (n, 5, 3)))
            bg = 0.3 * np.exp(np.cumsum(rng.normal(0, walk / 2, (n, 2, 3)), axis=0)
                              + rng.normal(0, white / 3, (n, 2, 3)))
            r = judge(t, face, bg, np.zeros((n, 5)), seq.shifted(0.5))
            fits.append(r.fit)
            significant += r.details.get("p_value", 1.0) <= significance_level(seq)
            answered += r.responded
        q = np.quantile(fits, [0.5, 0.99, 0.999])
        key = f"{fps:g}fps_{'4seg' if short else 'drawn'}"
        out[key] = {"trials": args.trials, "significant": significant, "answered": answered,
                    "fit_p50": round(q[0], 3), "fit_p99": round(q[1], 3),
                    "fit_p999": round(q[2], 3), "fit_max": round(max(fits), 3)}
        print(f"null {key}: {args.trials} trials, significant {significant}, answered "
              f"{answered}; fit median {q[0]:.2f}, 99% {q[1]:.2f}, 99.9% {q[2]:.2f}, max "
              f"{max(fits):.2f}", flush=True)
    return out


def _videos(data: Path) -> list[dict]:
    with (data / "manifest.csv").open(newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if r["media"] == "video"]


def _measure(path: Path):
    t, face, bg, clip, lower = [], [], [], [], []
    with open_source(str(path), paced=False) as src, FaceTracker() as tracker:
        for frame in src:
            obs = tracker.observe(frame)
            if obs.face is None:
                continue
            m, _, c, md = face_region_means(frame.image, obs.face.landmarks)
            b, _ = background_means(frame.image, obs.face.landmarks)
            t.append(frame.t)
            face.append(m)
            bg.append(b)
            clip.append(c)
            lower.append(md)
    return (np.array(t), np.array(face), np.array(bg), np.array(clip),
            np.array(lower).reshape(-1, 5, 3))


def developer(args) -> dict:
    rows = _videos(args.data)
    total = Counter()
    per = {}
    for row in rows:
        t, face, bg, clip, lower = _measure(args.data / row["path"])
        draw = random.Random(f"{args.seed}:{row['path']}")
        reasons = Counter()
        answered = 0
        for _ in range(args.draws):
            seq = draw_sequence(draw)
            if t.size < 8:
                reasons["no face"] += 1
                continue
            span = max(float(t[-1] - t[0]) - seq.duration - 0.5, 0.0)
            r = judge(t, face, bg, clip, seq.shifted(float(t[0]) + draw.uniform(0, span)),
                      face_lower=lower)
            answered += r.responded
            reasons[",".join(r.reasons) or f"not judged: {r.why}"] += 1
        name = f"{row['path'].split('/')[-1]} ({row['subject']}, {row['label']})"
        per[name] = {"answered": answered, "draws": args.draws, "reasons": dict(reasons)}
        total["answered"] += answered
        total["draws"] += args.draws
        total["judged"] += sum(v for k, v in reasons.items() if not k.startswith("not"))
        print(f"{name}: answered {answered}/{args.draws}; {dict(reasons)}", flush=True)
    print(f"developer videos: {len(rows)}, draws {total['draws']}, judged {total['judged']}, "
          f"answered {total['answered']}")
    return {"videos": len(rows), **total, "per_video": per}


def _clip(path: Path, fps: float, seconds: float, width: int):
    images = []
    with open_source(str(path), paced=False) as src:
        step = max(1, round(src.fps / fps))
        rate = src.fps / step
        for frame in src:
            if frame.seq % step:
                continue
            img = frame.image
            h = round(img.shape[0] * width / img.shape[1])
            images.append(cv2.resize(img, (width, h), interpolation=cv2.INTER_AREA))
            if len(images) >= seconds * rate:
                break
    with FaceTracker() as tracker:
        faces = [tracker.observe(Frame(im, i, i / rate, i / rate)).face
                 for i, im in enumerate(images)]
    return images, faces, rate


def _judge_clip(frames, fps, seq):
    analyzer = LightAnalyzer(seq)
    with FaceTracker() as tracker:
        for i, im in enumerate(frames):
            frame = Frame(im, i, i / fps, i / fps)
            analyzer.update(frame, tracker.observe(frame))
    return analyzer.verdict()


def _glare(image: np.ndarray, landmarks: np.ndarray, share: float) -> np.ndarray:
    """A copy of a frame with a saturated highlight on the nose.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8, BGR
        Not modified.
    landmarks : ndarray (N, 2) or (N, 3)
        The face's mesh points in the image's pixel coordinates.
    share : float
        The highlight's area over that of the nose region's convex hull.

    Returns
    -------
    ndarray (H, W, 3) uint8
        The frame with a white (255) disc centred on the nose tip (landmark 4).
    """
    nose = landmarks[list(NOSE), :2].astype(np.float32)
    area = cv2.contourArea(cv2.convexHull(nose))
    radius = max(1, round(float(np.sqrt(share * area / np.pi))))
    tip = landmarks[4, :2]
    out = image.copy()
    cv2.circle(out, (round(float(tip[0])), round(float(tip[1]))), radius, (255, 255, 255), -1)
    return out


def _light_alone(confidence: float) -> float:
    """Liveness of a session whose only evidence is a light answer of this confidence, from
    the shipped fusion's weights (the minimum-evidence rule left out: a real session always
    has the passive cues' confidences too)."""
    from kiosk.analysis.fusion import Fusion, life_evidence

    fusion = Fusion.load()
    cue = fusion.cues["light"]
    logit = fusion.bias - fusion.life_weights()["light"] * life_evidence(0.0, confidence,
                                                                        cue.life_below)
    return 100.0 / (1.0 + np.exp(logit))


def simulated(args) -> dict:
    from kiosk.lab.simulate.light import LightSimulator
    from kiosk.lab.simulate.light_params import ATTACKS, LightSimParams

    rows = [r for r in _videos(args.data) if r["label"] == "bona_fide"]
    params = LightSimParams(**json.loads(args.params))
    attacks = args.attacks.split(",") if args.attacks else list(ATTACKS)
    tally: dict = {}
    for row in rows:
        for fps in (15.0, 30.0):
            images, faces, rate = _clip(args.data / row["path"], fps, args.seconds, args.width)
            tracked = [i for i, f in enumerate(faces) if f is not None]
            if rate < 12 or not tracked:
                print(f"{row['path']}: skipped ({rate:.1f} fps, {len(tracked)} faces)")
                break
            draw = random.Random(f"{args.seed}:{row['path']}:{fps}")
            seq = draw_sequence(draw).shifted(0.8)
            other = draw_sequence(draw).shifted(0.8)
            ref = faces[tracked[0]].landmarks
            for attack in attacks:
                sim = LightSimulator(seq, params, attack, rate, images[0].shape[:2],
                                     np.random.default_rng(args.seed), ref)
                out = []
                for i, im in enumerate(images):
                    if attack == "print":
                        im, face = images[tracked[0]], faces[tracked[0]]
                    else:
                        face = faces[i]
                    lit = sim.render(im, None if face is None else face.landmarks, i)
                    if args.glare and face is not None:
                        lit = _glare(lit, face.landmarks, args.glare)
                    out.append(lit)
                r = _judge_clip(out, rate, seq)
                key = f"{attack}@{fps:g}"
                entry = tally.setdefault(key, {"clips": 0, "answered": 0, "judged": 0,
                                               "reasons": Counter()})
                entry["clips"] += 1
                entry["answered"] += r.responded
                entry["judged"] += r.judged
                entry["reasons"][",".join(r.reasons) or ("answered" if r.responded else
                                                         f"not judged: {r.why}")] += 1
                line = (f"{row['path'].split('/')[-1]} {key}: answered {r.responded} "
                        f"{list(r.reasons)} fit {r.fit:.2f} ratio {r.ratio} relief "
                        f"{r.unevenness} delay {r.delay_ms} confidence {r.confidence:.2f}")
                if r.responded:
                    entry.setdefault("answer_confidences", []).append(round(r.confidence, 2))
                if attack == "none":
                    again = _judge_clip(out, rate, other)
                    o = tally.setdefault(f"none_other_sequence@{fps:g}",
                                         {"clips": 0, "answered": 0, "judged": 0,
                                          "reasons": Counter()})
                    o["clips"] += 1
                    o["answered"] += again.responded
                    o["judged"] += again.judged
                    o["reasons"][",".join(again.reasons) or (
                        "answered" if again.responded else f"not judged: {again.why}")] += 1
                    line += f"; against another sequence: answered {again.responded}"
                print(line, flush=True)
    for key, v in tally.items():
        v["reasons"] = dict(v["reasons"])
        print(f"simulated {key}: {v['answered']}/{v['clips']} answered ({v['judged']} judged)"
              f" {v['reasons']}")
        if v.get("answer_confidences"):
            # What an answer alone is worth in the shipped fusion: the liveness of a session
            # whose only evidence is this answer (its confidence), from the no-evidence score.
            c = sorted(v["answer_confidences"])
            alone = [_light_alone(x) for x in (c[0], c[len(c) // 2])]
            print(f"  answers' confidence min {c[0]:.2f} median {c[len(c) // 2]:.2f}; the "
                  f"liveness an answer alone gives: {alone[0]:.1f} at the least, "
                  f"{alone[1]:.1f} at the median")
    print(f"parameters: {params.describe()}; glare on the nose {args.glare:g}")
    return {"parameters": params.describe(), "glare": args.glare, **tally}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("null", "developer", "simulated"))
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--draws", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=5.5)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--params", default="{}",
                        help="simulated: LightSimParams fields as JSON, e.g. "
                             "'{\"auto_exposure\": true}'")
    parser.add_argument("--attacks", help="simulated: comma-separated (default: all)")
    parser.add_argument("--glare", type=float, default=0.0,
                        help="simulated: a saturated disc on the nose tip over about this "
                             "share of the nose region, every frame (default 0: none)")
    args = parser.parse_args(argv)
    if args.what != "null" and not (args.data / "manifest.csv").is_file():
        print(f"no developer data set at {args.data}", file=sys.stderr)
        return 2
    result = {"null": null, "developer": developer, "simulated": simulated}[args.what](args)
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
