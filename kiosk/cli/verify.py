"""``kiosk verify --source PATH``: one whole verification, headless, exactly as the kiosk runs it.

Random challenges by default (a recording cannot answer prompts it could not predict, so a
recording normally fails: that is the point). ``--script "blink@0.5,turn_left@2.0"`` is the
evaluation-only scripted mode: the prompts are shown at those media times, so real recordings
can be replayed through the same session. The kiosk's UI never takes a script.

A file cannot see the kiosk's screen, so the light step runs only with ``--light``: a sequence
file filmed with the recording (``kiosk record`` writes one; media times), or ``random``, a
sequence drawn now and placed where the step starts (what an injected or pre-recorded stream
faces). Without it the session runs without the light step and the output says so.

Exit status: 0 pass, 1 fail or review, 2 error.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

from kiosk.errors import InputError
from kiosk.vocabulary import Verdict


def parse_script_arg(text: str) -> list[tuple[str, float]]:
    """The ``--script`` value as (action, seconds) pairs; InputError when malformed."""
    from kiosk.lab.scripted import parse_script

    try:
        return list(parse_script(text))
    except ValueError as exc:
        raise InputError(f"--script: {exc}") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify", help="run one whole verification on a recording (headless kiosk session)",
        description="Run the kiosk's verification session on a video file or image folder: "
                    "rate limit, challenges, passive analysis, liveness, best frame, face "
                    "match (with --id-photo) or member search (with --member) and the audit "
                    "row. Exit status 0 for pass, 1 for fail or review, 2 for an error.")
    parser.add_argument("--source", required=True, metavar="PATH",
                        help="video file or image folder in place of the camera")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--id-photo", metavar="IMG", help="ID photo to match the live face to")
    who.add_argument("--member", action="store_true",
                     help="member check-in: search the live face among the enrolled members "
                          "(matching.collection_id, filled with kiosk enroll); the member's id "
                          "is printed on a pass")
    parser.add_argument("--subject", metavar="ID",
                        help="badge or ID number (only its keyed hash is recorded)")
    parser.add_argument("--db", metavar="PATH", help="audit database (default from settings)")
    parser.add_argument("--matcher", choices=("auto", "local", "rekognition"),
                        help="face matcher (default from settings)")
    parser.add_argument("--script", metavar="SCRIPT",
                        help='evaluation only: prompts at fixed media times, '
                             'e.g. "blink@0.5,turn_left@2.0"')
    parser.add_argument("--light", metavar="SEQUENCE.json|random",
                        help="run the light step, judged against the sequence filmed with the "
                             "recording (media times) or a sequence drawn now ('random')")
    parser.add_argument("--accessible", action="store_true",
                        help="the accessible check a person may choose: longer windows, its own "
                             "prompt count, no light step (recorded as such)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


NO_LIGHT = ("light step not run: a file cannot see the screen (give --light SEQUENCE.json "
            "or --light random)")


def light_plan(spec: str | None):
    """The light step's plan for ``--light``: None without it; InputError for a bad file."""
    if spec is None:
        return None
    from kiosk.session.light import DrawnLight, RecordedLight

    if spec == "random":
        return DrawnLight()
    from kiosk.analysis.light import LightSequence

    return RecordedLight(LightSequence.from_json_file(spec))


def light_report(spec: str | None, signals: dict) -> dict:
    """The report's ``light`` key: the step's verdict, or why it did not run."""
    if spec is None:
        return {"run": False, "why": NO_LIGHT}
    signal = signals.get("light")
    if signal is None:
        return {"run": False, "why": "light step not run: the face was never placed"}
    details = dict(signal["details"])
    reasons = details.pop("reasons", "")
    return {"run": True, "sequence_source": "random" if spec == "random" else "file",
            **details, "reasons": reasons.split() if reasons else []}


def check_source_path(path: str) -> str:
    """The path to open for ``--source``; InputError unless it names something a session
    can run on: a video file or an image folder (a still image holds no movement to answer a
    prompt with; a camera needs the window, where the person sees the prompts)."""
    from kiosk.camera import recording_path, refuse_still

    found = recording_path(path)
    refuse_still(found)
    return found


def check_subject(number: str | None) -> None:
    """InputError when ``--subject`` names nobody or is no badge or ID number (blank, dashes
    only, longer than the cap): refused before the log is opened, so a mistyped number
    neither starts an attempt nor runs one under no subject at all."""
    if number is None:
        return
    from kiosk.audit import normalize_subject_number

    try:
        normalize_subject_number(number)
    except ValueError as exc:
        raise InputError(f"--subject: the badge or ID number cannot be used: {exc}") from None


def check_db_path(path: str) -> None:
    """InputError when ``--db`` names a file in a folder that does not exist: a mistyped path
    must not start a new, empty audit log that knows none of the lockouts."""
    folder = Path(path).expanduser().parent
    if not folder.is_dir():
        raise InputError(f"--db {path}: the folder {folder} does not exist (a new audit log "
                         "is only started in an existing folder)")


def first_frame(source, path: str):
    """The source's first frame and an iterator over all its frames from that one.

    Read before the attempt is opened, so a file that cannot be decoded is an input error
    that records nothing, not an interrupted attempt counted against the subject. So is a
    source of one frame (a photo named .mp4, a one-frame clip, a folder of one image): a
    single image cannot show life, and judged as a session it failed the person on
    liveness, counted toward their lockout.
    """
    from kiosk.camera import single_frame_refusal

    frames = iter(source)
    first, second = next(frames, None), next(frames, None)
    if first is None:
        raise InputError(f"--source {path} has no frames")
    if second is None:
        raise single_frame_refusal(path)
    return first, itertools.chain([first, second], frames)


