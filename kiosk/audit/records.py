"""The attempt record: what the session hands to the audit log at the end of an attempt.

:class:`AttemptRecord` is validated on construction so a bad value fails where it is made,
not later inside a database transaction. Its rules also protect privacy: the subject is only
ever a keyed hash (64 hex digits, see :func:`kiosk.audit.keys.subject_ref`), reason and
outcome codes are short tokens rather than free text, and signal details are flat scalars, so
no ID number, image or embedding can reach the log through this type.
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kiosk.audit.timeutil import require_aware
from kiosk.model import Signal
from kiosk.vocabulary import Verdict

DECISIONS: tuple[str, ...] = tuple(Verdict)
"""Final decisions. Only ``fail`` counts towards a lockout."""

CODE_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
HEX64_PATTERN = re.compile(r"^[0-9a-f]{64}$")
MAX_DETAILS = 32
MAX_TEXT = 200
MAX_PAUSED_S = 3600.0  # a prompt's pause lies within its session's bound, far below this

_CHALLENGE_KEYS = {"action", "prompted_at", "responded_at", "outcome", "confidence", "reason",
                   "paused_s", "retry"}
_SIGNAL_KEYS = {"score", "confidence", "reason", "details"}
_MATCH_KEYS = {"matcher", "similarity", "matched", "reasons"}

CAMERA_KINDS: tuple[str, ...] = ("camera", "video file", "image folder")
"""Values of ``camera["kind"]``: a live device, or a recording (``--source``,
``kiosk verify``)."""
MAX_CAMERA_TEXT = 1000  # the virtual-camera rules a device matched can fill a few sentences
_LIVE_CAMERA_KEYS = {"kind", "device", "name", "driver", "bus", "usb", "virtual", "allow_virtual"}
_RECORDING_KEYS = {"kind", "name"}


def check_code(value: Any, name: str) -> str:
    """A short machine code (letters, digits, ``_.:-``, 1-64 characters)."""
    if not isinstance(value, str) or not CODE_PATTERN.match(value):
        raise ValueError(f"{name} must be a code of 1-64 letters, digits or _.:- characters, "
                         f"got {value!r}")
    return value


WORD_JOINERS = frozenset("\u200c\u200d\u00a0\u202f")
"""Characters ``str.isprintable`` refuses that names and sentences need: the zero-width
non-joiner and joiner (Persian, Urdu, Kurdish and Indic names; emoji sequences) and the
no-break spaces (French typography, text pasted from documents). Direction overrides, line
breaks and other controls stay refused: they can disguise what a record says."""


def refused_character(text: str) -> str | None:
    """The first character of ``text`` a one-line label cannot hold, named as
    ``U+202E (RIGHT-TO-LEFT OVERRIDE)``; None when it can hold every one."""
    for ch in text:
        if not ch.isprintable() and ch not in WORD_JOINERS:
            return f"U+{ord(ch):04X} ({unicodedata.name(ch, 'a control character')})"
    return None


def check_label(value: Any, name: str, limit: int = 64) -> str:
    """A non-empty one-line string of at most ``limit`` characters, printable but for the
    :data:`WORD_JOINERS`."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    if len(value) > limit:
        raise ValueError(f"{name} is {len(value)} characters long; at most {limit} are allowed")
    if (refused := refused_character(value)) is not None:
        raise ValueError(f"{name} holds {refused}, which a one-line record cannot hold")
    return value


