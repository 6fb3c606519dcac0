"""How far real people move their heads when nobody asks them to (issue 11's 1.5x rule).

During a blink or smile prompt, or on the other axis of a head prompt, a head movement fails
the prompt only when its excursion reaches ``DELIBERATE_FACTOR`` (1.5) times the movement
threshold (``liveness.turn_angle_deg`` for yaw, ``pitch_angle_deg`` for pitch). This script
measures, on the bona fide recordings of a manifest:

- **natural** head motion: frames outside every labelled head action (turns, looks, nods;
  0.5 s margin), as the excursion from the clip's baseline in thresholds (99th percentile and
  maximum per clip), and the detected head events there (the events ``is_wrong`` judges);
- **deliberate** head motion: the peak excursion inside each labelled head action.

A factor separates the two when natural motion stays below it and deliberate turns reach it.

Usage::

    python scripts/measure_natural_motion.py ../shared/data/manifest.csv [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from kiosk.analysis.challenges import ActionDetector, Baseline
from kiosk.analysis.challenges.actions import (
    DELIBERATE_FACTOR,
    HEAD_ACTIONS,
    PITCH_ACTIONS,
    excursion_of,
)
from kiosk.analysis.face import FaceTracker
from kiosk.camera import open_source
from kiosk.lab.events_eval import parse_events
from kiosk.lab.manifest import read_manifest
from kiosk.settings import Settings

MARGIN_S = 0.5
"""Frames this close to a labelled head action are neither natural nor deliberate."""


def measure(path: Path, row, settings: Settings) -> dict:
    """Natural and deliberate excursions of one recording (see the module docstring)."""
    first, last = row.frame_range or (0, None)
    with open_source(str(path), paced=False, start=first, end=last) as source, \
            FaceTracker() as tracker:
        observations = [tracker.observe(frame) for frame in source]
    faced = [o for o in observations if o.face is not None and o.n_faces == 1]
    if len(faced) < 10:
        return {"key": row.key, "frames": len(faced), "skipped": "too few frames with a face"}
    liveness = settings.liveness
    base = Baseline.from_observations(observations)
    detector = ActionDetector.from_settings(liveness, baseline=base)
    events = [e for o in observations for e in detector.update(o)] + detector.finish()
    heads = [lb for lb in parse_events(row.events) if lb.action in HEAD_ACTIONS]

    def near_head_label(t0: float, t1: float) -> bool:
        return any(t1 >= lb.start - MARGIN_S and t0 <= lb.end + MARGIN_S for lb in heads)

    t = np.array([o.t for o in faced])
    yaw = np.abs(np.array([o.face.yaw for o in faced]) - base.yaw) / liveness.turn_angle_deg
    pitch = np.abs(np.array([o.face.pitch for o in faced]) - base.pitch) / (
        liveness.pitch_angle_deg)
    natural = np.array([not near_head_label(x, x) for x in t])
    report: dict = {"key": row.key, "subject": row.subject, "frames": len(faced),
                    "talking": "talk@" in row.events, "natural_frames": int(natural.sum())}
    for name, values in (("yaw", yaw), ("pitch", pitch)):
        v = values[natural]
        report[f"natural_{name}_p99"] = round(float(np.percentile(v, 99)), 3) if v.size else None
        report[f"natural_{name}_max"] = round(float(v.max()), 3) if v.size else None
    report["natural_events"] = [
        {"action": e.action, "start": round(e.start, 2),
         "excursion": round(excursion_of(e.confidence), 2)}
        for e in events if e.action in HEAD_ACTIONS and not near_head_label(e.start, e.end)]
    deliberate = []
    for lb in heads:
        inside = (t >= lb.start) & (t <= lb.end)
        values = (pitch if lb.action in PITCH_ACTIONS else yaw)[inside]
        if values.size:
            deliberate.append({"action": lb.action, "start": lb.start,
                               "peak": round(float(values.max()), 3)})
    report["deliberate"] = deliberate
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("manifest")
    parser.add_argument("--json", metavar="OUT", help="write every clip's figures here")
    args = parser.parse_args(argv)
    manifest = Path(args.manifest)
    settings = Settings()
    rows = [r for r in read_manifest(manifest)
            if r.label == "bona_fide" and not r.still and not r.overlay]
    reports = []
    for row in rows:
        report = measure(manifest.parent / row.path, row, settings)
        reports.append(report)
        if "skipped" in report:
            print(f"{row.key}: skipped ({report['skipped']})")
            continue
        events = ", ".join(f"{e['action']} {e['excursion']:.2f}"
                           for e in report["natural_events"]) or "none"
        print(f"{Path(row.path).name:<16} {'talking' if report['talking'] else '':<8}"
              f"natural yaw p99 {report['natural_yaw_p99']} max {report['natural_yaw_max']}, "
              f"pitch p99 {report['natural_pitch_p99']} max {report['natural_pitch_max']}; "
              f"natural head events: {events}")
    measured = [r for r in reports if "skipped" not in r]
    natural_max = [max(r["natural_yaw_max"] or 0, r["natural_pitch_max"] or 0)
                   for r in measured if r["natural_frames"]]
    natural_events = [e["excursion"] for r in measured for e in r["natural_events"]]
    deliberate = [d["peak"] for r in measured for d in r["deliberate"]]
    factor = DELIBERATE_FACTOR
    print(f"\n{len(measured)} bona fide recordings ({sum(r['talking'] for r in measured)} "
          f"talking), factor {factor}")
    print(f"natural motion, per-clip maximum excursion: median "
          f"{np.median(natural_max):.2f}, max {max(natural_max):.2f}; clips reaching 1.0: "
          f"{sum(m >= 1.0 for m in natural_max)}, reaching {factor}: "
          f"{sum(m >= factor for m in natural_max)}")
    print(f"natural head events (outside labelled head actions): {len(natural_events)}; "
          f"at or above {factor}: {sum(x >= factor for x in natural_events)}")
    print(f"deliberate labelled head actions: {len(deliberate)}; peak at or above {factor}: "
          f"{sum(x >= factor for x in deliberate)}; median peak "
          f"{np.median(deliberate) if deliberate else float('nan'):.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(reports, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
