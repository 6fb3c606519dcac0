"""Liveness fusion: passive Signals in, one liveness score and reason codes out.

The model (fitted by scripts/train_fusion.py, stored in resources/models/fusion.json) weighs
evidence for and against a live face with a logistic link::

    logit P(attack) = bias + sum_i  w_i * attack_i  -  sum_j  v_j * life_j,     w_i, v_j >= 0
    attack_i = confidence_i * max(0, score_i - floor_i) / (1 - floor_i)
    life_j   = confidence_j * max(0, life_below_j - score_j) / life_below_j

- Evidence toward attack. A cue counts from its own decision point: every analyzer maps its
  measurement to a score whose midpoint (0.5) is where its author put the edge of what live
  faces produce. Below the floor (0.5 for every cue) a score is what bona fide presentations
  give, and several small scores must not add up to an attack.
- Evidence of life. Some cues measure something only a live face does (a face that deforms as
  skin does when it blinks or smiles, a head whose motion shows 3D parallax, cheeks that rise
  with a smile, skin-like texture): a low score there is positive evidence, counted below the
  cue's ``life_below`` point with its own non-negative weight ``v``. Cues that only detect an
  attack (moire, device edges, glare, flicker ...) have no ``life_below``: "this attack was
  not seen" is not "this is a live face". A later cue (the light challenge's response) adds
  positive evidence the same way: a cue entry with ``life_below`` and a ``life_weights`` entry.
- ``confidence`` scales both sides: a Signal with confidence 0 (the analyzer saw too little)
  contributes nothing either way.
- ``bias`` is the log-odds of an attack when no cue says anything either way. With evidence of
  life in the model, the bias is fitted as everything else is, and a session in which nothing
  showed life stays near it: the score has to be earned.
- The probability is calibrated for equal prior odds (the fit weighs bona fide and attack
  presentations equally), and ``score = 100 * (1 - P(attack))``. The kiosk's threshold of 90
  (``liveness.confidence_threshold``) therefore means: pass when the evidence leaves an attack
  at most 1 chance in 10 against equal priors (a likelihood ratio of at most 1/9).

Insufficient evidence fails. When the confidences of the cues that answered sum to less than
``min_evidence`` (a face too small or always turned, too few frames), the result carries
PASSIVE_INSUFFICIENT and P(attack) is raised to at least ``insufficient_probability`` (0.5:
no better than a coin, far below any passing threshold).

Stills are refused. A single image holds no motion, no expression and no response: nothing in
it can show life, and the developer set's stills are confounded by capture (see the README).
``fuse(signals, still=True)`` returns a refused result (score 0, reason SINGLE_IMAGE) that
never passes; the evaluation leaves stills out of every PAD figure.

So are captures too slow to show life. Below 10 analysed frames a second a blink can fall
between frames (:mod:`kiosk.analysis.capture`): a live face cannot earn its evidence, and a
failed check would blame the person for the camera. ``fuse(signals, frame_rate=...)`` below
that rate returns a refused result (score 0, reason CAPTURE_TOO_SLOW, never a pass). It still
names each cue that is evidence of an attack on its own, a push of at least ln 9 log-odds
(:data:`STRONG_LOGIT`: a likelihood ratio of 9, the bar the kiosk's threshold of 90 sets for
a whole session), so a bezel seen at a slow rate stays an attack for the kiosk's lockout,
while the small pushes of a dim, slow webcam picture, which life evidence would have
outweighed at a judged rate, do not turn a camera fault into suspected attacks. The
evaluation counts such captures apart, as failures to acquire, in no PAD figure. The same
cues (``FusionResult.strong``) are all that a session cut short before it could be judged
counts as an attack (:mod:`kiosk.session.unjudged`).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk import resources
from kiosk.analysis.capture import too_slow
from kiosk.errors import ResourceError
from kiosk.model import Signal
from kiosk.reasons import Reason
from kiosk.resources import FUSION_MODEL, shipped_text

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
#: A cue's push that is evidence of an attack on its own (log-odds): a likelihood ratio of 9.
STRONG_LOGIT = math.log(9.0)
_PROVENANCE_KEYS = ("script", "data", "date", "seed", "metrics")


@dataclass(frozen=True)
class FusionResult:
    """The fused liveness of one session (or a refused still).

    Attributes
    ----------
    score : float
        Liveness score, 0-100 (100 = live): ``100 * (1 - attack_probability)``.
    attack_probability : float
        Calibrated P(attack) in [0, 1] (equal prior odds); 1.0 for a refused still.
    reasons : tuple of str
        Reason codes of the cues that pushed toward attack by at least ``reason_min_logit``,
        strongest first; then LIFE_UNSEEN when no cue showed life by that much, and
        PASSIVE_INSUFFICIENT when the evidence was too thin. A refused still: SINGLE_IMAGE;
        a refused slow capture: CAPTURE_TOO_SLOW, then each cue that pushed toward attack
        by at least :data:`STRONG_LOGIT`.
    contributions : Mapping[str, float]
        Log-odds toward attack added by each cue that was used (negative when it showed life:
        ``w * attack - v * life``).
    still : bool
        True when a still image was given (and refused).
    evidence : float
        Sum of the confidences of the cues used.
    ignored : tuple of str
        Signals the model has no weight for (an unknown name).
    life : Mapping[str, float]
        Log-odds toward live (positive numbers) of each cue that showed life.
    refused : bool
        True when the presentation cannot be judged (a still image, a capture too slow).
    frame_rate : float or None
        The analysed frame rate the caller gave (frames per second), None when not given.
    strong : tuple of str
        Reason codes of the cues that pushed toward attack by at least :data:`STRONG_LOGIT`,
        strongest first: each is evidence of an attack on its own, whatever else the
        session showed or had no time to show (a session cut short counts only these).
    """

    score: float
    attack_probability: float
    reasons: tuple[str, ...]
    contributions: Mapping[str, float] = field(default_factory=dict)
    still: bool = False
    evidence: float = 0.0
    ignored: tuple[str, ...] = ()
    life: Mapping[str, float] = field(default_factory=dict)
    refused: bool = False
    frame_rate: float | None = None
    strong: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"score": round(self.score, 2),
                "attack_probability": round(self.attack_probability, 6),
                "reasons": list(self.reasons),
                "contributions": {k: round(v, 4) for k, v in self.contributions.items()},
                "life": {k: round(v, 4) for k, v in self.life.items()},
                "still": self.still, "refused": self.refused,
                "frame_rate": None if self.frame_rate is None else round(self.frame_rate, 2),
                "evidence": round(self.evidence, 4), "ignored": list(self.ignored)}


def cue_evidence(score: float, confidence: float, floor: float) -> float:
    """A cue's evidence toward attack: ``confidence * max(0, score - floor) / (1 - floor)``."""
    return confidence * max(0.0, score - floor) / (1.0 - floor)


