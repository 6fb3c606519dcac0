"""Whole-session evaluation: the kiosk's own session run over labelled recordings.

Three kinds of session per recording (``kiosk evaluate MANIFEST --sessions``):

- **scripted** (bona fide videos with labelled actions only): prompts placed
  :data:`LEAD_S` before up to :data:`MOST_PROMPTS` labelled challenge actions that start
  :data:`EARLIEST_S` or more into the recording (the placement and the baseline come first).
  The recorded person did those actions, so a good session passes: the pass rate measures
  the whole chain (tracking, detectors, timing rules, passive liveness) on real people.
- **random**: the kiosk's real session, prompts drawn at random (seeded), placement gate and
  second chance included. A recording cannot answer prompts it could not know, so these
  sessions must never pass, whatever the label.
- **random_placed**: the same random session with the placement gate taken as met whenever
  one face is in view, started at a random point of the recording. Many recordings never
  satisfy the oval (a selfie filling a portrait frame), so their random sessions end before
  any prompt and test nothing about answering; an attacker would hold the phone where the
  oval wants it, and starts the replay whenever they like. These sessions put the prompts to
  every recording, and must never pass either.

Sessions are liveness only (no face match) and touch no database. Each one tracks the
recording from its first frame (a ``random_placed`` one from its random start) with a fresh
tracker and fresh analyzers, exactly as :class:`kiosk.session.Verifier` runs at the kiosk.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.analysis.challenges.actions import CHALLENGE_ACTIONS, HEAD_ACTIONS
from kiosk.lab.events_eval import parse_events
from kiosk.lab.manifest import ManifestRow
from kiosk.reasons import Reason
from kiosk.vocabulary import ChallengeStatus, Verdict

LEAD_S = 0.5
"""Seconds between a scripted prompt and the labelled start of its action (a prompt the
person answers after a natural reaction time)."""

EARLIEST_S = 1.3
"""Labelled actions starting sooner than this after the first frame are not scripted: the
session needs its baseline (``liveness.baseline_s``) before the first prompt."""

MOST_PROMPTS = 3
"""Prompts per scripted session, at most (the kiosk asks three)."""

RANDOM_SEEDS = 5
"""Random-prompt sessions per recording by default (of each random kind)."""

START_TAIL_S = 6.0
"""A ``random_placed`` session starts at a uniformly random frame, but at least this long
before the recording ends: the baseline (1 s) and one whole response window (4 s) fit."""

RANDOM_KINDS = {"random": "random-prompt sessions",
                "random_placed": "random-prompt sessions taken as placed, random start"}
"""The random kinds and how the report names them."""


@dataclass(frozen=True)
class SessionRun:
    """One evaluated session.

    Attributes
    ----------
    key : str
        The manifest row's key (path, and ``#frames`` for a segment).
    label, species, subject : str
        From the manifest row.
    kind : str
        ``"scripted"``, ``"random"`` or ``"random_placed"``.
    seed : int or None
        The random draw's seed (random sessions).
    script : tuple of (str, float)
        The prompts and their media times (scripted sessions; empty for random ones).
    decision : str
        ``pass``, ``fail`` or ``review``.
    reasons : tuple of str
        The decision's reason codes.
    challenges : tuple of dict
        ``{"action", "outcome", "reason"}`` per prompt shown.
    liveness_score : float or None
    start_s : float or None
        Media time of the first frame the session saw (``random_placed`` sessions start
        inside the recording).
    """

    key: str
    label: str
    species: str
    subject: str
    kind: str
    seed: int | None
    script: tuple[tuple[str, float], ...]
    decision: str
    reasons: tuple[str, ...]
    challenges: tuple[dict[str, Any], ...]
    liveness_score: float | None
    start_s: float | None = None

    @property
    def passed(self) -> bool:
        return self.decision == Verdict.PASS

    @property
    def prompted(self) -> bool:
        """At least one prompt was shown (the session got past placement and baseline)."""
        return any(c["outcome"] != ChallengeStatus.NOT_SHOWN for c in self.challenges)

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "species": self.species,
                "subject": self.subject, "kind": self.kind, "seed": self.seed,
                "script": ",".join(f"{a}@{t:.2f}" for a, t in self.script),
                "decision": self.decision, "reasons": list(self.reasons),
                "challenges": list(self.challenges), "liveness_score": self.liveness_score,
                "start_s": self.start_s}


@dataclass
class SessionPlan:
    """The sessions to run on one manifest row."""

    row: ManifestRow
    scripted: bool
    seeds: list[int] = field(default_factory=list)


def scripted_prompts(events: str, first_t: float = 0.0, *, lead_s: float = LEAD_S,
                     earliest_s: float = EARLIEST_S, most: int = MOST_PROMPTS,
                     baseline_s: float = 1.0,
                     actions: Iterable[str] = CHALLENGE_ACTIONS) -> tuple[tuple[str, float], ...]:
    """The script for a recording's labelled events.

    Parameters
    ----------
    events : str
        The manifest's ``events`` cell (``action@start-end;...``, media times).
    first_t : float
        Media time of the recording's (or segment's) first frame.
    lead_s, earliest_s, most : float, float, int
        See :data:`LEAD_S`, :data:`EARLIEST_S`, :data:`MOST_PROMPTS`.
    baseline_s : float
        The session's baseline before the first prompt (``liveness.baseline_s``).
    actions : iterable of str
        The actions the kiosk can ask for; other labels (winks, looks, talking) are skipped.

    Returns
    -------
    tuple of (action, prompt time)
        In time order; empty when no labelled action qualifies. A person at the kiosk does
        one thing at a time, so an action is skipped when its prompt would come before the
        previous chosen action has ended (the kiosk shows the next prompt only after the
        last answer), or when another labelled head movement (a turn or look that is
        not the one asked) overlaps the time from its prompt to its end: asked to blink while looking down on purpose, the person
        would fail the kiosk's wrong-movement rule, rightly. The first prompt also needs
        ``baseline_s`` without a labelled head movement somewhere before it (the session's
        baseline is a steady second facing the camera).
    """
    askable = frozenset(actions)
    labels = sorted(parse_events(events), key=lambda lb: lb.start)
    heads = [lb for lb in labels if lb.action in HEAD_ACTIONS]

    def still_for(until: float) -> float:
        """Longest stretch in [first_t, until] without a labelled head movement."""
        longest, free_from = 0.0, first_t
        for lb in heads:
            if lb.start >= until:
                break
            longest = max(longest, lb.start - free_from)
            free_from = max(free_from, lb.end)
        return max(longest, until - free_from)

    chosen: list = []
    for label in labels:
        if label.action not in askable or label.start < first_t + earliest_s:
            continue
        prompt = label.start - lead_s
        if chosen and prompt < chosen[-1].end:
            continue
        if not chosen and still_for(prompt) < baseline_s:
            continue  # no steady second for the baseline before the first prompt
        if any(other is not label and other not in chosen and other.start <= label.end
               and other.end >= prompt for other in heads):
            continue
        chosen.append(label)
        if len(chosen) == most:
            break
    return tuple((lb.action, round(lb.start - lead_s, 3)) for lb in chosen)


def plan_sessions(rows: Sequence[ManifestRow], seeds: int = RANDOM_SEEDS,
                  first_seed: int = 0, baseline_s: float = 1.0) -> list[SessionPlan]:
    """Which sessions to run: every usable recording gets ``seeds`` random sessions (seeds
    ``first_seed + 1000 * k + i`` for the i-th recording); bona fide recordings whose labels
    give a script (:func:`scripted_prompts`) get a scripted one too. Stills and overlay rows
    are left out (a still cannot answer a prompt; see the manifest's rules for overlays).

    A segment's script depends on its first frame's time, known only once it is read:
    segments with labelled challenge actions are planned and :func:`run_session` decides.
    """
    plans = []
    for i, row in enumerate(r for r in rows if not r.still and not r.overlay):
        scripted = row.label == "bona_fide" and (
            bool(scripted_prompts(row.events, baseline_s=baseline_s)) if row.frame_range is None
            else any(lb.action in CHALLENGE_ACTIONS for lb in parse_events(row.events)))
        plans.append(SessionPlan(row, scripted, [first_seed + 1000 * k + i
                                                 for k in range(seeds)]))
    return plans


def random_start(path: Path, first: int, last: int | None, rng: random.Random) -> int:
    """A uniformly random first frame in ``[first, last]``, at least :data:`START_TAIL_S`
    before the end (``first`` when the recording is shorter or its length unknown)."""
    from kiosk.camera import open_source

    with open_source(str(path), paced=False) as source:
        count, fps = getattr(source, "frame_count", None), source.fps
    end = last if last is not None else (None if count is None else count - 1)
    if end is None or fps <= 0:
        return first
    latest = end - int(round(START_TAIL_S * fps))
    return rng.randint(first, latest) if latest > first else first


def run_session(path: Path, row: ManifestRow, *, settings: Any, fusion: Any,
                analyzers: Callable[[], list], seed: int | None = None,
                placed: bool = False, accessible: bool = False,
                sequence: Any = None) -> SessionRun | None:
    """Run one session of ``row`` (scripted when ``seed`` is None, random otherwise).

    ``placed`` makes a random session ``random_placed`` (see the module docstring): it starts
    at :func:`random_start` (drawn from the seed) and takes one face in view as placed.
    ``accessible`` runs the accessible check a person can choose (longer windows, its own
    prompt count, no light step).

    ``sequence``, the LightSequence the recording was filmed with (media time), runs the
    session's light step against it; without one a file has no light step (nor in a
    ``random_placed`` session, whose random start falls anywhere in the sequence).

    Returns None for a scripted session of a segment whose labels give no script.

    Raises
    ------
    InputError, CameraError
        The recording cannot be decoded.
    """
    from kiosk.analysis.face import FaceTracker
    from kiosk.camera import open_source
    from kiosk.errors import InputError
    from kiosk.session import SessionRequest, Verifier
    from kiosk.session.light import RecordedLight

    if placed and seed is None:
        raise ValueError("a random_placed session needs a seed")
    first, last = row.frame_range or (0, None)
    if placed:
        first = random_start(path, first, last, random.Random(f"start-{seed}"))
        sequence = None
    with open_source(str(path), paced=False, start=first, end=last) as source, \
            FaceTracker() as tracker:
        head = source.read()
        if head is None:
            raise InputError(f"{path} has no decodable frames")
        script: tuple[tuple[str, float], ...] = ()
        if seed is None:
            script = scripted_prompts(row.events, head.t,
                                      baseline_s=float(settings.liveness.baseline_s))
            if not script:
                return None
        verifier = Verifier(settings, tracker=tracker, fusion=fusion, analyzers=analyzers,
                            rng=None if seed is None else random.Random(seed))
        session = verifier.session(itertools.chain([head], source),
                                   SessionRequest(script=script or None, light=None if sequence
                                                  is None else RecordedLight(sequence),
                                                  assume_placed=placed, accessible=accessible))
        try:
            while True:
                next(session)
        except StopIteration as stop:
            decision = stop.value
    return SessionRun(
        key=row.key, label=row.label, species=row.species, subject=row.subject,
        kind="scripted" if seed is None else "random_placed" if placed else "random",
        seed=seed, script=script,
        decision=str(decision.decision), reasons=tuple(str(r) for r in decision.reasons),
        challenges=tuple({"action": c["action"], "outcome": c["outcome"],
                          "reason": c.get("reason")} for c in decision.challenges),
        liveness_score=decision.liveness_score, start_s=head.t if placed else None)


def _rate(passed: int, total: int) -> float | None:
    return None if total == 0 else round(passed / total, 4)


def _group(runs: Sequence[SessionRun], key: Callable[[SessionRun], str]) -> dict[str, dict]:
    groups: dict[str, list[SessionRun]] = {}
    for run in runs:
        groups.setdefault(key(run), []).append(run)
    return {name: {"sessions": len(g), "prompted": sum(r.prompted for r in g),
                   "passed": sum(r.passed for r in g),
                   "pass_rate": _rate(sum(r.passed for r in g), len(g))}
            for name, g in sorted(groups.items())}


def session_metrics(runs: Sequence[SessionRun], failed: Sequence[dict] = (),
                    target: float = 0.95, accessible: bool = False,
                    liveness: Any = None) -> dict[str, Any]:
    """The report: pass rates per kind, label and species; every failure with its reasons.

    ``scripted.meets_target`` is True when at least ``target`` of the bona fide scripted
    sessions pass; ``random.meets_target`` (``random_placed.meets_target``) when no session of
    that kind passes. With ``liveness`` (the sessions' effective liveness settings) each
    random kind also says how often a recording that answers prompts at its measured rates
    would get through the drawn prompts alone (``chance_pass``, see :func:`chance_of_passing`).
    """
    scripted = [r for r in runs if r.kind == "scripted"]
    passed = sum(r.passed for r in scripted)
    # Failures to acquire: a capture too slow to judge (a camera that slow puts the kiosk
    # out of service, so no person would start a session). Counted in the target all the
    # same; reported apart so the rate over the sessions the kiosk judged is seen too.
    judged = _judged(scripted)
    reasons = Counter(code for r in runs if not r.passed for code in r.reasons[:1])
    return {
        "protocol": {"lead_s": LEAD_S, "earliest_s": EARLIEST_S, "most_prompts": MOST_PROMPTS,
                     "accessible": accessible},
        "scripted": {
            "sessions": len(scripted), "passed": passed, "pass_rate": _rate(passed,
                                                                           len(scripted)),
            "target": target, "meets_target": bool(scripted) and passed >= target * len(
                scripted),
            "not_judged": len(scripted) - len(judged),
            "pass_rate_judged": _rate(sum(r.passed for r in judged), len(judged)),
            "by_action": _by_action(judged),
            "by_subject": _group(scripted, lambda r: r.subject or r.key),
            "failures": [r.as_dict() for r in scripted if not r.passed]},
        **{kind: _random_block([r for r in runs if r.kind == kind], liveness)
           for kind in RANDOM_KINDS},
        "first_failure_reasons": dict(reasons.most_common()),
        "failed": list(failed),
    }


def chance_of_passing(by_action: dict[str, dict], liveness: Any) -> float:
    """How often a recording answering each prompt at the rate measured for its action would
    get through the kiosk's drawn prompts and second chances alone (exact over the draw,
    :func:`~kiosk.analysis.challenges.draw.chance_pass`; an action never shown counts as
    never answered). The light and passive checks come on top.

    Parameters
    ----------
    by_action : dict
        A random kind's ``by_action`` block (``asked`` and ``passed`` per action).
    liveness : LivenessSettings
        The sessions' effective settings (prompt count, window, second chances).
    """
    from kiosk.analysis.challenges.draw import askable, chance_pass

    rates = {a: c["passed"] / c["asked"] for a, c in by_action.items() if c["asked"]}
    pool = askable(CHALLENGE_ACTIONS, float(liveness.response_window_s))
    return chance_pass(rates, int(liveness.challenge_count), pool, int(liveness.retries))


def _random_block(runs: Sequence[SessionRun], liveness: Any = None) -> dict[str, Any]:
    """One random kind's report: passes (the target is none), prompts reached, reasons."""
    passes = [r for r in runs if r.passed]
    by_action = _by_action(_judged(runs), shown_only=True)
    return {
        "sessions": len(runs), "passed": len(passes),
        # Sessions that got as far as a prompt: the others ended at placement or baseline,
        # which says nothing about answering prompts.
        "prompted": sum(r.prompted for r in runs),
        "meets_target": not passes,
        "by_label": _group(runs, lambda r: r.species or r.label),
        # Prompts actually shown, and how many the recording answered by chance.
        "by_action": by_action,
        "chance_pass": None if liveness is None or not by_action else round(
            chance_of_passing(by_action, liveness), 5),
        "passes": [r.as_dict() for r in passes],
        "first_reasons": dict(Counter(r.reasons[0] if r.reasons else "-"
                                      for r in runs if not r.passed).most_common())}


def _judged(runs: Sequence[SessionRun]) -> list[SessionRun]:
    """The sessions the kiosk judged. A capture too slow to judge ends its session once the
    rate shows (:mod:`kiosk.analysis.capture`), before or during its first prompt: its
    prompts say nothing about answering them, so the prompt figures leave them out."""
    return [r for r in runs if Reason.CAPTURE_TOO_SLOW not in r.reasons]


def _by_action(runs: Sequence[SessionRun], shown_only: bool = False) -> dict[str, dict]:
    """Per action: how often it was asked (drawn, or with ``shown_only`` shown) and answered."""
    asked: Counter[str] = Counter()
    answered: Counter[str] = Counter()
    for run in runs:
        for challenge in run.challenges:
            if shown_only and challenge["outcome"] == ChallengeStatus.NOT_SHOWN:
                continue
            asked[challenge["action"]] += 1
            answered[challenge["action"]] += challenge["outcome"] == ChallengeStatus.PASSED
    return {a: {"asked": asked[a], "passed": answered[a], "rate": _rate(answered[a], asked[a])}
            for a in sorted(asked)}
