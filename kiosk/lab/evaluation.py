"""Evaluation of the kiosk's analysis on a labelled manifest (``kiosk evaluate``).

Pure logic over frames the caller supplies (the camera layer opens the media; the cloud layer
matches pairs): :func:`analyse_presentation` tracks one presentation, runs the passive
analyzers, fuses them and detects the challenge events; :func:`build_metrics` turns the
analysed presentations into issue 4's ``metrics.json``.

Definitions (ISO/IEC 30107-3, per presentation): the PAD score of a presentation is the fused
attack probability, ``1 - liveness / 100``; it is classified as an attack when that score is
at or above ``1 - settings.liveness.confidence_threshold / 100`` (the session rejects a
liveness score below the threshold; the two differ only at exact equality). APCER per species,
BPCER, ACER and BPCER at APCER <= 1 % come from :mod:`kiosk.lab.pad_metrics`; each PAD block
also carries the AUC and the liveness distributions of its bona fide and attack presentations.

Stills are refused by the fusion (a single image cannot show life), and so are videos analysed
at under 10 frames a second (:mod:`kiosk.analysis.capture`: a live face cannot show life in
them): they are listed with the decision ``refused`` and counted in the ``refused`` block
(per reason, as failures to acquire), never in a PAD figure.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kiosk.analysis.capture import frame_rate
from kiosk.analysis.challenges import detect_events
from kiosk.analysis.passive import run_analyzers
from kiosk.lab.events_eval import evaluate_events
from kiosk.lab.fusion_report import auc, distribution
from kiosk.lab.manifest import ManifestRow
from kiosk.lab.pad_metrics import SPECIES, pad_block
from kiosk.model import Event, FaceObservation, Frame, Signal

log = logging.getLogger(__name__)

ATTACK, BONA_FIDE, REFUSED = "attack", "bona_fide", "refused"


@dataclass
class Presentation:
    """One analysed presentation.

    Attributes
    ----------
    row : ManifestRow
        Its manifest row (a simulated attack gets a row made up by the caller).
    n_frames : int
        Frames analysed.
    fps : float or None
        Frame rate of the source (videos).
    faces : int
        Frames in which a face was found.
    signals : list of Signal
    fused : FusionResult
    events : list of Event or None
        Challenge events over the whole clip (videos only; None for stills and when no frame
        had exactly one face).
    simulated : bool
        Rendered by the simulator; never mixed into the real-material metrics.
    """

    row: ManifestRow
    n_frames: int
    fps: float | None
    faces: int
    signals: list[Signal]
    fused: Any
    events: list[Event] | None = None
    simulated: bool = False

    @property
    def attack_score(self) -> float:
        return float(self.fused.attack_probability)

    @property
    def refused(self) -> bool:
        """The fusion refused to judge it (a still image)."""
        return bool(getattr(self.fused, "refused", False))


def analyse_presentation(row: ManifestRow, frames: Iterable[Frame], tracker, analyzers,
                         fusion, *, fps: float | None = None, liveness=None,
                         simulated: bool = False) -> Presentation:
    """Track, analyse and fuse one presentation.

    Parameters
    ----------
    row : ManifestRow
    frames : iterable of Frame
        The presentation's frames (its frame range only), in order.
    tracker : object with ``observe(frame) -> FaceObservation``
        A fresh tracker for this presentation (VIDEO mode needs rising timestamps).
    analyzers : sequence of Analyzer
        :func:`~kiosk.analysis.passive.still_analyzers` for a still,
        :func:`~kiosk.analysis.passive.default_analyzers` otherwise.
    fusion : Fusion
    fps : float, optional
        The source's frame rate.
    liveness : settings.liveness, optional
        Turn and pitch angles and baseline length of the event detectors (defaults when None).
    simulated : bool

    Returns
    -------
    Presentation
    """
    observations: list[FaceObservation] = []

    def observed() -> Iterable[tuple[Frame, FaceObservation]]:
        for frame in frames:
            obs = tracker.observe(frame)
            observations.append(obs)
            yield frame, obs

    signals = run_analyzers(observed(), analyzers)
    fused = fusion.fuse(signals, still=row.still, frame_rate=None if row.still else
                        frame_rate([o.t for o in observations]))
    events = None
    if not row.still and any(o.face is not None and o.n_faces == 1 for o in observations):
        kwargs = {} if liveness is None else {
            "turn_angle_deg": float(liveness.turn_angle_deg),
            "pitch_angle_deg": float(liveness.pitch_angle_deg),
            "baseline_s": float(liveness.baseline_s)}
        events = detect_events(observations, baseline="clip", **kwargs)
    return Presentation(row=row, n_frames=len(observations), fps=fps,
                        faces=sum(o.face is not None for o in observations), signals=signals,
                        fused=fused, events=events, simulated=simulated)


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) \
        else round(float(value), digits)


def _pad(presentations: Sequence[Presentation], threshold: float,
         bona_fide: Sequence[Presentation] | None = None) -> dict:
    """pad_block (+ AUC and liveness distributions) of the judged ``presentations``;
    ``bona_fide`` replaces their bona fide ones if given. Refused presentations never count."""
    judged = [p for p in presentations if not p.refused]
    bona_group = judged if bona_fide is None else [p for p in bona_fide if not p.refused]
    bona = [p.attack_score for p in bona_group if p.row.label == BONA_FIDE]
    attacks: dict[str, list[float]] = {s: [] for s in SPECIES}
    for p in judged:
        if p.row.label == ATTACK:
            attacks[p.row.species].append(p.attack_score)
    block = pad_block(bona, attacks, threshold)
    block["apcer"] = {k: _round(v) for k, v in block["apcer"].items()}
    for key in ("bpcer", "acer", "bpcer_at_apcer_1pct"):
        block[key] = _round(block[key])
    every_attack = [v for scores in attacks.values() for v in scores]
    block["auc"] = auc(np.array(bona + every_attack),
                       np.array([0] * len(bona) + [1] * len(every_attack)))
    block["distribution"] = {"bona_fide": distribution(np.array(bona)),
                             **{s: distribution(np.array(v)) for s, v in attacks.items() if v}}
    return block


def _counts(presentations: Sequence[Presentation]) -> dict:
    attack = {s: 0 for s in SPECIES}
    presentations = [p for p in presentations if not p.refused]
    for p in presentations:
        if p.row.label == ATTACK:
            attack[p.row.species] += 1
    return {"bona_fide": sum(p.row.label == BONA_FIDE for p in presentations),
            "attack": attack}


def decision(p: Presentation, threshold: float) -> str:
    """``attack`` when the PAD score is at or above ``threshold``, else ``bona_fide``;
    ``refused`` when the fusion would not judge it (a still, a capture too slow)."""
    if p.refused:
        return REFUSED
    return ATTACK if p.attack_score >= threshold else BONA_FIDE


def presentation_entry(p: Presentation, threshold: float) -> dict:
    """One ``per_presentation`` item: issue 4's keys plus media, liveness, signals."""
    return {
        "path": p.row.path, "frames": p.row.frames, "label": p.row.label,
        "species": p.row.species, "score": round(p.attack_score, 6),
        "decision": decision(p, threshold), "reasons": list(p.fused.reasons),
        "media": p.row.media, "still": bool(p.fused.still), "subject": p.row.subject,
        "n_frames": p.n_frames, "frames_with_face": p.faces,
        "liveness": round(float(p.fused.score), 2), "simulated": p.simulated,
        "signals": {s.name: {"score": round(float(s.score), 4),
                             "confidence": round(float(s.confidence), 4)}
                    for s in p.signals},
        "life": {k: round(float(v), 4) for k, v in getattr(p.fused, "life", {}).items()},
    }


