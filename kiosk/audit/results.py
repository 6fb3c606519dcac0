"""What the audit log returns: stored rows and the outcome of its operations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kiosk.audit.records import AttemptRecord


@dataclass(frozen=True)
class StoredAttempt:
    """One attempt row as stored.

    Attributes
    ----------
    id : int
        The attempt id (``kiosk audit show ID``); never reused, even after a purge.
    status : str
        ``"complete"`` or ``"incomplete"`` (begun, not finished yet, not chained yet).
    kiosk_id, started_at, subject_ref :
        Known from the start of the attempt.
    seq, recorded_at, row_hash :
        Position in the hash chain and the log's clock at commit; None while incomplete.
    has_frame : bool
        An encrypted best frame is stored with it.
    record : AttemptRecord or None
        The full record; None while incomplete.
    scripted : bool
        A scripted evaluation run (``kiosk verify --script``), never a verification.
    accessible : bool
        The person chose the accessible check (``attempts.variant``).
    camera : dict or None
        The camera or recording the frames came from (``attempts.camera``, see
        :func:`kiosk.audit.records.check_camera`); None when not known.
    """

    id: int
    status: str
    kiosk_id: str
    started_at: datetime
    subject_ref: str | None
    seq: int | None
    recorded_at: datetime | None
    row_hash: str | None
    has_frame: bool
    record: AttemptRecord | None
    scripted: bool = False
    accessible: bool = False
    camera: Mapping[str, Any] | None = None

    @property
    def decision(self) -> str:
        """The decision, or ``"incomplete"``."""
        return self.record.decision if self.record is not None else "incomplete"


@dataclass(frozen=True)
class Outcome:
    """A finished verification's decision and reason codes, for counting (the operator
    panel's charts): read without rebuilding its whole record, which cost 0.5 ms an attempt
    (10 s for a month of a busy kiosk's charts)."""

    id: int
    started_at: datetime
    decision: str
    reasons: tuple[str, ...]


SCRIPTED_NOTE = "a scripted evaluation run (kiosk verify --script), not a verification"
"""What staff read about an attempt whose prompts were given in advance."""


ACCESSIBLE_NOTE = "the accessible check, chosen by the person"
"""What staff read about an attempt on the accessible check (longer windows, its own prompt
count, no light step)."""


def step_note(paused_s: float, retry: bool) -> str:
    """What staff read beside a prompt: ``second chance`` and ``paused 1.2 s`` (the timer
    stood still while the face was not placed), or an empty string."""
    notes = (["second chance"] if retry else []) + (
        [f"paused {paused_s:.1f} s"] if paused_s > 0 else [])
    return ", ".join(notes)


def camera_text(camera: Mapping[str, Any] | None) -> str:
    """Where an attempt's frames came from, as staff read it: ``/dev/video0 'HD Webcam C615'
    uvcvideo usb 046d:0825`` (then whether it was flagged virtual and let through),
    ``video file clip.mp4``, or ``not recorded`` (before schema 8, or not known)."""
    if camera is None:
        return "not recorded"
    if camera["kind"] != "camera":
        return f"{camera['kind']} {camera['name']}"
    name = [repr(camera["name"])] if "name" in camera else []
    text = " ".join([camera["device"], *name,
                     *(camera[key] for key in ("driver", "bus", "usb") if key in camera)])
    if "virtual" in camera:
        text += f"; flagged virtual: {camera['virtual']}"
    if camera.get("allow_virtual"):
        text += "; let through by camera.allow_virtual" if "virtual" in camera else \
            "; camera.allow_virtual was on"
    return text


def action_about(scope: str | None, target: str | None) -> str:
    """What an operator action or lockout is about: ``person 3f2a9c01d4e5``, ``attempt 12``,
    ``kiosk desk-1``, or ``-``."""
    if scope == "subject" and target:
        return f"person {target[:12]}"
    if scope == "attempt":
        return f"attempt {target}"
    return f"{scope} {target}" if scope else "-"


def action_detail(action: OperatorAction) -> str:
    """The details of an operator action or kiosk event in one line for staff (``pass ->
    fail``, ``2 lockout(s) lifted``, the refused camera, the clock gap), or ``""``."""
    d = action.details
    if action.action == "override":
        return f"{d.get('from')} -> {d.get('to')}"
    if action.action == "settings":
        return ", ".join(f"{k} {v[0]} -> {v[1]}" for k, v in d.items()
                         if isinstance(v, list) and len(v) == 2)
    if action.action == "unlock":
        return f"{len(d.get('lifted', []))} lockout(s) lifted"
    if action.action == "pin_refused":
        # Since the last right PIN: refusals do not restart the count (kiosk.operator.pin).
        return f"{d.get('in_a_row')} since the last right PIN" + (
            f", refused for {d['refusal_s'] / 60:g} min" if d.get("refused")
            and isinstance(d.get("refusal_s"), int | float) else "")
    if action.action == "log_replaced":
        return f"begun in place of lost log {str(d.get('lost_log'))[:8]}"
    if action.action == "camera_refused" and "kind" in d:
        return camera_text(d)
    if action.action == "clock":
        return f"{d.get('kind')}, {d.get('gap_s')} s"
    return ""


def decision_label(decision: str, scripted: bool) -> str:
    """A decision as staff read it in lists: ``pass (scripted)`` for an evaluation run."""
    return f"{decision} (scripted)" if scripted else decision


@dataclass(frozen=True)
class Lockout:
    """A lockout started by too many failures.

    ``scope`` is ``"subject"`` (``target`` is a subject reference) or ``"kiosk"`` (``target``
    is a kiosk id). ``lifted_by`` is the id of the operator unlock that ended it early, if any.
    """

    id: int
    seq: int
    scope: str
    target: str
    kiosk_id: str
    started_at: datetime
    until: datetime
    failures: int
    attempt_id: int | None
    lifted_by: int | None = None

    def active(self, now: datetime) -> bool:
        """In force at ``now``: not lifted and not yet expired."""
        return self.lifted_by is None and now < self.until


@dataclass(frozen=True)
class OperatorAction:
    """An operator action with who did it and why.

    ``action`` is ``unlock``, ``purge``, ``override`` (scope ``"attempt"``, target the
    attempt id, details ``{"from", "to"}``), ``settings`` (details: key to ``[old, new]``),
    ``pin_refused`` (a wrong operator PIN; the PIN is never stored), or one of the events
    the kiosk records by itself (actor ``kiosk``): ``clock``, ``log_replaced``,
    ``camera_refused`` (details: the refused camera as an attempt's ``camera`` records one).
    """

    id: int
    seq: int
    acted_at: datetime
    action: str
    actor: str
    reason: str
    scope: str | None
    target: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class RecordResult:
    """A committed attempt: its id, chain position and any lockouts it started."""

    attempt_id: int
    seq: int
    row_hash: str
    lockouts: tuple[Lockout, ...] = ()


@dataclass(frozen=True)
class UnlockResult:
    """A recorded operator unlock and the lockouts it lifted (possibly none)."""

    action_id: int
    lifted: tuple[Lockout, ...]


@dataclass(frozen=True)
class PurgeResult:
    """What a purge removed.

    ``cutoff`` is the effective cut (rows recorded before it may go); ``anchor_seq`` the last
    chain position removed; ``action_id`` the recorded purge (its last step's), None when
    nothing was removed; ``held`` the chained rows old enough to go that stayed because the
    fleet server has not acknowledged them yet; ``steps`` how many transactions, each
    recorded, the purge took.
    """

    cutoff: datetime
    anchor_seq: int
    attempts: int
    lockouts: int
    operator_actions: int
    frames: int
    incomplete: int
    action_id: int | None
    held: int = 0
    steps: int = 1

    @property
    def removed(self) -> int:
        return self.attempts + self.lockouts + self.operator_actions + self.incomplete


@dataclass(frozen=True)
class ChainBreak:
    """The first row where the hash chain fails, and why (a plain sentence)."""

    table: str
    row_id: int | None
    seq: int | None
    problem: str

    def __str__(self) -> str:
        where = f"{self.table} #{self.row_id}" if self.row_id is not None else self.table
        at = f" (seq {self.seq})" if self.seq is not None else ""
        return f"{where}{at}: {self.problem}"


@dataclass(frozen=True)
class VerifyReport:
    """Result of walking the hash chain.

    ``rows`` counts the chained rows checked; ``incomplete`` the unchained, still-open attempts
    (not an error); ``head_seq``/``head_hash`` the recorded head; ``anchor_seq`` the last purged
    position (0 when nothing was purged). ``keyed`` is False for a log never keyed (anyone can
    recompute its hashes); ``unkeyed_rows`` counts checked rows chained before the log was
    keyed (an older kiosk's rows); ``first_checked`` is set when only a recent range was
    checked (the start-up check).
    """

    ok: bool
    rows: int
    head_seq: int
    head_hash: str
    anchor_seq: int
    incomplete: int
    first_break: ChainBreak | None = None
    keyed: bool = False
    unkeyed_rows: int = 0
    first_checked: int | None = None


@dataclass(frozen=True)
class ClockReport:
    """A clock the log does not trust, reported at start or when noticed while running.

    ``kind`` is ``"start"`` (the clock at start against the last recorded time) or ``"jump"``
    (the wall clock moved differently from the monotonic clock while the kiosk ran);
    ``gap_s`` is positive when the clock is ahead, negative when it went back.
    """

    kind: str
    last_recorded: datetime
    now: datetime
    gap_s: float
    action_id: int | None = None

    def __str__(self) -> str:
        way = "ahead of" if self.gap_s > 0 else "behind"
        return (f"the clock ({self.now.isoformat(timespec='seconds')}) is "
                f"{_span(abs(self.gap_s))} {way} the last recorded time "
                f"({self.last_recorded.isoformat(timespec='seconds')})"
                + (" at start" if self.kind == "start" else " after a jump while running"))


def _span(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.1f} hours"
    if seconds >= 120:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds:.0f} s"


@dataclass(frozen=True)
class AuditStats:
    """Counts over completed attempts in a time range.

    ``by_day`` maps an ISO date (UTC, of ``started_at``) to counts by decision, as recorded;
    ``overrides`` counts the staff overrides made in the range (an override is an operator
    action: the attempt's row keeps its decision). Scripted evaluation runs are not people
    served: they are counted in ``scripted`` only.
    """

    total: int
    by_decision: dict[str, int]
    by_reason: dict[str, int]
    by_day: dict[str, dict[str, int]]
    incomplete: int
    lockouts: int
    unlocks: int
    since: datetime | None = None
    until: datetime | None = None
    scripted: int = 0
    overrides: int = 0
