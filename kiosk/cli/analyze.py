"""``kiosk analyze PATH``: everything the kiosk can tell about a recording, as one report.

The report is a dict assembled from parts (:data:`PARTS`): each part takes the path, the
observations and the settings and returns the keys it adds. Passive signals will join as
another part, so ``--json`` stays one JSON object with stable keys.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable, Generator, Sequence

from kiosk.cli.analyze_light import (
    MAX_OFFSET_S,
    RANDOM_OFFSET_S,
    check_light_options,
    light_line,
    light_part,
)
from kiosk.cli.analyze_passive import passive_part
from kiosk.cli.args import number
from kiosk.model import FaceObservation

Part = Callable[[str, Sequence[FaceObservation], object, argparse.Namespace], dict]


def observe(path: str) -> Generator[FaceObservation, None, dict | None]:
    """Track the faces of a video, image folder or image, frame by frame, as fast as possible.

    Returns
    -------
    dict or None
        The generator's value once exhausted: :func:`truncation` of the source.

    Raises
    ------
    InputError, CameraError
        The path cannot be read as media (from :func:`kiosk.camera.open_source`).
    """
    # Heavy imports stay inside so `kiosk --help` starts fast.
    from kiosk.analysis.face import FaceTracker
    from kiosk.camera import open_source

    with open_source(path, paced=False) as source, FaceTracker() as tracker:
        for frame in source:
            yield tracker.observe(frame)
        return truncation(source)


def truncation(source: object) -> dict | None:
    """``{"frames_read", "frames_announced"}`` for a video read to an end that came well before
    the frame count its container announced (a cut or damaged file); None otherwise."""
    from kiosk.camera import VideoFileSource

    if isinstance(source, VideoFileSource) and source.truncated:
        return {"frames_read": source.frames_decoded, "frames_announced": source.frame_count}
    return None


def observe_all(path: str) -> tuple[list[FaceObservation], dict | None]:
    """Every observation of ``path`` (:func:`observe`) and the source's :func:`truncation`."""
    observations: list[FaceObservation] = []
    frames = iter(observe(path))
    while True:
        try:
            observations.append(next(frames))
        except StopIteration as end:
            return observations, end.value


def timing_part(path: str, observations: Sequence[FaceObservation], settings,
                args: argparse.Namespace) -> dict:
    """``path``, ``frames``, ``fps`` and ``duration_s`` (last minus first frame, plus one
    frame interval)."""
    n = len(observations)
    times = [o.media_t for o in observations]
    steps = [b - a for a, b in zip(times, times[1:], strict=False) if b > a]
    interval = statistics.median(steps) if steps else 0.0
    duration = (times[-1] - times[0] + interval) if n else 0.0
    return {"path": path, "frames": n, "fps": round(1.0 / interval, 3) if interval else None,
            "duration_s": round(duration, 3)}


def faces_part(path: str, observations: Sequence[FaceObservation], settings,
               args: argparse.Namespace) -> dict:
    """Share of frames with no face, exactly one, and more than one."""
    n = len(observations) or 1
    counts = {"none": 0, "one": 0, "multiple": 0}
    for obs in observations:
        counts["none" if obs.n_faces == 0 else "one" if obs.n_faces == 1 else "multiple"] += 1
    return {"faces": {k: round(v / n, 4) for k, v in counts.items()}}


def events_part(path: str, observations: Sequence[FaceObservation], settings,
                args: argparse.Namespace) -> dict:
    """Every action event over the whole clip, and the baseline they were measured from."""
    from kiosk.analysis.challenges import ActionDetector, Baseline, event_dict

    baseline_mode = getattr(args, "baseline", "clip")
    if not any(o.face is not None and o.n_faces == 1 for o in observations):
        return {"events": [], "baseline": None}
    detector = ActionDetector.from_settings(
        settings.liveness,
        baseline=Baseline.from_observations(observations) if baseline_mode == "clip" else None)
    events = []
    for obs in observations:
        events.extend(detector.update(obs))
    events.extend(detector.finish())
    events.sort(key=lambda e: (e.start, e.action))
    base = detector.baseline
    return {
        "events": [event_dict(e) for e in events],
        "baseline": None if base is None else {
            "mode": baseline_mode, "frames": base.frames,
            "ear_left": round(base.ear_left, 4), "ear_right": round(base.ear_right, 4),
            "yaw": round(base.yaw, 2), "pitch": round(base.pitch, 2),
            "mouth_width": round(base.mouth_width, 4), "smile": round(base.smile, 4)},
    }


#: The report's parts, in output order.
PARTS: list[Part] = [timing_part, faces_part, events_part, passive_part, light_part]


