"""``kiosk audit``: list, show, export, stats, lockouts, actions, unlock, verify, anchor,
purge, keygen, new-log (in :mod:`kiosk.cli.audit_new_log`).

Every subcommand takes ``--db PATH``; the default is ``settings.audit.db_path`` or, when that
is empty, ``kiosk.db`` in the platform data folder. Reading commands open the database
read-only (a write-protected evidence copy too) and never create it or a key. Nothing printed
contains an ID number (the log holds none), a frame or an embedding; subjects appear as their
keyed-hash references.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from kiosk.audit import (
    ACCESSIBLE_NOTE,
    SCRIPTED_NOTE,
    AuditConfig,
    AuditLog,
    AuditUnavailable,
    KeyUnavailable,
    Lockout,
    OperatorAction,
    StoredAttempt,
    action_about,
    action_detail,
    camera_text,
    create_key_file,
    decision_label,
    key_store,
    normalize_subject_number,
    resolve_db_path,
    step_note,
)
from kiosk.audit.anchor import read_anchor
from kiosk.audit.errors import MISSING
from kiosk.audit.export import FORMATS, write_export
from kiosk.audit.queries import DECISION_FILTERS
from kiosk.audit.register import read_registration, unguarded
from kiosk.audit.schema import OPERATOR_ACTIONS
from kiosk.audit.timeutil import parse_duration, parse_when
from kiosk.cli import audit_fleet, audit_new_log
from kiosk.cli.args import POSITIVE_WHOLE_NUMBER, parsed
from kiosk.errors import InputError
from kiosk.operator.attempts import latest_overrides
from kiosk.settings import default_data_dir

EXIT_OK = 0
EXIT_BROKEN = 1

WHEN = parsed(parse_when)
DURATION = parsed(parse_duration)


def _db_path(args: argparse.Namespace, ctx: Any) -> Path:
    if args.db:
        # Absolute: the settings refuse a relative audit.db_path (see kiosk.settings.schema).
        return Path(args.db).expanduser().absolute()
    return resolve_db_path(ctx.settings, default_data_dir(ctx.environ))


def _open(args: argparse.Namespace, ctx: Any, *, write: bool = False, integrity: bool = False,
          hasher: bool = False, chain: bool = False) -> AuditLog:
    """Open the log; keys are looked for, never created. A keyed log needs its chain key to
    be written or verified (the error then says where the key is looked for)."""
    path = _db_path(args, ctx)
    config = AuditConfig.from_settings(ctx.settings, store_best_frame=False)
    keys = key_store(ctx.settings, path, create=False)
    subject_hasher = keys.subject_hasher() if hasher else None
    chain_key = None
    if chain or write:
        try:
            chain_key = keys.chain_key()
        except KeyUnavailable:
            present = [f for f in (keys.default_file, keys.legacy_file)
                       if f is not None and f.exists()]
            if ctx.settings.audit.key_file or present:
                raise  # a key file is there but unusable (its mode, its content): say so
            chain_key = None  # fine for a log never keyed; a keyed one says it needs the key
    try:
        return AuditLog.open(path, config, read_only=not write, create=False,
                             check_integrity=integrity, subject_hasher=subject_hasher,
                             chain_key=chain_key, probe_write=False)
    except AuditUnavailable as exc:
        lost = kept_there(exc, path, ctx.settings.audit.key_file)
        if lost is None:
            raise
        raise lost from None


def kept_there(exc: AuditUnavailable, path: Path, key_file: str) -> AuditUnavailable | None:
    """When ``exc`` says there is no database at ``path`` and the kiosk kept a log there: the
    same error, saying so; None otherwise (another fault, or no log was ever begun there)."""
    if exc.reason != MISSING:
        return None
    try:
        kept = read_registration(path, key_file or None)
    except AuditUnavailable:
        return None  # an unreadable register adds nothing to "no database here"
    if kept is None:
        return None
    return AuditUnavailable(f"{exc}, though the kiosk kept its log {kept.db_id[:8]} there "
                            f"(since {kept.registered_at[:10]}): it was deleted or moved",
                            reason=exc.reason, path=exc.path)


def _t(value: Any, precise: bool = False) -> str:
    if value is None:
        return "-"
    return value.strftime("%Y-%m-%d %H:%M:%S.%f UTC" if precise else "%Y-%m-%d %H:%M:%S")


def _num(value: float | None, fmt: str = ".1f") -> str:
    return "-" if value is None else format(value, fmt)


# -- list / show ---------------------------------------------------------------------------

def shown_decision(decision: str, scripted: bool, overridden_to: str | None) -> str:
    """The decision as staff read it: ``fail, now pass`` after an override (the local list
    and the fleet's)."""
    label = decision_label(decision, scripted)
    return label if overridden_to is None else f"{label}, now {overridden_to}"


def _shown_decision(a: StoredAttempt, overridden: dict[int, str]) -> str:
    """:func:`shown_decision` of an attempt of this log (``overridden``: id to decision)."""
    return shown_decision(a.decision, a.scripted, overridden.get(a.id))


def _cmd_list(args: argparse.Namespace, ctx: Any) -> int:
    with _open(args, ctx) as audit:
        rows = audit.list_attempts(decision=args.decision, since=args.since, until=args.until,
                                   limit=args.limit)
        overridden = latest_overrides(audit.operator_actions(action="override", limit=None))
    out = ctx.stdout
    width = max([10, *(len(_shown_decision(a, overridden)) for a in rows)])
    kw = audit_fleet.column_width("KIOSK", (a.kiosk_id for a in rows))
    print(f"{'ID':>7}  {'STARTED (UTC)':19}  {'KIOSK':{kw}}  {'SUBJECT':12}  "
          f"{'DECISION':{width}}  {'LIVENESS':>8}  REASONS", file=out)
    scripted = 0
    for a in rows:
        record = a.record
        reasons = ",".join(record.reasons) if record else ""
        liveness = _num(record.liveness_score) if record else "-"
        print(f"{a.id:>7}  {_t(a.started_at):19}  {a.kiosk_id:{kw}}  "
              f"{audit_fleet.short_ref(a.subject_ref):12}  {_shown_decision(a, overridden):{width}}  "
              f"{liveness:>8}  {reasons or '-'}", file=out)
        scripted += a.scripted
    print(f"{len(rows)} attempt(s), newest first", file=out)
    if scripted:
        print(f"(scripted): {SCRIPTED_NOTE}", file=out)
    return EXIT_OK


def _override_lines(overrides: list[OperatorAction]) -> list[tuple[str, str]]:
    """An attempt's overrides, newest first: to what, by whom, when and why."""
    return [("override", f"to {o.details['to']} by {o.actor} at {_t(o.acted_at)} UTC: "
                         f"{o.reason}") for o in overrides]


def _record_lines(a: StoredAttempt) -> list[tuple[str, str]]:
    r = a.record
    if r is None:
        return [("started", _t(a.started_at, True)), ("subject", a.subject_ref or "none given"),
                ("camera", camera_text(a.camera))]
    if r.match is None:
        match = "not attempted"
    else:
        m = r.match
        match = (f"{m['matcher']}, similarity {_num(m['similarity'], '.2f')}, matched "
                 f"{'yes' if m['matched'] else 'no'}, reasons {', '.join(m['reasons']) or '-'}")
    return [("started", _t(r.started_at, True)), ("ended", _t(r.ended_at, True)),
            ("recorded", _t(a.recorded_at, True)), ("subject", r.subject_ref or "none given"),
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
    print(f"  challenges ({len(r.challenges)}):", file=out)
    for i, c in enumerate(r.challenges, 1):
        answered = "-"
        if c["responded_at"] is not None:
            delay = (c["responded_at"] - c["prompted_at"]).total_seconds()
            answered = f"{_t(c['responded_at'], True)} (+{delay:.3f} s)"
        note = step_note(c.get("paused_s", 0.0), c.get("retry", False))
        print(f"    {i}. {c['action']}: {c['outcome']}, prompted {_t(c['prompted_at'], True)}, "
              f"answered {answered}, confidence {_num(c['confidence'], '.2f')}, reason "
              f"{c['reason'] or '-'}{', ' + note if note else ''}", file=out)
    print(f"  signals ({len(r.signals)}):", file=out)
    for name, s in r.signals.items():
        details = " ".join(f"{k}={v}" for k, v in s["details"].items())
        # A cue's code only where it moved the decision, as the operator panel shows it.
        reason = s["reason"] if s["reason"] in r.reasons else "-"
        print(f"    {name}: score {s['score']:.3f}, confidence {s['confidence']:.2f}, reason "
              f"{reason}{', ' + details if details else ''}", file=out)


def _cmd_show(args: argparse.Namespace, ctx: Any) -> int:
    with _open(args, ctx) as audit:
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


# -- export / stats ------------------------------------------------------------------------

def _cmd_export(args: argparse.Namespace, ctx: Any) -> int:
    with _open(args, ctx) as audit:
        attempts = audit.iter_attempts(since=args.since, until=args.until,
                                       decision=args.decision)
        if args.output is None:
            count = write_export(attempts, ctx.stdout, args.format)
        else:
            with _create_private(Path(args.output).expanduser()) as fh:
                count = write_export(attempts, fh, args.format)
    print(f"exported {count} attempt(s) as {args.format}", file=ctx.stderr)
    return EXIT_OK


@contextlib.contextmanager
def _create_private(target: Path) -> Iterator[TextIO]:
    """A new text file readable by the owner only (exports hold subject references), which
    appears under its name only once everything was written: a failure half-way (a damaged
    log) leaves nothing, where a partial file would have taken the name the retry needs."""
    if target.exists() or target.is_symlink():
        raise InputError(f"{target} exists; choose another --output")
    try:
        fd, part = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part",
                                    dir=target.parent)  # mode 0600
    except OSError as exc:
        raise InputError(f"cannot create {target}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
        try:
            os.link(part, target)  # never replaces a file made meanwhile
        except FileExistsError:
            raise InputError(f"{target} exists; choose another --output") from None
        except OSError as exc:
            raise InputError(f"cannot create {target}: {exc.strerror}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(part)


def _cmd_stats(args: argparse.Namespace, ctx: Any) -> int:
    with _open(args, ctx) as audit:
        s = audit.stats(since=args.since, until=args.until)
    out = ctx.stdout
    decisions = ", ".join(f"{k} {v}" for k, v in s.by_decision.items())
    print(f"attempts: {s.total} ({decisions}); incomplete: {s.incomplete}", file=out)
    if s.scripted:
        print(f"scripted evaluation runs, not counted above: {s.scripted}", file=out)
    print(staff_actions(s.lockouts, s.unlocks, s.overrides), file=out)
    print("by reason:", file=out)
    for code, n in s.by_reason.items():
        print(f"  {code:32} {n:>7}", file=out)
    if not s.by_reason:
        print("  (none)", file=out)
    names = list(s.by_decision)
    print("by day (UTC):  " + "".join(f"{n:>8}" for n in names), file=out)
    for day, counts in s.by_day.items():
        print(f"  {day:12}" + "".join(f"{counts[n]:>8}" for n in names), file=out)
    return EXIT_OK


def staff_actions(lockouts: int, unlocks: int, overrides: int) -> str:
    """The line of stats on lockouts and what staff did (the local stats and the fleet's)."""
    return (f"lockouts: {lockouts}; operator unlocks: {unlocks}; decisions overridden by "
            f"staff: {overrides} (the counts above are the decisions as recorded)")


# -- unlock / verify / purge / keygen -----------------------------------------------------

#: A subject reference as ``audit show`` prints it (``audit list`` shows its first 12).
SUBJECT_REF = re.compile(r"[0-9a-f]{64}")


def _subject_number(value: str | None) -> str | None:
    """``--subject`` checked before the log is opened: ``-`` reads it from standard input;
    empty, blank or dashes only is refused alike (it names nobody)."""
    if value is None:
        return None
    if value == "-":
        value = sys.stdin.readline().strip()
    try:
        normalize_subject_number(value)
    except ValueError as exc:
        raise InputError(f"--subject: {exc}") from None
    return value


def _subject_ref(value: str | None) -> str | None:
    """``--subject-ref`` as the log holds it (lower case), or InputError naming what to give."""
    if value is None:
        return None
    ref = value.strip().lower()
    if not SUBJECT_REF.fullmatch(ref):
        # Not repeated: what was typed here by mistake is often the badge number itself.
        raise InputError(f"--subject-ref is not a subject reference ({len(value)} characters "
                         "given): give the 64 hex "
                         "digits `kiosk audit show ID` prints as the subject (`audit list` "
                         "shows only the first 12), or name the person by badge or ID number "
                         "with --subject NUMBER (--subject - reads it from standard input)")
    return ref


def _kiosks_in_log(audit: AuditLog, ctx: Any) -> set[str]:
    """Every kiosk this log knows: this one (the settings), the kiosks of its attempts and
    those its lockouts name."""
    known = {ctx.settings.kiosk.kiosk_id}
    known.update(a.kiosk_id for a in audit.iter_attempts())
    for lk in audit.lockouts(active_only=False, limit=None):
        known.add(lk.kiosk_id)
        if lk.scope == "kiosk":
            known.add(lk.target)
    return known


def _check_kiosk(audit: AuditLog, kiosk_id: str, ctx: Any) -> None:
    """InputError unless ``kiosk_id`` is a kiosk this log or the fleet server knows.

    An unlock of a kiosk that never wrote here lifts nothing and resets no count here; it
    matters only when shipped to a fleet whose kiosks honour it. A mistyped id would be
    recorded, chained and never undone, so it is refused.
    """
    if kiosk_id == ctx.settings.kiosk.kiosk_id or audit.list_attempts(kiosk_id=kiosk_id,
                                                                       limit=1):
        return
    known = _kiosks_in_log(audit, ctx)
    if kiosk_id in known:
        return
    from kiosk.audit.fleet.errors import FleetError  # psycopg loads slowly: only when asked

    try:
        fleet = audit_fleet.fleet_kiosk_ids(ctx)
    except FleetError as exc:
        raise InputError(f"--kiosk {kiosk_id}: no such kiosk in this log (it knows "
                         f"{', '.join(sorted(known))}), and the fleet server could not be "
                         f"asked: {exc}") from None
    if fleet is not None and kiosk_id in fleet:
        return
    where = "this log or the fleet server" if fleet is not None else "this log"
    listed = ", ".join(sorted(known.union(fleet or ())))
    raise InputError(f"--kiosk {kiosk_id}: no such kiosk; the kiosks known to {where}: "
                     f"{listed}")


def _whom(args: argparse.Namespace, audit: AuditLog, ctx: Any, subject: str | None,
          ref: str | None) -> tuple[str, str]:
    """The unlock's scope and target from the one of --kiosk, --subject-ref, --subject given."""
    if args.kiosk is not None:
        _check_kiosk(audit, args.kiosk, ctx)
        return "kiosk", args.kiosk
    if ref is not None:
        return "subject", ref
    assert subject is not None  # argparse requires one of the three
    try:
        return "subject", audit.subject_ref(subject)
    except ValueError as exc:
        raise InputError(f"--subject: {exc}") from None


def _cmd_unlock(args: argparse.Namespace, ctx: Any) -> int:
    # argparse makes exactly one of --subject, --subject-ref and --kiosk required; the
    # subject's forms are checked before the log is opened (no key is needed to refuse).
    subject = _subject_number(args.subject)
    ref = _subject_ref(args.subject_ref)
    fleet = bool(ctx.settings.fleet.url)
    with _open(args, ctx, write=True, hasher=subject is not None) as audit:
        scope, target = _whom(args, audit, ctx, subject, ref)
        # Asked before the unlock is recorded, as is the key the fleet knows this kiosk by.
        key_id = key_store(ctx.settings, audit.path, create=False).subject_hasher().key_id \
            if fleet else ""
        elsewhere, unasked = audit_fleet.lockouts_elsewhere(ctx, scope, target) if fleet \
            else ([], None)
        try:
            result = audit.unlock(scope, target, actor=args.by, reason=args.reason)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        shipped = audit_fleet.ship_recorded(audit, ctx, key_id) if fleet else False
    out = ctx.stdout
    shown = target if scope == "kiosk" else audit_fleet.short_ref(target)
    print(f"unlock #{result.action_id} recorded by {args.by} for {scope} {shown}", file=out)
    for lk in result.lifted:
        print(f"  lifted lockout #{lk.id} (was until {_t(lk.until)} UTC)", file=out)
    for lk in elsewhere:
        print(f"  lockout #{lk.id} of kiosk {lk.kiosk_id} (until {_t(lk.until)} UTC): "
              + ("lifted at every kiosk" if shipped else "still refused there until the "
                 "fleet server receives this unlock (the kiosk sends it when it next can)"),
              file=out)
    if fleet and not shipped:
        print("  the fleet server did not take the unlock now"
              + (f" ({unasked})" if unasked else "") + "; it is kept and sent later", file=out)
    if not result.lifted and not elsewhere:
        print("  no lockout was in force"
              + (" (the fleet's lockouts could not be read)" if unasked else "")
              + "; the failure count starts again", file=out)
    return EXIT_OK


def _cmd_pin_reset(args: argparse.Namespace, ctx: Any) -> int:
    """End the operator PIN's refusals, as a right PIN would, recording who and why.

    A guesser's refusals grow to a day (:mod:`kiosk.operator.pin`) and refuse the right PIN
    too; staff with the kiosk's account end them here. A running kiosk keeps the count it
    holds in memory until it restarts.
    """
    with _open(args, ctx, write=True) as audit:
        wrong, until = audit.pin_state()
        action = audit.record_action("pin_accepted", actor=args.by,
                                     reason=f"PIN refusals ended by staff: {args.reason}")
    out = ctx.stdout
    said = (f"refused until {_t(until)} UTC after {wrong} wrong PIN(s)" if until is not None
            else f"{wrong} wrong PIN(s) since the last right one, no refusal in force")
    print(f"PIN refusals ended: action #{action.id} recorded by {args.by} (was: {said})",
          file=out)
    print("a running kiosk reads it when it restarts (systemctl --user restart "
          "liveness-kiosk)", file=out)
    return EXIT_OK


def _cmd_lockouts(args: argparse.Namespace, ctx: Any) -> int:
    # Checked whole first: the lockout table can sit on pages a damage spared, and "0 lockouts
    # in force" read from a damaged log would be a false all-clear.
    fleet = bool(ctx.settings.fleet.url)
    with _open(args, ctx, integrity=True) as audit:
        found = audit.lockouts(active_only=not args.all, limit=args.limit)
        now = audit.now()
        starts = audit.lockout_starts(found) if fleet else []
    # The other kiosks honour an unlock recorded at any kiosk: so does this list.
    lifted, unasked = audit_fleet.lifted_at_fleet(ctx, found, starts) if fleet else ({}, None)
    if not args.all:
        found = [lk for lk in found if lk.id not in lifted]
    out = ctx.stdout
    targets, tw = audit_fleet.lockout_targets(found)
    print(f"{'ID':>6}  {'SCOPE':7}  {'TARGET':{tw}}  {'STARTED (UTC)':19}  "
          f"{'UNTIL (UTC)':19}  {'FAILURES':>8}  STATE", file=out)
    for lk, target in zip(found, targets, strict=True):
        print(f"{lk.id:>6}  {lk.scope:7}  {target:{tw}}  {_t(lk.started_at):19}  "
              f"{_t(lk.until):19}  {lk.failures:>8}  {_lockout_state(lk, now, lifted)}",
              file=out)
    print(f"{len(found)} lockout(s){'' if args.all else ' in force'}", file=out)
    if unasked:
        print(f"the fleet server could not be asked ({unasked}): a lockout lifted at another "
              "kiosk may show as in force here", file=out)
    if fleet:
        print("every kiosk's lockouts, as the fleet sees them: `kiosk audit lockouts --fleet`",
              file=out)
    return EXIT_OK


def _cmd_actions(args: argparse.Namespace, ctx: Any) -> int:
    with _open(args, ctx) as audit:
        found = audit.operator_actions(action=args.action, since=args.since, until=args.until,
                                       limit=args.limit)
    print_actions(found, ctx.stdout)
    print(f"{len(found)} action(s), newest first", file=ctx.stdout)
    return EXIT_OK


def print_actions(actions: list[OperatorAction], out: TextIO,
                  kiosks: list[str] | None = None) -> None:
    """The table of ``kiosk audit actions`` (with a KIOSK column first when ``kiosks`` says
    where each was recorded)."""
    aw = audit_fleet.column_width("ACTION", (a.action for a in actions))
    bw = audit_fleet.column_width("BY", (a.actor for a in actions))
    about = [action_about(a.scope, a.target) for a in actions]
    tw = audit_fleet.column_width("ABOUT", about)
    kw = audit_fleet.column_width("KIOSK", kiosks or ())
    where = kiosks if kiosks is not None else [""] * len(actions)
    first = f"{'KIOSK':{kw}}  " if kiosks is not None else ""
    print(f"{first}{'ID':>6}  {'WHEN (UTC)':19}  {'ACTION':{aw}}  {'BY':{bw}}  "
          f"{'ABOUT':{tw}}  REASON: DETAIL", file=out)
    for a, what, kiosk in zip(actions, about, where, strict=True):
        detail = action_detail(a)
        lead = f"{kiosk:{kw}}  " if kiosks is not None else ""
        print(f"{lead}{a.id:>6}  {_t(a.acted_at):19}  {a.action:{aw}}  {a.actor:{bw}}  "
              f"{what:{tw}}  {a.reason}{': ' + detail if detail else ''}", file=out)


def _lockout_state(lk: Lockout, now: datetime, lifted: dict[int, tuple[str, int]]) -> str:
    """Active, expired, or lifted by an unlock here or (``lifted``) at a kiosk of the fleet."""
    if lk.lifted_by is not None:
        return f"lifted by unlock #{lk.lifted_by}"
    if lk.id in lifted:
        return audit_fleet.lifted_by(*lifted[lk.id])
    return "active" if lk.active(now) else "expired"


def _cmd_verify(args: argparse.Namespace, ctx: Any) -> int:
    anchor = None
    if args.anchor is not None:
        try:
            anchor = read_anchor(Path(args.anchor).expanduser().read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"--anchor {args.anchor}: cannot read it ({exc})") from None
    with _open(args, ctx, integrity=True, chain=True) as audit:
        report = audit.verify()
        checked = audit.check_anchor(anchor) if anchor is not None else None
        # Only the kiosk's own log is registered (not a copy given with --db).
        gap = None if args.db else unguarded(audit.path, audit.chain_head().db_id,
                                             key_file=ctx.settings.audit.key_file or None)
    out = ctx.stdout
    if not report.ok:
        print(f"chain BROKEN at {report.first_break}", file=out)
        print(f"({report.rows} row(s) checked; the recorded head is seq {report.head_seq})",
              file=out)
        return EXIT_BROKEN
    first = report.anchor_seq + 1
    print(f"chain OK: {report.rows} row(s), seq {first}-{report.head_seq}; "
          f"{report.incomplete} incomplete attempt(s)", file=out)
    print(f"head hash: {report.head_hash}", file=out)
    if not report.keyed:
        print("warning: this log is not keyed (it was never opened by a kiosk with its audit "
              "key): anyone can recompute its hashes", file=out)
    elif report.unkeyed_rows:
        print(f"note: {report.unkeyed_rows} row(s) were chained by an older kiosk before the "
              "log was keyed; only those could be recomputed without the key", file=out)
    if gap is not None:
        print(f"warning: {gap}", file=out)
    if checked is not None:
        print(f"anchor {'OK' if checked.ok else 'BROKEN'}: {checked.message}", file=out)
        if not checked.ok:
            return EXIT_BROKEN
    if args.fleet:
        with _open(args, ctx, chain=True) as audit:
            return audit_fleet.verify_with_fleet(audit, ctx)
    return EXIT_OK


def _cmd_anchor(args: argparse.Namespace, ctx: Any) -> int:
    with _open(args, ctx, integrity=True, chain=True) as audit:
        report = audit.verify()
        if not report.ok:
            raise InputError(f"the chain is broken at {report.first_break}; no anchor exported "
                             "(run `kiosk audit verify`)")
        anchor = audit.export_anchor()
    text = json.dumps(anchor, sort_keys=True) + "\n"
    if args.output is None:
        ctx.stdout.write(text)
    else:
        with _create_private(Path(args.output).expanduser()) as fh:
            fh.write(text)
        print(f"anchor of seq {anchor['seq']} written to {args.output}; keep it away from the "
              "kiosk and check later with `kiosk audit verify --anchor FILE`", file=ctx.stderr)
    return EXIT_OK


def _cmd_purge(args: argparse.Namespace, ctx: Any) -> int:
    actor = args.by or ctx.environ.get("USER") or "operator"
    with _open(args, ctx, write=True) as audit:
        result = audit.purge(args.older_than, actor=actor, reason=args.reason)
    out = ctx.stdout
    if result.held:
        print(f"kept {result.held} row(s) old enough to go: the fleet server has not received "
              "them yet (`kiosk fleet status`)", file=out)
    if result.action_id is None:
        print(f"nothing to purge before {_t(result.cutoff)} UTC", file=out)
        return EXIT_OK
    print(f"purged before {_t(result.cutoff)} UTC: {result.attempts} attempt(s), "
          f"{result.frames} frame(s), {result.lockouts} lockout(s), {result.operator_actions} "
          f"operator action(s), {result.incomplete} unfinished attempt(s)", file=out)
    print(f"chain anchor now at seq {result.anchor_seq}; purge recorded as operator action "
          f"#{result.action_id}", file=out)
    return EXIT_OK


def _cmd_keygen(args: argparse.Namespace, ctx: Any) -> int:
    path = args.key_file or ctx.settings.audit.key_file
    if not path:
        raise InputError("give --key-file PATH (or set audit.key_file in the settings)")
    target = Path(path).expanduser()
    try:
        create_key_file(target)
    except FileExistsError:
        raise InputError(f"{target} exists; a key is never overwritten (a new key cannot read "
                         "earlier frames or match earlier subjects)") from None
    except OSError as exc:
        raise InputError(f"cannot create {target}: {exc.strerror or exc}") from None
    print(f"created key file {target} (mode 0600); set audit.key_file = \"{target}\" and back "
          "it up apart from the database", file=ctx.stdout)
    return EXIT_OK


def _since_until(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=WHEN, metavar="DATE",
                        help="from this UTC date or ISO date-time (inclusive)")
    parser.add_argument("--until", type=WHEN, metavar="DATE",
                        help="up to this UTC date or ISO date-time (exclusive)")


def register(subparsers: Any) -> None:
    """Add ``kiosk audit`` and its subcommands."""
    summary = "inspect, export, verify and maintain the audit log"
    parser = subparsers.add_parser("audit", help=summary, description=summary.capitalize())
    sub = parser.add_subparsers(dest="audit_command", metavar="SUBCOMMAND", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="PATH", help="audit database (default: "
                        "audit.db_path, else kiosk.db in the platform data folder)")

    def add(name: str, func: Callable[[argparse.Namespace, Any], int],
            help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    p = add("list", _cmd_list, "list attempts, newest first")
    p.add_argument("--decision", choices=DECISION_FILTERS)
    _since_until(p)
    p.add_argument("--limit", type=POSITIVE_WHOLE_NUMBER, default=50, help="at most N rows (default 50)")
    audit_fleet.fleet_option(p, _cmd_list, audit_fleet.cmd_list, "every kiosk of the fleet "
                             "(from fleet.url)")

    p = add("show", _cmd_show, "show one attempt in full (no frame is ever printed)")
    p.add_argument("id", type=POSITIVE_WHOLE_NUMBER, metavar="ID")

    p = add("export", _cmd_export, "export attempts as CSV or JSON Lines")
    _since_until(p)
    p.add_argument("--decision", choices=DECISION_FILTERS)
    p.add_argument("--format", choices=FORMATS, default="csv")
    p.add_argument("--output", metavar="FILE", help="write to FILE (created 0600, never "
                   "overwritten) instead of standard output")

    p = add("stats", _cmd_stats, "counts by decision, reason code and day")
    _since_until(p)
    audit_fleet.fleet_option(p, _cmd_stats, audit_fleet.cmd_stats, "every kiosk of the fleet, "
                             "by kiosk")

    p = add("lockouts", _cmd_lockouts, "list the lockouts in force (--all: every lockout)")
    p.add_argument("--all", action="store_true", help="include expired and lifted ones")
    p.add_argument("--limit", type=POSITIVE_WHOLE_NUMBER, default=100, help="at most N rows (default 100)")
    audit_fleet.fleet_option(p, _cmd_lockouts, audit_fleet.cmd_lockouts, "lockouts recorded at "
                             "any kiosk of the fleet")

    p = add("actions", _cmd_actions, "list operator actions (unlocks, overrides, settings, "
            "PINs, purges) and the kiosk's own events (clock gaps, refused cameras), newest "
            "first")
    p.add_argument("--action", choices=OPERATOR_ACTIONS, help="only this kind")
    _since_until(p)
    p.add_argument("--limit", type=POSITIVE_WHOLE_NUMBER, default=50, help="at most N rows "
                   "(default 50)")
    audit_fleet.fleet_option(p, _cmd_actions, audit_fleet.cmd_actions, "those recorded at "
                             "any kiosk of the fleet")

    p = add("unlock", _cmd_unlock, "lift a lockout early, recording who and why: give "
            "--subject, --subject-ref or --kiosk")
    whom = p.add_mutually_exclusive_group(required=True)
    whom.add_argument("--subject", metavar="NUMBER", help="the person's badge or ID number "
                      "('-' reads it from standard input, keeping it out of the shell history)")
    whom.add_argument("--subject-ref", metavar="REF", help="a subject reference as shown by "
                      "'audit show' (64 hex digits)")
    whom.add_argument("--kiosk", metavar="KIOSK_ID", help="lift the lockout of this kiosk "
                      "(one that wrote to this log, or with a fleet one the server knows)")
    p.add_argument("--by", required=True, metavar="NAME", help="operator name (recorded)")
    p.add_argument("--reason", required=True, metavar="TEXT", help="why (recorded)")

    p = add("pin-reset", _cmd_pin_reset, "end the operator PIN's refusals after wrong "
            "entries, as a right PIN would, recording who and why")
    p.add_argument("--by", required=True, metavar="NAME", help="operator name (recorded)")
    p.add_argument("--reason", required=True, metavar="TEXT", help="why (recorded)")

    p = add("verify", _cmd_verify, "check the hash chain and the file; exit 1 naming the "
            "first broken row")
    p.add_argument("--anchor", metavar="FILE", help="also check that the log still holds the "
                   "head exported earlier by `kiosk audit anchor` into FILE")
    p.add_argument("--fleet", action="store_true", help="also compare the chain with the fleet "
                   "server's copy and name the first row that differs")

    p = add("anchor", _cmd_anchor, "export the chain's head (sequence, hash, MAC) to keep "
            "elsewhere; `verify --anchor` checks it later")
    p.add_argument("--output", metavar="FILE", help="write to FILE (created 0600, never "
                   "overwritten) instead of standard output")

    p = add("purge", _cmd_purge, "remove rows older than a given age; the chain stays "
            "verifiable")
    p.add_argument("--older-than", type=DURATION, required=True, metavar="AGE",
                   help="e.g. 30d, 12h, 2w")
    p.add_argument("--by", metavar="NAME", help="operator name (default: $USER)")
    p.add_argument("--reason", default="manual purge", metavar="TEXT")

    p = add("new-log", lambda args, ctx: audit_new_log.run(_db_path(args, ctx), args, ctx),
            "begin a new log in place of one that is lost for good "
            "(the kiosk refuses to start while its log is missing); the loss is recorded")
    p.add_argument("--by", required=True, metavar="NAME", help="operator name (recorded)")
    p.add_argument("--reason", required=True, metavar="TEXT", help="why, e.g. what happened to "
                   "the old log (recorded)")

    p = add("keygen", _cmd_keygen, "create a new key file for subject references and frames")
    p.add_argument("--key-file", metavar="PATH", help="where (default: audit.key_file)")