def events_block(presentations: Sequence[Presentation]) -> tuple[dict, dict]:
    """The flat ``events`` block and the spurious turn/smile counts.

    Every real video presentation with events (overlay rows are not passed in) is scored with
    :func:`kiosk.lab.events_eval.evaluate_events`; precision and recall are None when
    their denominator is 0.
    """
    rows, detections, fps = [], {}, {}
    for p in presentations:
        if p.simulated or p.row.still or p.events is None:
            continue
        rows.append(p.row.as_dict())
        detections[p.row.key] = p.events
        if p.fps:
            fps[p.row.path] = p.fps
    if not rows:
        return {}, {"turn": {"events": 0, "clips": []}, "smile": {"events": 0, "clips": []}}
    result = evaluate_events(rows, detections, fps=fps)
    flat = {action: {"labelled": c["labelled"], "detected": c["detected"],
                     "precision": _round(c["precision"]), "recall": _round(c["recall"])}
            for action, c in result["per_action"].items()}
    return flat, result["spurious"]


def build_metrics(presentations: Sequence[Presentation], *, confidence_threshold: float,
                  excluded_overlay: int = 0, pairs: Mapping[str, Any] | None = None,
                  failed: Sequence[Mapping[str, str]] = ()) -> dict:
    """Issue 4's ``metrics.json`` from analysed presentations.

    Parameters
    ----------
    presentations : sequence of Presentation
        Real and simulated; simulated ones go to the ``simulated`` block only.
    confidence_threshold : float
        ``settings.liveness.confidence_threshold`` (0-100 liveness score).
    excluded_overlay : int
        Manifest rows left out because their notes start with ``overlay:``.
    pairs : mapping, optional
        The ``pairs`` block (``kiosk.lab.pairs.evaluate_pairs``); None when not measured.
    failed : sequence of mapping
        Rows that could not be analysed (``path``, ``frames``, ``error``), listed as such.

    Returns
    -------
    dict
        ``presentations``, ``pad``, ``events``, ``pairs``, ``per_presentation`` (issue 4;
        ``presentations`` and ``pad`` count judged presentations only, ``per_presentation``
        lists every real one, refused stills with the decision ``refused``), plus
        ``excluded_overlay``, ``failed``, ``refused`` (stills the fusion would not judge:
        their count per label and species, and the reason), ``by_media`` (the ``video`` block
        with its own counts and ``pad``; the ``still`` block holds only its refusal),
        ``events_spurious``, ``light`` (:func:`light_block`), ``simulated`` (null, or the simulated attacks' counts, ``pad``
        and ``by_media`` with the real bona fide presentations of the same media type as the
        bona fide side, and their ``per_presentation``) and ``liveness_threshold``. Every
        ``pad`` block has ``auc`` and ``distribution`` (liveness percentiles of the bona fide
        presentations and of each attack species).
    """
    if not 0.0 <= confidence_threshold <= 100.0:
        raise ValueError(f"confidence_threshold must be within 0-100, got {confidence_threshold}")
    # (100 - T) / 100 rather than 1 - T / 100: 0.1 exactly for T = 90, not 0.09999999999999998.
    threshold = (100.0 - float(confidence_threshold)) / 100.0
    real = [p for p in presentations if not p.simulated]
    sim = [p for p in presentations if p.simulated]
    events, spurious = events_block(real)
    refused = [p for p in real if p.refused]

    def refused_block(group: Sequence[Presentation]) -> dict:
        counts = {"bona_fide": sum(p.row.label == BONA_FIDE for p in group),
                  "attack": {s: sum(p.row.label == ATTACK and p.row.species == s
                                    for p in group) for s in SPECIES}}
        reasons = sorted({r for p in group for r in p.fused.reasons})
        # What refused each: SINGLE_IMAGE (a still) or CAPTURE_TOO_SLOW (a slow video).
        why = Counter(p.fused.reasons[0] for p in group)
        return {"presentations": counts, "reasons": reasons, "by_reason": dict(why)}

    def media_blocks(group: Sequence[Presentation], reference: bool = False) -> dict:
        out: dict[str, Any] = {}
        for name, is_still in (("still", True), ("video", False)):
            members = [p for p in group if p.row.still == is_still]
            if members and all(p.refused for p in members):
                out[name] = {"refused": refused_block(members)}
                continue
            # Against the real bona fide of this media type, when it has simulated attacks.
            bona = ([p for p in real if p.row.still == is_still] if members else []) \
                if reference else None
            out[name] = {"presentations": _counts(members),
                         "pad": _pad(members, threshold, bona)}
            if any(p.refused for p in members):
                out[name]["refused"] = refused_block([p for p in members if p.refused])
        return out

    metrics = {
        "presentations": _counts(real),
        "pad": _pad(real, threshold),
        "events": events,
        "pairs": None if pairs is None else dict(pairs),
        "per_presentation": [presentation_entry(p, threshold) for p in real],
        "liveness_threshold": float(confidence_threshold),
        "excluded_overlay": int(excluded_overlay),
        "failed": [dict(f) for f in failed],
        "refused": refused_block(refused),
        "by_media": media_blocks(real),
        "events_spurious": {k: v["events"] for k, v in spurious.items()},
        # Simulated attacks against the real bona fide presentations of their media type: the
        # simulator renders attacks only, from those very presentations.
        "simulated": None if not sim else {
            "presentations": _counts(sim),
            "bona_fide_reference": "the real bona fide presentations of the same media type",
            "pad": _pad(sim, threshold, [p for p in real if p.row.still in
                                         {q.row.still for q in sim}]),
            "by_media": media_blocks(sim, reference=True),
            "per_presentation": [presentation_entry(p, threshold) for p in sim]},
        "light": light_block(real),
    }
    return metrics


def light_block(presentations: Sequence[Presentation]) -> dict | None:
    """The light challenge on rows filmed with a sequence (the manifest's ``sequence``
    column): per label, how many were judged and how many answered; None without any.

    A bona fide row that does not answer is a refusal of a real person; an attack that
    answers got through the light check (the other cues may still stop it)."""
    lit = [(p, s) for p in presentations for s in p.signals if s.name == "light"]
    if not lit:
        return None

    def counts(label: str) -> dict:
        members = [(p, s) for p, s in lit if p.row.label == label]
        judged = [(p, s) for p, s in members if s.confidence > 0]
        return {"rows": len(members), "judged": len(judged),
                "responded": sum(bool(s.details.get("responded")) for _, s in judged),
                "reasons": sorted({r for _, s in judged
                                   for r in str(s.details.get("reasons", "")).split()})}

    return {"bona_fide": counts(BONA_FIDE), "attack": counts(ATTACK)}