def life_evidence(score: float, confidence: float, life_below: float | None) -> float:
    """A cue's evidence of life: ``confidence * max(0, life_below - score) / life_below``
    (0 for a cue without a life side)."""
    if life_below is None:
        return 0.0
    return confidence * max(0.0, life_below - score) / life_below


def _number(value: Any, what: str, low: float = -math.inf, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{what} must be within [{low:g}, {high:g}], got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Cue:
    """How one cue enters the model: its reason code, floor and (optional) life point."""

    reason: str
    floor: float
    life_below: float | None = None


def parse_cues(cues: Any) -> dict[str, Cue]:
    """The ``cues`` block of a model file, checked (ValueError naming the key)."""
    if not isinstance(cues, Mapping) or not cues:
        raise ValueError("cues must be a non-empty mapping of cue name to its reason")
    out: dict[str, Cue] = {}
    for name, cue in cues.items():
        reason = cue.get("reason") if isinstance(cue, Mapping) else None
        if not isinstance(reason, str) or not reason:
            raise ValueError(f"cues.{name}.reason must be a reason code")
        life = cue.get("life_below")
        out[str(name)] = Cue(
            reason=reason, floor=_number(cue.get("floor"), f"cues.{name}.floor", 0.0, 0.99),
            life_below=None if life is None else _number(life, f"cues.{name}.life_below",
                                                         0.01, 1.0))
    return out


def _weights(block: Any, cues: Mapping[str, Cue], what: str, life: bool) -> dict[str, float]:
    if not isinstance(block, Mapping):
        raise ValueError(f"{what} must be a mapping of cue name to a weight >= 0")
    out = {}
    for name, w in block.items():
        if name not in cues:
            raise ValueError(f"{what} names an unknown cue {name!r}")
        if life and cues[name].life_below is None:
            raise ValueError(f"{what}.{name}: the cue has no life_below, it cannot show life")
        out[str(name)] = _number(w, f"{what}.{name}", 0.0)
    return out


class Fusion:
    """Fuses passive Signals into a :class:`FusionResult` (see the module docstring).

    Parameters
    ----------
    model : mapping
        The parsed fusion.json: ``version`` (2), ``cues`` ({name: {"reason", "floor",
        "life_below" (optional)}}), ``video`` ({"bias", "weights": {name: w >= 0},
        "life_weights": {name: v >= 0}, "min_evidence"}), ``insufficient_probability``,
        ``reason_min_logit``, ``provenance``.

    Raises
    ------
    ValueError
        The model is malformed (the message names the key).
    """

    def __init__(self, model: Mapping[str, Any]) -> None:
        if model.get("version") != FORMAT_VERSION:
            raise ValueError(f"version must be {FORMAT_VERSION}, got {model.get('version')!r}")
        self.cues = parse_cues(model["cues"])
        self.reasons = {name: cue.reason for name, cue in self.cues.items()}
        video = model["video"]
        self.bias = _number(video["bias"], "video.bias", -50.0, 50.0)
        self._weights = _weights(video["weights"], self.cues, "video.weights", life=False)
        self._life_weights = _weights(video.get("life_weights", {}), self.cues,
                                      "video.life_weights", life=True)
        self.min_evidence = _number(video["min_evidence"], "video.min_evidence", 0.0)
        self.insufficient_probability = _number(model["insufficient_probability"],
                                                "insufficient_probability", 0.0, 1.0)
        self.reason_min_logit = _number(model["reason_min_logit"], "reason_min_logit", 0.0)
        provenance = model["provenance"]
        if not isinstance(provenance, Mapping) or any(k not in provenance
                                                      for k in _PROVENANCE_KEYS):
            raise ValueError(f"provenance must name {', '.join(_PROVENANCE_KEYS)}")
        self.provenance: Mapping[str, Any] = provenance

    @classmethod
    def load(cls, path: str | Path | None = None) -> Fusion:
        """Read and check a fusion model file (the shipped one by default, checked against
        its pinned hash).

        Raises
        ------
        ResourceError
            The file is missing, unreadable, not JSON, or not a valid fusion model; the
            shipped one also when it differs from its pin.
        """
        path = FUSION_MODEL if path is None else path
        try:
            data = json.loads(shipped_text(Path(path), FUSION_MODEL,
                                           resources.FUSION_MODEL_SHA256))
        except OSError as exc:
            raise ResourceError(f"fusion model {path} cannot be read ({exc.strerror}); run "
                                "scripts/train_fusion.py or reinstall the kiosk") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ResourceError(f"fusion model {path} is not valid JSON: {exc}") from None
        if not isinstance(data, Mapping):
            raise ResourceError(f"fusion model {path} is invalid: not a JSON object")
        try:
            return cls(data)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            what = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
            raise ResourceError(f"fusion model {path} is invalid: {what}") from None

    def weights(self) -> Mapping[str, float]:
        """The attack weights by cue."""
        return dict(self._weights)

    def life_weights(self) -> Mapping[str, float]:
        """The life weights by cue (only cues with a life side)."""
        return dict(self._life_weights)

    def fuse(self, signals: Sequence[Signal], *, still: bool = False,
             frame_rate: float | None = None) -> FusionResult:
        """Fuse one session's Signals (a still, or a capture too slow, is refused: see the
        module docstring).

        Parameters
        ----------
        signals : sequence of Signal
            At most one per cue name; a cue listed twice raises ValueError.
        still : bool
            The Signals come from one still image: the result is refused.
        frame_rate : float or None
            Frames per second the analyzers saw (:func:`kiosk.analysis.capture.frame_rate`);
            below the slowest judged rate the result is refused. None: not checked.

        Returns
        -------
        FusionResult
        """
        _check_signals(signals)
        if still:
            return FusionResult(score=0.0, attack_probability=1.0,
                                reasons=(Reason.SINGLE_IMAGE,), still=True, refused=True,
                                ignored=tuple(s.name for s in signals))
        logit, evidence = self.bias, 0.0
        contributions: dict[str, float] = {}
        pushed: dict[str, float] = {}
        life: dict[str, float] = {}
        ignored: list[str] = []
        for s in signals:
            if s.name not in self._weights and s.name not in self._life_weights:
                ignored.append(s.name)
                continue
            score, conf = float(s.score), float(s.confidence)
            if conf == 0.0:
                continue  # no evidence either way
            cue = self.cues[s.name]
            toward = self._weights.get(s.name, 0.0) * cue_evidence(score, conf, cue.floor)
            away = self._life_weights.get(s.name, 0.0) * life_evidence(score, conf,
                                                                       cue.life_below)
            contributions[s.name] = toward - away
            pushed[s.name] = toward
            if away > 0:
                life[s.name] = away
            logit += toward - away
            evidence += conf
        p = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))
        ranked = sorted((n for n, c in pushed.items() if c >= self.reason_min_logit),
                        key=lambda n: (-pushed[n], n))
        reasons = list(dict.fromkeys(self.reasons[n] for n in ranked))
        if self._life_weights and sum(life.values()) < self.reason_min_logit:
            reasons.append(Reason.LIFE_UNSEEN)
        if evidence < self.min_evidence:
            p = max(p, self.insufficient_probability)
            reasons.append(Reason.PASSIVE_INSUFFICIENT)
        if ignored:
            log.debug("fusion ignored signals without a weight: %s", ", ".join(ignored))
        strong = tuple(dict.fromkeys(self.reasons[n] for n in sorted(
            pushed, key=lambda n: (-pushed[n], n)) if pushed[n] >= STRONG_LOGIT))
        if too_slow(frame_rate):
            # Not judged; a cue that is an attack on its own is still named (the lockout
            # counts it).
            return FusionResult(score=0.0, attack_probability=1.0,
                                reasons=(Reason.CAPTURE_TOO_SLOW, *strong),
                                contributions=contributions, evidence=evidence,
                                ignored=tuple(ignored), life=life, refused=True,
                                frame_rate=frame_rate, strong=strong)
        return FusionResult(score=100.0 * (1.0 - p), attack_probability=p,
                            reasons=tuple(reasons), contributions=contributions, still=False,
                            evidence=evidence, ignored=tuple(ignored), life=life,
                            frame_rate=frame_rate, strong=strong)


def _check_signals(signals: Sequence[Signal]) -> None:
    seen: set[str] = set()
    for s in signals:
        if s.name in seen:
            raise ValueError(f"signals hold two Signals named {s.name!r}")
        seen.add(s.name)
        score, conf = float(s.score), float(s.confidence)
        if not (0.0 <= score <= 1.0 and 0.0 <= conf <= 1.0):
            raise ValueError(f"signal {s.name!r} has score {score!r} and confidence "
                             f"{conf!r}; both must be within [0, 1]")