def check_number(value: Any, name: str, low: float | None = None,
                 high: float | None = None) -> float:
    """A finite real number (ints and numpy scalars accepted), optionally within a range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {number}")
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValueError(f"{name} must be between {low:g} and {high:g}, got {number:g}")
    return number


def check_subject_ref(value: Any, name: str = "subject_ref") -> str | None:
    """None or 64 lower-case hex digits: a keyed hash, never an ID number."""
    if value is None:
        return None
    if not isinstance(value, str) or not HEX64_PATTERN.match(value):
        raise ValueError(f"{name} must be the 64-hex-digit keyed hash from subject_ref(), "
                         "never the ID number itself")
    return value


def _check_keys(mapping: Any, allowed: set[str], required: set[str], name: str) -> None:
    if not isinstance(mapping, Mapping):
        raise ValueError(f"{name} must be a mapping, got {type(mapping).__name__}")
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise ValueError(f"{name} has unknown keys {unknown}; allowed: {sorted(allowed)}")
    missing = sorted(required - set(mapping))
    if missing:
        raise ValueError(f"{name} lacks keys {missing}")


def _optional(value: Any, check: Any, *args: Any) -> Any:
    return None if value is None else check(value, *args)


def _scalar(value: Any, name: str) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return check_number(value, name)
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise ValueError(f"{name} is longer than {MAX_TEXT} characters")
        return value
    raise ValueError(f"{name} must be a number, string, bool or None (no arrays: images and "
                     f"embeddings never enter the audit log), got {type(value).__name__}")


def _challenge(item: Any, i: int) -> dict[str, Any]:
    name = f"challenges[{i}]"
    _check_keys(item, _CHALLENGE_KEYS, {"action", "prompted_at", "outcome"}, name)
    return {
        "action": check_code(item["action"], f"{name}.action"),
        "prompted_at": require_aware(item["prompted_at"], f"{name}.prompted_at"),
        "responded_at": _optional(item.get("responded_at"), require_aware,
                                  f"{name}.responded_at"),
        "outcome": check_code(item["outcome"], f"{name}.outcome"),
        "confidence": _optional(item.get("confidence"), check_number, f"{name}.confidence"),
        "reason": _optional(item.get("reason") or None, check_code, f"{name}.reason"),
        # Kept only when they say something, so a row without them reads as before schema 7.
        **_challenge_extras(item, name),
    }


def _challenge_extras(item: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A prompt's paused seconds (its timer stood still while the face was not placed) when
    above 0, and ``retry`` when it was a second chance."""
    extras: dict[str, Any] = {}
    paused = item.get("paused_s")
    if paused is not None and check_number(paused, f"{name}.paused_s", 0.0, MAX_PAUSED_S) > 0:
        extras["paused_s"] = float(paused)
    retry = item.get("retry", False)
    if not isinstance(retry, bool):
        raise ValueError(f"{name}.retry must be a bool, got {retry!r}")
    if retry:
        extras["retry"] = True
    return extras


def _signal(signal_name: str, value: Any) -> dict[str, Any]:
    name = f"signals[{signal_name!r}]"
    if isinstance(value, Signal):
        value = {"score": value.score, "confidence": value.confidence, "reason": value.reason,
                 "details": value.details}
    _check_keys(value, _SIGNAL_KEYS, {"score", "confidence"}, name)
    details = value.get("details") or {}
    if not isinstance(details, Mapping) or len(details) > MAX_DETAILS:
        raise ValueError(f"{name}.details must be a mapping of at most {MAX_DETAILS} entries")
    return {
        "score": check_number(value["score"], f"{name}.score"),
        "confidence": check_number(value["confidence"], f"{name}.confidence"),
        "reason": _optional(value.get("reason") or None, check_code, f"{name}.reason"),
        "details": {check_code(k, f"{name}.details key"): _scalar(v, f"{name}.details[{k!r}]")
                    for k, v in sorted(details.items())},
    }


def _match(value: Any) -> dict[str, Any]:
    _check_keys(value, _MATCH_KEYS, {"matcher", "matched"}, "match")
    if not isinstance(value["matched"], bool):
        raise ValueError(f"match.matched must be a bool, got {value['matched']!r}")
    return {
        "matcher": check_code(value["matcher"], "match.matcher"),
        "similarity": _optional(value.get("similarity"), check_number, "match.similarity",
                                0.0, 100.0),
        "matched": value["matched"],
        "reasons": _codes(value.get("reasons") or (), "match.reasons"),
    }


def check_camera(value: Any, name: str = "camera") -> dict[str, Any] | None:
    """None (not known), or what an attempt's frames came from, as staff read it.

    A live camera: ``kind`` ``"camera"``, ``device`` (``/dev/video0``, or the index or path
    configured where the device could not be described), and when known ``name`` (card
    name), ``driver``, ``bus`` and ``usb`` (``vendor:product``); ``virtual`` (the rules
    ``kiosk cameras`` flags it by) when flagged, and ``allow_virtual`` (True) when
    ``camera.allow_virtual`` was on. A recording: ``kind`` ``"video file"`` or ``"image
    folder"`` and ``name``, its base name: never a path, which may name a person's home.
    Every other value is a non-empty printable string of at most :data:`MAX_CAMERA_TEXT`
    characters. Returned with its keys sorted.
    """
    if value is None:
        return None
    kind = value.get("kind") if isinstance(value, Mapping) else None
    if kind not in CAMERA_KINDS:
        raise ValueError(f"{name} must be a mapping whose kind is one of {CAMERA_KINDS}, got "
                         f"{value!r}")
    live = kind == "camera"
    _check_keys(value, _LIVE_CAMERA_KEYS if live else _RECORDING_KEYS,
                {"kind", "device" if live else "name"}, name)
    for key, item in value.items():
        if key == "allow_virtual":
            if item is not True:
                raise ValueError(f"{name}.allow_virtual is recorded only when true, got {item!r}")
        else:
            check_label(item, f"{name}.{key}", MAX_CAMERA_TEXT)
    if not live and ("/" in value["name"] or "\\" in value["name"]):
        raise ValueError(f"{name}.name of a recording must be its base name, never a path")
    return dict(sorted(value.items()))


def _codes(values: Any, name: str) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ValueError(f"{name} must be a list of codes, got {type(values).__name__}")
    return tuple(check_code(v, f"{name}[{i}]") for i, v in enumerate(values))


