#!/usr/bin/env python
"""Build the texture cue's live-skin reference from the developer stills, and evaluate it.

Usage::

    .venv/bin/python scripts/train_texture.py [--manifest ../shared/data/manifest.csv]
        [--out resources/models/texture_reference.json] [--video-step 10] [--no-write]

What it does, and why this way:

* Like with like. The labelled media are confounded by capture (most bona fide clips are
  videos, most print attacks stills). The reference is built from STILL images only: every
  bona fide still of the manifest (rows whose notes start with ``overlay:`` are left out).
* One-class. A handful of stills cannot support a trained two-class model honestly. The
  reference is the mean colour-LBP histogram vector (kiosk.analysis.texture.lbp_features) of
  the bona fide stills; a face is scored by its chi-square distance to it.
* Held-out numbers. Each still is scored by a reference built WITHOUT its subject (leave one
  subject out; a still without a subject id is its own group). ``scale`` is the median
  held-out distance of the bona fide stills; the score is logistic(distance / scale) with its
  midpoint at the 90th percentile of the bona fide held-out ratios and its width such that
  the median bona fide ratio scores 0.1. No attack file sets a constant.
* The script reports the held-out AUC on stills, the AUC of two alternatives tried (adding
  the GLCM statistics; a two-class nearest-centroid rule) so the choice can be checked, and
  how the still-trained reference does on video frames (every ``--video-step``-th frame
  with a face, median per clip): a different medium, reported separately.

The output JSON is small (the 180-number centroid and a few constants) and deterministic.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import date
from pathlib import Path

import cv2
import numpy as np

from kiosk.analysis.face import FaceTracker
from kiosk.analysis.texture import (
    CHANNELS,
    GLCM_DISTANCES,
    GLCM_PROPS,
    HUE_SHIFT,
    LBP_POINTS,
    LBP_RADII,
    PATCH,
    TEXTURE_REFERENCE,
    chi2_distance,
    face_patch,
    glcm_features,
    lbp_features,
)
from kiosk.lab.provenance import file_sha256, git_commit
from kiosk.model import Frame
from kiosk.resources import pin

REPO = Path(__file__).resolve().parent.parent
DEFAULT_MANIFEST = REPO.parent / "shared" / "data" / "manifest.csv"


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Probability that a random attack outscores a random bona fide (ties count half)."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))


def features(image: np.ndarray, box) -> tuple[np.ndarray, np.ndarray]:
    patch = face_patch(image, box)
    return lbp_features(patch), glcm_features(patch)


def still_rows(manifest: Path) -> list[dict[str, str]]:
    with manifest.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [r for r in rows if r["media"] == "image" and not r["notes"].startswith("overlay:")]


def track_still(path: Path):
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"cannot read {path}")
    with FaceTracker() as tracker:
        obs = tracker.observe(Frame(image, 0, 0.0, 0.0))
    return image, obs.face


def video_features(path: Path, step: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out = []
    with FaceTracker() as tracker:
        i = 0
        while True:
            ok, image = cap.read()
            if not ok:
                break
            face = tracker.observe(Frame(image, i, i / 30.0, i / 30.0)).face
            if i % step == 0 and face is not None and face.width >= 64 and abs(face.yaw) <= 25:
                out.append(lbp_features(face_patch(image, face.box)))
            i += 1
    cap.release()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    ap.add_argument("--out", type=Path, default=TEXTURE_REFERENCE)
    ap.add_argument("--video-step", type=int, default=10)
    ap.add_argument("--no-write", action="store_true", help="evaluate only")
    args = ap.parse_args(argv)
    root = args.manifest.parent

    names, labels, groups, lbps, glcms = [], [], [], [], []
    for row in still_rows(args.manifest):
        image, face = track_still(root / row["path"])
        if face is None:
            print(f"  no face: {row['path']} (left out)", file=sys.stderr)
            continue
        lbp, glcm = features(image, face.box)
        names.append(row["path"])
        labels.append(int(row["label"] == "attack"))
        groups.append(row["subject"] or row["path"])
        lbps.append(lbp)
        glcms.append(glcm)
    y, g = np.array(labels), np.array(groups)
    X, G = np.array(lbps), np.array(glcms)
    bona = y == 0

    # Leave one subject out: distance of each still to the centroid of the other bona fides.
    dist = np.zeros(len(y))
    dist_glcm = np.zeros(len(y))
    two_class = np.zeros(len(y))
    for grp in np.unique(g):
        test = g == grp
        train_b, train_a = bona & ~test, (~bona) & ~test
        centroid = X[train_b].mean(axis=0)
        dist[test] = chi2_distance(X[test], centroid)
        mu, sd = G[train_b].mean(axis=0), G[train_b].std(axis=0) + 1e-9
        train_scale = np.median(chi2_distance(X[train_b], centroid))
        dist_glcm[test] = dist[test] / train_scale + np.sqrt(
            (((G[test] - mu) / sd) ** 2).mean(axis=1))
        two_class[test] = dist[test] - chi2_distance(X[test], X[train_a].mean(axis=0))
    scale = float(np.median(dist[bona]))
    ratio = dist / scale
    p50, p90 = (float(np.percentile(ratio[bona], q)) for q in (50, 90))
    midpoint, width = p90, (p90 - p50) / float(np.log(9.0))

    def score(r):
        return 1.0 / (1.0 + np.exp(-(np.asarray(r) - midpoint) / width))

    evaluation = {
        "stills_held_out_auc": round(auc(ratio, y), 3),
        "alternatives_held_out_auc": {"lbp_plus_glcm": round(auc(dist_glcm, y), 3),
                                      "two_class_nearest_centroid": round(auc(two_class, y), 3)},
        "stills": [{"path": n, "label": "attack" if lab else "bona_fide",
                    "ratio": round(float(r), 3), "score": round(float(score(r)), 3)}
                   for n, lab, r in zip(names, y, ratio, strict=True)],
    }
    print(f"stills: {int(bona.sum())} bona fide, {int((~bona).sum())} attacks; "
          f"held-out AUC {evaluation['stills_held_out_auc']:.3f} "
          f"(lbp+glcm {evaluation['alternatives_held_out_auc']['lbp_plus_glcm']:.3f}, "
          f"two-class {evaluation['alternatives_held_out_auc']['two_class_nearest_centroid']:.3f})")
    for s in sorted(evaluation["stills"], key=lambda s: s["ratio"]):
        print(f"  {s['label']:9s} ratio {s['ratio']:6.2f} score {s['score']:.2f}  {s['path']}")
    print(f"scale {scale:.4f}, score midpoint ratio {midpoint:.3f}, width {width:.3f}")

    # The still-trained reference on video frames (another medium; reported, not fitted).
    centroid = X[bona].mean(axis=0)
    with args.manifest.open(newline="", encoding="utf-8") as fh:
        videos = [r for r in csv.DictReader(fh) if r["media"] == "video" and not r["frames"]
                  and not r["notes"].startswith("overlay:")]
    clips = []
    for row in videos:
        feats = video_features(root / row["path"], args.video_step)
        if not feats:
            continue
        r = float(np.median(chi2_distance(np.array(feats), centroid) / scale))
        clips.append({"path": row["path"], "label": row["label"], "frames": len(feats),
                      "ratio": round(r, 3), "score": round(float(score(r)), 3)})
    if clips:
        vy = np.array([c["label"] == "attack" for c in clips], int)
        evaluation["videos_auc"] = round(auc(np.array([c["ratio"] for c in clips]), vy), 3)
        evaluation["videos"] = clips
        print(f"videos (still-trained reference): AUC {evaluation['videos_auc']:.3f}")
        for c in sorted(clips, key=lambda c: c["ratio"]):
            print(f"  {c['label']:9s} ratio {c['ratio']:6.2f} score {c['score']:.2f}  "
                  f"({c['frames']} frames) {c['path']}")

    glcm_names = [f"{p}_d{d}" for p in GLCM_PROPS for d in GLCM_DISTANCES]
    reference = {
        "version": 1,
        "kind": "one-class colour-LBP centroid of bona fide stills (chi-square distance)",
        "features": {"patch": PATCH, "lbp_points": LBP_POINTS, "lbp_radii": list(LBP_RADII),
                     "channels": list(CHANNELS), "hue_shift": HUE_SHIFT},
        "centroid": [round(float(v), 6) for v in centroid],
        "scale": round(scale, 6),
        "midpoint": round(midpoint, 4),
        "width": round(width, 4),
        "glcm_bona_fide_p10_p90": {
            n: [round(float(np.percentile(G[bona, i], 10)), 4),
                round(float(np.percentile(G[bona, i], 90)), 4)]
            for i, n in enumerate(glcm_names)},
        "trained_on": {"manifest": "manifest.csv (developer set)",
                       "manifest_sha256": file_sha256(args.manifest),
                       "git_commit": git_commit(REPO), "date": date.today().isoformat(),
                       "bona_fide_stills": [n for n, b in zip(names, bona, strict=True) if b]},
        "evaluation": evaluation,
    }
    json.dumps(reference)  # fail before writing anything unserialisable
    print(f"the score's input: median of bona fide held-out ratios {p50:.3f}, 90th pct {p90:.3f}")
    if not args.no_write:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(reference, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
        if args.out.resolve() == TEXTURE_REFERENCE.resolve():
            print(f"pinned its SHA-256 {pin(TEXTURE_REFERENCE)} in kiosk/resources.py")
    print(json.dumps({"stills_held_out_auc": evaluation["stills_held_out_auc"],
                      "videos_auc": evaluation.get("videos_auc"), "scale": round(scale, 6),
                      "midpoint": round(midpoint, 4), "width": round(width, 4)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
