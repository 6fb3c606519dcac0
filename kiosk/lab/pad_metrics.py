"""Presentation-attack detection metrics (ISO/IEC 30107-3), per presentation.

Scores are attack scores: higher means more likely an attack, and a presentation is
classified as an attack when its score is >= the threshold.

- APCER of a species: the share of that species' attack presentations classified bona fide.
- BPCER: the share of bona fide presentations classified as attacks.
- ACER: the mean of the worst species' APCER and the BPCER (as ISO/IEC 30107-3 defines it for
  reporting; the standard itself discourages ACER for comparisons, so both parts are kept).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

SPECIES = ("print", "replay", "mask", "unknown")


def _scores(values: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of scores, got shape {arr.shape}")
    if arr.size and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains a non-finite score")
    return arr


def apcer(attack_scores: Sequence[float], threshold: float) -> float | None:
    """Share of attack presentations scored below ``threshold`` (accepted as bona fide).

    None when there are no attack presentations.
    """
    arr = _scores(attack_scores, "attack_scores")
    return None if arr.size == 0 else float(np.mean(arr < threshold))


def bpcer(bona_fide_scores: Sequence[float], threshold: float) -> float | None:
    """Share of bona fide presentations scored at or above ``threshold`` (rejected).

    None when there are no bona fide presentations.
    """
    arr = _scores(bona_fide_scores, "bona_fide_scores")
    return None if arr.size == 0 else float(np.mean(arr >= threshold))


def candidate_thresholds(*score_sets: Sequence[float] | np.ndarray) -> np.ndarray:
    """Every threshold at which a decision can change, plus one above all scores."""
    values = np.unique(np.concatenate([_scores(s, "scores") for s in score_sets]
                                      or [np.zeros(0)]))
    top = values[-1] + 1e-6 if values.size else 1.0
    return np.append(values, top)


def bpcer_at_apcer(bona_fide: Sequence[float], attacks: Mapping[str, Sequence[float]],
                   max_apcer: float = 0.01) -> float | None:
    """The lowest BPCER over thresholds where every species' APCER is <= ``max_apcer``.

    None when there are no bona fide or no attack presentations.
    """
    bona = _scores(bona_fide, "bona_fide")
    species = {k: _scores(v, k) for k, v in attacks.items() if len(v)}
    if bona.size == 0 or not species:
        return None
    best = 1.0
    for t in candidate_thresholds(bona, *species.values()):
        if max(float(np.mean(s < t)) for s in species.values()) <= max_apcer:
            best = min(best, float(np.mean(bona >= t)))
    return best


def pad_block(bona_fide: Sequence[float], attacks: Mapping[str, Sequence[float]],
              threshold: float) -> dict:
    """The ``pad`` block of metrics.json.

    Parameters
    ----------
    bona_fide : sequence of float
        Attack scores of the bona fide presentations.
    attacks : mapping of species -> sequence of float
        Attack scores of the attack presentations by species (print, replay, mask, unknown).
    threshold : float
        The operating threshold in use.

    Returns
    -------
    dict
        ``{"threshold", "apcer": {species..., "max"}, "bpcer", "acer", "bpcer_at_apcer_1pct"}``;
        a species with no presentations is None, as are metrics that cannot be computed.
    """
    unknown = set(attacks) - set(SPECIES)
    if unknown:
        raise ValueError(f"attacks has unknown species {sorted(unknown)}; allowed: {SPECIES}")
    per_species = {s: apcer(attacks.get(s, ()), threshold) for s in SPECIES}
    present = [v for v in per_species.values() if v is not None]
    worst = max(present) if present else None
    b = bpcer(bona_fide, threshold)
    return {
        "threshold": float(threshold),
        "apcer": {**per_species, "max": worst},
        "bpcer": b,
        "acer": None if worst is None or b is None else (worst + b) / 2.0,
        "bpcer_at_apcer_1pct": bpcer_at_apcer(bona_fide, attacks, 0.01),
    }


def det_points(bona_fide: Sequence[float] | np.ndarray,
               attack: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """APCER and BPCER over all candidate thresholds, for a DET curve.

    Returns
    -------
    apcers, bpcers : ndarray (K,)
    """
    bona, att = _scores(bona_fide, "bona_fide"), _scores(attack, "attack")
    thresholds = candidate_thresholds(bona, att)
    apcers = np.array([np.mean(att < t) if att.size else np.nan for t in thresholds])
    bpcers = np.array([np.mean(bona >= t) if bona.size else np.nan for t in thresholds])
    return apcers, bpcers
