"""``kiosk audit list``, ``show``, ``export`` and ``stats``: the attempts of the local log,
opened read-only."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from kiosk.audit import (
    ACCESSIBLE_NOTE,
    SCRIPTED_NOTE,
    OperatorAction,
    StoredAttempt,
    camera_text,
    step_note,
)
from kiosk.audit.export import write_export
from kiosk.cli.audit import subject
from kiosk.cli.audit.opening import open_log
from kiosk.cli.audit.output import create_private
from kiosk.cli.audit.text import (
    column_width,
    pad,
    print_by_reason,
    short_ref,
    shown_decision,
    staff_actions,
    stamp,
)
from kiosk.cli.streams import utf8
from kiosk.errors import InputError
from kiosk.operator.attempts import latest_overrides

EXIT_OK = 0


def _num(value: float | None, fmt: str = ".1f") -> str:
    return "-" if value is None else format(value, fmt)


# -- list / show ---------------------------------------------------------------------------

def _shown_decision(a: StoredAttempt, overridden: dict[int, str]) -> str:
    """:func:`shown_decision` of an attempt of this log (``overridden``: id to decision)."""
    return shown_decision(a.decision, a.scripted, overridden.get(a.id))


def cmd_list(args: argparse.Namespace, ctx: Any) -> int:
    number, ref = subject.given(args)
    with open_log(args, ctx, hasher=number is not None) as audit:
        rows = audit.list_attempts(decision=args.decision, since=args.since, until=args.until,
                                   subject_ref=subject.reference(audit.subject_ref, number, ref),
                                   limit=args.limit)
        overridden = latest_overrides(audit.operator_actions(action="override", limit=None))
    out = ctx.stdout
    width = max([10, *(len(_shown_decision(a, overridden)) for a in rows)])
    kw = column_width("KIOSK", (a.kiosk_id for a in rows))
    print(f"{'ID':>7}  {'STARTED (UTC)':19}  {pad('KIOSK', kw)}  {'SUBJECT':12}  "
          f"{'DECISION':{width}}  {'LIVENESS':>8}  REASONS", file=out)
    scripted = 0
    for a in rows:
        record = a.record
        reasons = ",".join(record.reasons) if record else ""
        liveness = _num(record.liveness_score) if record else "-"
        print(f"{a.id:>7}  {stamp(a.started_at):19}  {pad(a.kiosk_id, kw)}  "
              f"{short_ref(a.subject_ref):12}  {_shown_decision(a, overridden):{width}}  "
              f"{liveness:>8}  {reasons or '-'}", file=out)
        scripted += a.scripted
    print(f"{len(rows)} attempt(s), newest first", file=out)
    if scripted:
        print(f"(scripted): {SCRIPTED_NOTE}", file=out)
    return EXIT_OK


def _override_lines(overrides: list[OperatorAction]) -> list[tuple[str, str]]:
    """An attempt's overrides, newest first: to what, by whom, when and why."""
    return [("override", f"to {o.details['to']} by {o.actor} at {stamp(o.acted_at)} UTC: "
                         f"{o.reason}") for o in overrides]


def _record_lines(a: StoredAttempt) -> list[tuple[str, str]]:
    r = a.record
    if r is None:
        return [("started", stamp(a.started_at, True)),
                ("subject", a.subject_ref or "none given"), ("camera", camera_text(a.camera))]
    if r.match is None:
        match = "not attempted"
    else:
        m = r.match
        match = (f"{m['matcher']}, similarity {_num(m['similarity'], '.2f')}, matched "
                 f"{'yes' if m['matched'] else 'no'}, reasons {', '.join(m['reasons']) or '-'}")
    return [("started", stamp(r.started_at, True)), ("ended", stamp(r.ended_at, True)),
            ("recorded", stamp(a.recorded_at, True)), ("subject", r.subject_ref or "none given"),
            ("decision", r.decision + (f": {SCRIPTED_NOTE}" if r.scripted else "")),
            ("check", ACCESSIBLE_NOTE if r.accessible else "standard"),
            ("camera", camera_text(r.camera)),
            ("reasons", ", ".join(r.reasons) or "-"),
            ("liveness score", _num(r.liveness_score, ".2f")), ("match", match),
            ("cloud calls", ", ".join(r.cloud_calls) or "none"), ("app version", r.app_version),
            ("settings digest", r.settings_digest)]


