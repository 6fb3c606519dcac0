"""``kiosk verify --source VIDEO --script "blink@0.5,turn_left@2.0"``: replay a recording
through the challenge sequence with prompts at fixed times.

Scripted mode is for evaluation only: the kiosk's own sessions draw their prompts at random
and never take a script. The scripted part is :func:`scripted_challenges` (observations and a
script in, the sequence outcome out), so the full verification pipeline can reuse it.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable

from kiosk.errors import InputError
from kiosk.model import FaceObservation


def scripted_challenges(observations: Iterable[FaceObservation], script: str, liveness):
    """Run the challenge engine over ``observations`` with the prompts of ``script``.

    Parameters
    ----------
    observations : iterable of FaceObservation
        In time order (media time for recordings); consumed lazily.
    script : str
        ``"action@seconds,..."``.
    liveness :
        ``settings.liveness`` (response window, reaction time, turn angle, baseline).

    Returns
    -------
    SequenceResult

    Raises
    ------
    InputError
        The script is malformed or names an unknown action.
    """
    from kiosk.analysis.challenges import parse_script, run_script

    try:
        items = parse_script(script)
    except ValueError as exc:
        raise InputError(f"--script: {exc}") from None
    return run_script(
        observations, items,
        response_window_s=float(liveness.response_window_s),
        min_reaction_ms=float(liveness.min_reaction_ms),
        turn_angle_deg=float(liveness.turn_angle_deg),
        baseline_s=float(liveness.baseline_s))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify", help="replay a recording through the challenge sequence (scripted mode)",
        description="Replay a recorded video through the challenge-response sequence, showing "
                    "each scripted prompt at its media time. For evaluation only; exit "
                    "status 0 when every challenge passed, 1 when one failed.")
    parser.add_argument("--source", required=True, metavar="VIDEO", help="recorded video")
    parser.add_argument("--script", required=True, metavar="SCRIPT",
                        help='prompts and their times, e.g. "blink@0.5,turn_left@2.0"')
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx) -> int:
    from kiosk.cli.analyze import observe

    # observe() is lazy: a bad script is reported before any tracking starts.
    result = scripted_challenges(observe(args.source), args.script, ctx.settings.liveness)
    out = ctx.stdout
    if args.json:
        out.write(json.dumps({"source": args.source, "script": args.script,
                              **result.as_dict()}) + "\n")
    else:
        verdict = "PASSED" if result.passed else f"FAILED ({result.reason})"
        out.write(f"{args.source}: {verdict}\n")
        for c in result.challenges:
            line = f"  {c.index + 1}. {c.action:<10} {c.outcome:<9}"
            if c.prompt_t is not None:
                line += f" prompt {c.prompt_t:6.2f} s"
            if c.reaction_s is not None:
                line += f"  {c.event.action} after {c.reaction_s * 1000:.0f} ms" \
                        f" (confidence {c.confidence:.2f})"
            if c.reason:
                line += f"  {c.reason}: {c.detail}"
            out.write(line + "\n")
    return 0 if result.passed else 1
