"""Liveness fusion: passive Signals in, one liveness score and reason codes out.

The model (fitted by scripts/train_fusion.py, stored in resources/models/fusion.json) is
evidence accumulation with a logistic link::

    logit P(attack) = bias[media] + sum_i  w_i * confidence_i * excess_i,     w_i >= 0
    excess_i = max(0, score_i - floor_i) / (1 - floor_i)

- A cue counts from its own decision point. Every analyzer maps its measurement to a score
  whose midpoint (0.5) is where its author put the edge of what live faces produce (moire's
  local peak of 6 against bona fide medians of 2-4, glare's 2 % of the face against a bona
  fide maximum of 1.1 %, one straight side beside a face scoring 0.18 for edges, ...). Below
  the floor (0.5 for every cue) a score is what bona fide presentations give, and eight such
  small scores must not add up to an attack.
- Each cue can only push toward attack. Every analyzer is a detector of some attacks (moire
  of screens, planar motion of hand-held pictures, ...); a low score means "this attack was
  not seen", not "this is a live face" (a replay of a live head shows parallax and may carry a
  pulse). So a cue never vouches for liveness, and raising any cue's score never raises the
  liveness score.
- ``confidence * score`` is the cue's evidence: a Signal with confidence 0 (the analyzer saw
  too little) contributes nothing either way.
- ``bias`` is the log-odds of an attack when no cue fires, one per media type: a still image
  has only the single-frame cues, each measured once, and gets its own bias (and only the
  single-frame weights), fitted on stills.
- The probability is calibrated for equal prior odds (the fit weighs bona fide and attack
  presentations equally), and ``score = 100 * (1 - P(attack))``. The kiosk's threshold of 90
  (``liveness.confidence_threshold``) therefore means: pass when the cues leave an attack at
  most 1 chance in 10 against equal priors (a likelihood ratio of at most 1/9).

Insufficient evidence fails. When the confidences of the cues that answered sum to less than
``min_evidence`` (no usable face for the single-frame cues, a face too small or always turned),
the result carries PASSIVE_INSUFFICIENT and P(attack) is raised to at least
``insufficient_probability`` (0.5: no better than a coin, far below any passing threshold). An
unattended kiosk has no one to notice a presentation the passive cues could not look at; the
person is asked to try again in front of the camera, and the challenge-response runs anyway.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.errors import ResourceError
from kiosk.model import Signal
from kiosk.reasons import Reason
from kiosk.resources import RESOURCES

log = logging.getLogger(__name__)

FUSION_MODEL = RESOURCES / "models" / "fusion.json"
FORMAT_VERSION = 1

#: Raised when the cues that answered carry too little confidence to decide.
MEDIA = ("video", "still")
_PROVENANCE_KEYS = ("script", "data", "date", "seed", "metrics")


@dataclass(frozen=True)
class FusionResult:
    """The fused liveness of one session or still.

    Attributes
    ----------
    score : float
        Liveness score, 0-100 (100 = live): ``100 * (1 - attack_probability)``.
    attack_probability : float
        Calibrated P(attack) in [0, 1] (equal prior odds).
    reasons : tuple of str
        Reason codes of the cues that pushed toward attack by at least ``reason_min_logit``,
        strongest first, then PASSIVE_INSUFFICIENT when the evidence was too thin.
    contributions : Mapping[str, float]
        Log-odds added by each cue that was used (``w * confidence * score``).
    still : bool
        True when the still-image model was used (single-frame cues only).
    evidence : float
        Sum of the confidences of the cues used.
    ignored : tuple of str
        Signals the model has no weight for (a multi-frame cue on a still, an unknown name).
    """

    score: float
    attack_probability: float
    reasons: tuple[str, ...]
    contributions: Mapping[str, float] = field(default_factory=dict)
    still: bool = False
    evidence: float = 0.0
    ignored: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"score": round(self.score, 2),
                "attack_probability": round(self.attack_probability, 6),
                "reasons": list(self.reasons),
                "contributions": {k: round(v, 4) for k, v in self.contributions.items()},
                "still": self.still, "evidence": round(self.evidence, 4),
                "ignored": list(self.ignored)}


@dataclass(frozen=True)
class _Media:
    bias: float
    weights: Mapping[str, float]
    min_evidence: float


def cue_evidence(score: float, confidence: float, floor: float) -> float:
    """A cue's evidence toward attack: ``confidence * max(0, score - floor) / (1 - floor)``."""
    return confidence * max(0.0, score - floor) / (1.0 - floor)