def check_script_fits(script, source, path: str) -> None:
    """InputError when a scripted prompt lies after the end of the recording (when its
    length is known): the prompt would never be shown, and the session would fail for it."""
    count = getattr(source, "frame_count", None)
    fps = float(getattr(source, "fps", 0.0) or 0.0)
    if not script or not count or fps <= 0:
        return
    length = count / fps
    action, at = script[-1]
    # The container's frame count may be an estimate: one frame's slack.
    if at > length + 1.0 / fps:
        raise InputError(f"--script {action}@{at:g}: {path} is only {length:.2f} s long")


def run(args: argparse.Namespace, ctx) -> int:
    script = parse_script_arg(args.script) if args.script is not None else None
    source_path = check_source_path(args.source)
    check_subject(args.subject)
    if args.db:
        check_db_path(args.db)
    if args.accessible and args.light is not None:
        raise InputError("--light: the accessible check has no light step (it never flashes)")
    light = light_plan(args.light)
    # Heavy imports stay inside the command so `kiosk --help` starts fast.
    from kiosk.analysis.face import FaceTracker
    from kiosk.analysis.fusion import Fusion
    from kiosk.analysis.passive import default_analyzers
    from kiosk.audit import open_kiosk_log
    from kiosk.camera import open_source
    from kiosk.session import SessionRequest, Verifier
    from kiosk.session.camera import camera_record
    from kiosk.settings import default_data_dir

    settings = ctx.settings
    if args.db:
        settings = settings.replace("audit", db_path=str(Path(args.db).expanduser().absolute()))
    reference, matcher = None, None
    if args.member and not settings.matching.collection_id:
        from kiosk.errors import ConfigError

        raise ConfigError("--member needs matching.collection_id: the Rekognition collection "
                          "of the enrolled members (see kiosk enroll)")
    if args.id_photo:
        from kiosk.identity import card_detector, load_id_photo

        reference = load_id_photo(args.id_photo, card_detector()).image
    if args.id_photo or args.member:
        from kiosk.cloud.factory import build_matcher

        matcher = build_matcher(settings, choice=args.matcher)
    fusion = Fusion.load()
    # The recording is read before the log opens: input refused here leaves no database or
    # key behind (a new --db folder stays empty).
    with open_source(source_path, paced=False) as source:
        check_script_fits(script, source, args.source)
        _, frames = first_frame(source, args.source)
        with open_kiosk_log(settings, default_data_dir(ctx.environ)) as audit, \
                FaceTracker() as tracker:
            audit.start_fleet()  # ships this attempt to the fleet server, if one is configured
            verifier = Verifier(settings, tracker=tracker, fusion=fusion,
                                analyzers=lambda: default_analyzers(settings), matcher=matcher,
                                audit=audit)
            session = verifier.session(frames, SessionRequest(
                reference=reference, subject_number=args.subject, script=script, light=light,
                member_check_in=bool(args.member), accessible=bool(args.accessible),
                camera=camera_record(source)))
            try:
                while True:
                    next(session)
            except StopIteration as stop:
                decision = stop.value
    report = {"source": args.source, **decision.as_dict()}
    if script is not None:
        report["script"] = args.script
    report["light"] = (light_report(args.light, report["signals"]) if not args.accessible else
                       {"run": False, "why": "light step not run: the accessible check has none"})
    report["check"] = "accessible" if args.accessible else "standard"
    if args.json:
        ctx.stdout.write(json.dumps(report) + "\n")
    else:
        _print_text(ctx.stdout, report)
    return 0 if decision.decision == Verdict.PASS else 1


def _print_text(out, report: dict) -> None:
    from kiosk.audit import ACCESSIBLE_NOTE, SCRIPTED_NOTE, step_note
    from kiosk.reasons import describe

    recorded = ("not recorded" if report["attempt_id"] is None
                else f"attempt {report['attempt_id']}")
    if "script" in report:
        recorded += f", {SCRIPTED_NOTE}"
    if report.get("check") == "accessible":
        recorded += f", {ACCESSIBLE_NOTE}"
    out.write(f"{report['source']}: {report['decision'].upper()} ({recorded})\n")
    for code in report["reasons"]:
        out.write(f"  {code}: {describe(code).staff}\n")
    for i, c in enumerate(report["challenges"], 1):
        line = f"  {i}. {c['action']:<10} {c['outcome']:<9}"
        if c.get("prompt_t") is not None:
            line += f" prompt {c['prompt_t']:6.2f} s"
        reaction = c.get("reaction_s")
        if reaction is not None:
            line += (f"  answered after {reaction * 1000:.0f} ms" if reaction >= 0 else
                     f"  started {-reaction * 1000:.0f} ms before the prompt")
        if c.get("reason"):
            line += f"  {c['reason']}"
        note = step_note(c.get("paused_s") or 0.0, bool(c.get("retry")))
        if note:
            line += f"  ({note})"
        out.write(line + "\n")
    light = report["light"]
    if not light["run"]:
        out.write(f"  {light['why']}\n")
    elif light.get("why"):
        out.write(f"  light not judged: {light['why']}\n")
    else:
        out.write("  light " + ("answered by a face in the room" if light["responded"] else
                                f"not answered: {', '.join(light['reasons'])}") + "\n")
    if report.get("liveness_score") is not None:
        out.write(f"  liveness {report['liveness_score']:.1f}\n")
    elif "CAPTURE_TOO_SLOW" in report["reasons"]:
        out.write("  liveness not judged: the frames came too slowly\n")
    if report.get("match"):
        m = report["match"]
        similarity = "-" if m["similarity"] is None else f"{m['similarity']:.1f}"
        out.write(f"  match: {'yes' if m['matched'] else 'no'} ({m['matcher']}, "
                  f"similarity {similarity})\n")
    if report.get("member"):
        out.write(f"  member: {report['member']}\n")