def _print_steps(a: StoredAttempt, out: TextIO) -> None:
    r = a.record
    if r is None:
        return
    # The times are when each frame was processed: a recording read faster than real time
    # (kiosk verify) brings them closer together than the reactions its prompts judged.
    recording = r.camera is not None and r.camera["kind"] != "camera"
    print(f"  challenges ({len(r.challenges)})"
          + (", at the times the recording's frames were processed" if recording else "")
          + ":", file=out)
    for i, c in enumerate(r.challenges, 1):
        answered = "-"
        if c["responded_at"] is not None:
            delay = (c["responded_at"] - c["prompted_at"]).total_seconds()
            # An action already under way: "+-0.076 s" read as a typing error.
            after = f"+{delay:.3f} s" if delay >= 0 else f"{-delay:.3f} s before the prompt"
            answered = f"{stamp(c['responded_at'], True)} ({after})"
        note = step_note(c.get("paused_s", 0.0), c.get("retry", False))
        print(f"    {i}. {c['action']}: {c['outcome']}, prompted "
              f"{stamp(c['prompted_at'], True)}, answered {answered}, confidence "
              f"{_num(c['confidence'], '.2f')}, reason {c['reason'] or '-'}"
              f"{', ' + note if note else ''}", file=out)
    print(f"  signals ({len(r.signals)}):", file=out)
    for name, s in r.signals.items():
        details = " ".join(f"{k}={v}" for k, v in s["details"].items())
        # A cue's code only where it moved the decision, as the operator panel shows it.
        reason = s["reason"] if s["reason"] in r.reasons else "-"
        print(f"    {name}: score {s['score']:.3f}, confidence {s['confidence']:.2f}, reason "
              f"{reason}{', ' + details if details else ''}", file=out)


def cmd_show(args: argparse.Namespace, ctx: Any) -> int:
    with open_log(args, ctx) as audit:
        a = audit.get_attempt(args.id)
        overrides = audit.operator_actions(action="override", target=str(a.id), limit=None)
    out = ctx.stdout
    chain = f"seq {a.seq}" if a.seq is not None else "not chained yet"
    print(f"attempt {a.id} ({a.status}, {chain})", file=out)
    lines = [("kiosk", a.kiosk_id), *_record_lines(a), *_override_lines(overrides),
             ("best frame", "stored, encrypted" if a.has_frame else "none"),
             ("row hash", a.row_hash or "-")]
    for label, value in lines:
        print(f"  {label + ':':17} {value}", file=out)
    _print_steps(a, out)
    return EXIT_OK


def cmd_frame(args: argparse.Namespace, ctx: Any) -> int:
    """The best frame an attempt kept, decrypted into a new private file (a person's copy of
    their data, or staff reviewing a case); nothing else ever shows it."""
    target = Path(args.output).expanduser()
    with open_log(args, ctx, frames=True) as audit:
        attempt = audit.get_attempt(args.id)
        if not attempt.has_frame:
            raise InputError(f"attempt {attempt.id} kept no picture (audit.store_best_frame "
                             "was off, no frame was good enough, or a purge removed it)")
        image = audit.best_frame(attempt.id)
    assert image is not None  # has_frame, and best_frame raises when it cannot decrypt
    with create_private(target, binary=True) as fh:
        fh.write(image)
    print(f"wrote the best frame of attempt {attempt.id} to {target} (JPEG, {len(image)} "
          "bytes, readable by you only)", file=ctx.stdout)
    return EXIT_OK


# -- export / stats ------------------------------------------------------------------------

def cmd_export(args: argparse.Namespace, ctx: Any) -> int:
    if args.output is None and not utf8(ctx.stdout):
        # Escaped or dropped characters would alter the evidence, and a strict write would
        # stop half way through: refused before a row is written.
        raise InputError(f"standard output writes {ctx.stdout.encoding}, which cannot hold "
                         "every character the log may hold: give --output FILE (written as "
                         "UTF-8) or run in a UTF-8 locale")
    number, ref = subject.given(args)
    with open_log(args, ctx, hasher=number is not None) as audit:
        attempts = audit.iter_attempts(since=args.since, until=args.until,
                                       decision=args.decision,
                                       subject_ref=subject.reference(audit.subject_ref, number, ref))
        if args.output is None:
            count = write_export(attempts, ctx.stdout, args.format)
        else:
            with create_private(Path(args.output).expanduser()) as fh:
                count = write_export(attempts, fh, args.format)
    print(f"exported {count} attempt(s) as {args.format}", file=ctx.stderr)
    return EXIT_OK


def cmd_stats(args: argparse.Namespace, ctx: Any) -> int:
    with open_log(args, ctx) as audit:
        s = audit.stats(since=args.since, until=args.until)
    out = ctx.stdout
    decisions = ", ".join(f"{k} {v}" for k, v in s.by_decision.items())
    print(f"attempts: {s.total} ({decisions}); incomplete: {s.incomplete}", file=out)
    if s.scripted:
        print(f"scripted evaluation runs, not counted above: {s.scripted}", file=out)
    print(staff_actions(s.lockouts, s.unlocks, s.overrides), file=out)
    print_by_reason(s.by_reason, out)
    names = list(s.by_decision)
    print("by day (UTC):  " + "".join(f"{n:>8}" for n in names), file=out)
    for day, counts in s.by_day.items():
        print(f"  {day:12}" + "".join(f"{counts[n]:>8}" for n in names), file=out)
    return EXIT_OK
