"""Refitting the local matcher's threshold distance on labelled pairs (offline only).

The kiosk's default similarity threshold (95) is meant to mean a false-accept rate of 1%: the
descriptor distance where a normal model of different-person distances puts 1% of them below
(:mod:`kiosk.cloud.calibration`). :func:`far_threshold` fits that model; :func:`leave_one_out`
refits it without each subject in turn, to show how much one person moves it.

With a few dozen different-person pairs from a dozen people this is an informed estimate,
not a measurement: no false accept among n independent pairs only bounds the rate below
3/n at 95% confidence (the rule of three), and the normal model's tail is an extrapolation.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from scipy.stats import norm

from kiosk.cloud.calibration import TARGET_FAR


def normal_model(distances: Sequence[float]) -> tuple[float, float]:
    """Mean and (sample) standard deviation of ``distances`` (at least two)."""
    if len(distances) < 2:
        raise ValueError(f"need at least two distances, got {len(distances)}")
    return statistics.fmean(distances), statistics.stdev(distances)


def far_threshold(different: Sequence[float], far: float) -> float:
    """The distance below which a normal model of ``different`` puts a fraction ``far``."""
    if not 0.0 < far < 1.0:
        raise ValueError(f"far must be strictly between 0 and 1, got {far}")
    mean, sd = normal_model(different)
    return float(mean + norm.ppf(far) * sd)


def model_rate(distances: Sequence[float], threshold: float, *, below: bool) -> float:
    """The normal model's share of ``distances`` below (or above) ``threshold``."""
    mean, sd = normal_model(distances)
    z = (threshold - mean) / sd
    return float(norm.cdf(z) if below else norm.sf(z))


def leave_one_out(records: Iterable[Mapping[str, Any]], far: float) -> dict[str, float]:
    """:func:`far_threshold` refitted without each subject's pairs.

    Parameters
    ----------
    records : iterable of mapping
        ``{"distance": float, "same": bool, "subjects": (str, str)}``, one per compared pair.
    far : float
        The target false-accept rate.

    Returns
    -------
    dict
        Subject -> threshold distance fitted on the different-person pairs that do not
        involve that subject (subjects whose removal leaves fewer than two are skipped).
    """
    records = list(records)
    subjects = sorted({s for r in records for s in r["subjects"]})
    fits = {}
    for subject in subjects:
        rest = [r["distance"] for r in records
                if not r["same"] and subject not in r["subjects"]]
        if len(rest) >= 2:
            fits[subject] = far_threshold(rest, far)
    return fits


def rule_of_three(pairs: int) -> float:
    """Upper 95% bound on a rate after no event in ``pairs`` independent trials (3/n)."""
    return math.inf if pairs <= 0 else min(1.0, 3.0 / pairs)


def calibration_report(distances: Sequence[Mapping[str, Any]], threshold_distance: float,
                       far: float = TARGET_FAR) -> dict[str, Any]:
    """What the pairs say about the threshold: the refit, its spread and the margins.

    Parameters
    ----------
    distances : sequence of mapping
        ``{"distance", "same", "variant", "subjects"}`` per compared pair
        (``evaluate_pairs(...)["distances"]``).
    threshold_distance : float
        The matcher's threshold as a distance.
    far : float
        The false-accept rate the threshold targets.

    Returns
    -------
    dict
        ``target_far``; ``fitted_distance`` (:func:`far_threshold` on every different-person
        distance) and ``leave_one_subject_out`` (min, median, max of the refits);
        ``model_far`` / ``model_frr`` at the threshold; ``closest_different`` and
        ``farthest_same`` distances with their ``margin`` to the threshold (positive = on the
        right side); ``independent_different`` (full-size pairs only) and
        ``far_bound_95`` (the rule of three on them). Empty when there are too few pairs.
    """
    same = [d["distance"] for d in distances if d["same"]]
    different = [d["distance"] for d in distances if not d["same"]]
    if len(same) < 2 or len(different) < 2:
        return {}
    refits = sorted(leave_one_out(distances, far).values())
    independent = sum(1 for d in distances if not d["same"] and d.get("variant") == "full")
    closest, farthest = min(different), max(same)
    return {
        "target_far": far,
        "threshold_distance": threshold_distance,
        "fitted_distance": far_threshold(different, far),
        "leave_one_subject_out": ({"min": refits[0], "median": statistics.median(refits),
                                   "max": refits[-1], "subjects": len(refits)}
                                  if refits else None),
        "model_far": model_rate(different, threshold_distance, below=True),
        "model_frr": model_rate(same, threshold_distance, below=False),
        "closest_different": closest, "margin_different": closest - threshold_distance,
        "farthest_same": farthest, "margin_same": threshold_distance - farthest,
        "independent_different": independent,
        "far_bound_95": rule_of_three(independent),
    }