def _number(value: Any, what: str, low: float = -math.inf, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{what} must be within [{low:g}, {high:g}], got {value!r}")
    return float(value)


class Fusion:
    """Fuses passive Signals into a :class:`FusionResult` (see the module docstring).

    Parameters
    ----------
    model : mapping
        The parsed fusion.json: ``version``, ``cues`` ({name: {"reason", "floor"}}), ``media``
        ({"video"|"still": {"bias", "weights": {name: w >= 0}, "min_evidence"}}),
        ``insufficient_probability``, ``reason_min_logit``, ``provenance``.

    Raises
    ------
    ValueError
        The model is malformed (the message names the key).
    """

    def __init__(self, model: Mapping[str, Any]) -> None:
        if model.get("version") != FORMAT_VERSION:
            raise ValueError(f"version must be {FORMAT_VERSION}, got {model.get('version')!r}")
        cues = model["cues"]
        if not isinstance(cues, Mapping) or not cues:
            raise ValueError("cues must be a non-empty mapping of cue name to its reason")
        self.reasons: dict[str, str] = {}
        self.floors: dict[str, float] = {}
        for name, cue in cues.items():
            reason = cue.get("reason") if isinstance(cue, Mapping) else None
            if not isinstance(reason, str) or not reason:
                raise ValueError(f"cues.{name}.reason must be a reason code")
            self.reasons[str(name)] = reason
            self.floors[str(name)] = _number(cue.get("floor"), f"cues.{name}.floor", 0.0, 0.99)
        self._media: dict[str, _Media] = {}
        for media in MEDIA:
            m = model["media"][media]
            weights = {}
            for name, w in m["weights"].items():
                if name not in self.reasons:
                    raise ValueError(f"media.{media}.weights names an unknown cue {name!r}")
                weights[str(name)] = _number(w, f"media.{media}.weights.{name}", 0.0)
            self._media[media] = _Media(
                bias=_number(m["bias"], f"media.{media}.bias", -50.0, 50.0),
                weights=weights,
                min_evidence=_number(m["min_evidence"], f"media.{media}.min_evidence", 0.0))
        self.insufficient_probability = _number(model["insufficient_probability"],
                                                "insufficient_probability", 0.0, 1.0)
        self.reason_min_logit = _number(model["reason_min_logit"], "reason_min_logit", 0.0)
        provenance = model["provenance"]
        if not isinstance(provenance, Mapping) or any(k not in provenance
                                                      for k in _PROVENANCE_KEYS):
            raise ValueError(f"provenance must name {', '.join(_PROVENANCE_KEYS)}")
        self.provenance: Mapping[str, Any] = provenance

    @classmethod
    def load(cls, path: str | Path = FUSION_MODEL) -> Fusion:
        """Read and check a fusion model file (the shipped one by default).

        Raises
        ------
        ResourceError
            The file is missing, unreadable, not JSON, or not a valid fusion model.
        """
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
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

    def weights(self, still: bool = False) -> Mapping[str, float]:
        """The cue weights of the still or the video model."""
        return dict(self._media["still" if still else "video"].weights)

    def fuse(self, signals: Sequence[Signal], *, still: bool = False) -> FusionResult:
        """Fuse one session's (or still's) Signals.

        Parameters
        ----------
        signals : sequence of Signal
            At most one per cue name; a cue listed twice raises ValueError.
        still : bool
            The Signals come from one still image (single-frame cues only).

        Returns
        -------
        FusionResult
        """
        media = self._media["still" if still else "video"]
        logit, evidence = media.bias, 0.0
        contributions: dict[str, float] = {}
        ignored: list[str] = []
        seen: set[str] = set()
        for s in signals:
            if s.name in seen:
                raise ValueError(f"signals hold two Signals named {s.name!r}")
            seen.add(s.name)
            score, conf = float(s.score), float(s.confidence)
            if not (0.0 <= score <= 1.0 and 0.0 <= conf <= 1.0):
                raise ValueError(f"signal {s.name!r} has score {score!r} and confidence "
                                 f"{conf!r}; both must be within [0, 1]")
            if s.name not in media.weights:
                ignored.append(s.name)
                continue
            if conf == 0.0:
                continue  # no evidence either way
            contribution = media.weights[s.name] * cue_evidence(score, conf,
                                                                self.floors[s.name])
            contributions[s.name] = contribution
            logit += contribution
            evidence += conf
        p = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))
        ranked = sorted((n for n, c in contributions.items() if c >= self.reason_min_logit),
                        key=lambda n: (-contributions[n], n))
        reasons = list(dict.fromkeys(self.reasons[n] for n in ranked))
        if evidence < media.min_evidence:
            p = max(p, self.insufficient_probability)
            reasons.append(Reason.PASSIVE_INSUFFICIENT)
        if ignored:
            log.debug("fusion ignored signals without a weight: %s", ", ".join(ignored))
        return FusionResult(score=100.0 * (1.0 - p), attack_probability=p,
                            reasons=tuple(reasons), contributions=contributions, still=still,
                            evidence=evidence, ignored=tuple(ignored))