def build_report(path: str, observations: Sequence[FaceObservation], settings,
                 args: argparse.Namespace | None = None, *,
                 truncated: dict | None = None) -> dict:
    """Assemble the report from :data:`PARTS`, plus ``truncated``: None for a recording read
    whole, else :func:`truncation` (what was read is analysed all the same)."""
    args = args if args is not None else argparse.Namespace()
    report: dict = {}
    for part in PARTS:
        report.update(part(path, observations, settings, args))
    report["truncated"] = truncated
    return report


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analyze", help="detect the challenge actions (and more) in a recording",
        description="Track a video, image folder or image and report what the kiosk sees: "
                    "face presence and every action event (blink, smile, turn_left, "
                    "turn_right, nod, look_up, look_down; directions are the subject's own).")
    parser.add_argument("path", help="video file, image folder or image")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--baseline", choices=("clip", "start"), default="clip",
                        help="neutral face from the whole clip (default) or from its first "
                             "steady liveness.baseline_s seconds, as a live session does")
    parser.add_argument("--light", metavar="SEQUENCE",
                        help="judge the light challenge: a sequence file (JSON, times in the "
                             "recording's media time) or 'random' (a sequence drawn now, what "
                             "a recording or an injected stream faces)")
    # Below a day: far beyond that a float's spacing (1e308 once gave "segment 0 has no
    # length") would be the error, not the option.
    parser.add_argument("--light-offset", type=number(at_least=0, below=MAX_OFFSET_S),
                        default=RANDOM_OFFSET_S,
                        metavar="SECONDS",
                        help="with --light random: start of the sequence after the first "
                             f"frame (default {RANDOM_OFFSET_S:g})")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx) -> int:
    check_light_options(args)  # before tracking: a refused option costs no seconds
    observations, truncated = observe_all(args.path)
    report = build_report(args.path, observations, ctx.settings, args, truncated=truncated)
    out = ctx.stdout
    if args.json:
        out.write(json.dumps(report) + "\n")
        return 0
    faces = report["faces"]
    out.write(f"{report['path']}: {report['frames']} frames, {report['duration_s']:.2f} s; "
              f"one face in {faces['one']:.0%} of frames\n")
    if truncated is not None:
        out.write(truncation_line(truncated) + "\n")
    for e in report["events"]:
        out.write(f"  {e['action']:<10} {e['start']:7.2f} - {e['end']:7.2f} s  "
                  f"confidence {e['confidence']:.2f}\n")
    if not report["events"]:
        out.write("  no action events\n")
    _print_passive(out, report["passive"])
    if "light" in report:
        out.write(light_line(report["light"]) + "\n")
    return 0


def truncation_line(truncated: dict) -> str:
    """The text report's line for a recording that ended early."""
    return (f"  ended early: {truncated['frames_read']} of the {truncated['frames_announced']} "
            "frames its container announces could be read (cut or damaged file); only those "
            "are analysed")


def _print_passive(out, passive: dict) -> None:
    """The liveness summary, then every cue; a cue's reason code only where it moved the
    decision (it is among the fused reasons), and "shows life" where it vouched for a live
    face."""
    if passive["refused"] and passive["still"]:
        out.write(f"  liveness not judged: {', '.join(passive['reasons'])} (a single image "
                  "cannot be checked for liveness); its single-frame cues, for the record:\n")
    elif passive["refused"]:
        from kiosk.analysis.capture import MIN_ANALYSIS_FPS

        out.write(f"  liveness not judged: {', '.join(passive['reasons'])} (frames at "
                  f"{passive['frame_rate']:.1f} per second, under the {MIN_ANALYSIS_FPS:.0f} "
                  "a live face needs to show life); its cues, for the record:\n")
    else:
        verdict = "passed" if passive["passed"] else "failed"
        out.write(f"  liveness {passive['liveness']:.1f} (threshold {passive['threshold']:g}, "
                  f"{verdict}); reasons: {', '.join(passive['reasons']) or 'none'}\n")
    life = passive.get("life", {})
    for s in passive["signals"]:
        line = f"  cue {s['name']:<11} score {s['score']:.3f}  confidence {s['confidence']:.2f}"
        if s["reason"] in passive["reasons"]:
            line += f"  {s['reason']}"
        elif life.get(s["name"], 0.0) > 0:
            line += f"  shows life ({life[s['name']]:.2f} log-odds)"
        elif s["confidence"] == 0 and s["details"].get("why"):
            line += f"  (no evidence: {s['details']['why']})"
        out.write(line + "\n")