@dataclass(frozen=True, kw_only=True)
class AttemptRecord:
    """One finished verification attempt, as the session reports it.

    All arguments are keyword-only and validated; containers are copied (lists become tuples)
    and every datetime is converted to UTC. Treat the dictionaries inside as read-only.

    Attributes
    ----------
    kiosk_id : str
        ``settings.kiosk.kiosk_id`` of the kiosk that ran the attempt.
    started_at, ended_at : datetime
        Timezone-aware; stored in UTC. ``ended_at >= started_at``.
    subject_ref : str or None
        Keyed hash of the badge or ID number (:func:`kiosk.audit.keys.subject_ref`), or None
        when no number was given.
    decision : str
        ``"pass"``, ``"fail"`` or ``"review"``.
    app_version : str
        ``kiosk.__version__``.
    settings_digest : str
        ``Settings.digest()``: 64 hex digits.
    challenges : tuple of dict
        In prompt order; each has ``action`` (code), ``prompted_at`` (datetime),
        ``responded_at`` (datetime or None), ``outcome`` (code), ``confidence`` (float or
        None), ``reason`` (code or None), ``paused_s`` (seconds the prompt's timer stood still
        because the face was not placed; kept when above 0) and ``retry`` (a second chance;
        kept when true). Only action, prompted_at and outcome are required.
    signals : dict of str to dict
        Signal name to ``{"score": float, "confidence": float, "reason": code or None,
        "details": {code: scalar}}``; :class:`kiosk.model.Signal` values are accepted. Sorted
        by name.
    liveness_score : float or None
        Fused liveness score, 0-100.
    match : dict or None
        ``{"matcher": code, "similarity": float 0-100 or None, "matched": bool,
        "reasons": tuple of codes}``; None when no match was attempted.
    reasons : tuple of str
        Reason codes of the decision, in the order given.
    cloud_calls : tuple of str
        Names of the cloud API calls made (e.g. ``"CompareFaces"``), in order.
    scripted : bool
        An evaluation run (``kiosk verify --script``) whose prompts came at media times given
        in advance: recorded and shown as such, never a verification, counted toward no
        lockout.
    accessible : bool
        The person chose the accessible check (longer windows, its own prompt count, no light
        step); stored as ``attempts.variant``.
    camera : dict or None
        The camera or recording the frames came from (:func:`check_camera`); stored as
        ``attempts.camera``. None when not known.
    """

    kiosk_id: str
    started_at: datetime
    ended_at: datetime
    subject_ref: str | None
    decision: str
    app_version: str
    settings_digest: str
    challenges: Sequence[Mapping[str, Any]] = ()
    signals: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    liveness_score: float | None = None
    match: dict[str, Any] | None = None
    reasons: tuple[str, ...] = ()
    cloud_calls: tuple[str, ...] = ()
    scripted: bool = False
    accessible: bool = False
    camera: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "kiosk_id", check_label(self.kiosk_id, "kiosk_id"))
        put(self, "started_at", require_aware(self.started_at, "started_at"))
        put(self, "ended_at", require_aware(self.ended_at, "ended_at"))
        if self.ended_at < self.started_at:
            raise ValueError("ended_at must not be before started_at")
        put(self, "subject_ref", check_subject_ref(self.subject_ref))
        if self.decision not in DECISIONS:
            raise ValueError(f"decision must be one of {DECISIONS}, got {self.decision!r}")
        put(self, "app_version", check_label(self.app_version, "app_version"))
        if not isinstance(self.settings_digest, str) or not HEX64_PATTERN.match(
                self.settings_digest):
            raise ValueError("settings_digest must be Settings.digest(): 64 hex digits")
        if isinstance(self.challenges, Mapping | str) or not isinstance(self.challenges,
                                                                        Sequence):
            raise ValueError("challenges must be a list of mappings")
        put(self, "challenges", tuple(_challenge(c, i) for i, c in enumerate(self.challenges)))
        if not isinstance(self.signals, Mapping):
            raise ValueError("signals must be a mapping of signal name to score")
        put(self, "signals", {check_code(k, "signal name"): _signal(k, v)
                              for k, v in sorted(self.signals.items())})
        put(self, "liveness_score", _optional(self.liveness_score, check_number,
                                              "liveness_score", 0.0, 100.0))
        put(self, "match", _optional(self.match, _match))
        put(self, "reasons", _codes(self.reasons, "reasons"))
        put(self, "cloud_calls", _codes(self.cloud_calls, "cloud_calls"))
        if not isinstance(self.scripted, bool) or not isinstance(self.accessible, bool):
            raise ValueError("scripted and accessible must be bools")
        put(self, "camera", check_camera(self.camera))

    @property
    def failed(self) -> bool:
        """True when the decision counts towards a lockout."""
        return self.decision == Verdict.FAIL
