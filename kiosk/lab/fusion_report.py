"""Figures of a fitted fusion: PAD blocks, AUC and score distributions, real and simulated apart.

Used by scripts/train_fusion.py. Scores here are attack probabilities (higher = attack); the
liveness the kiosk shows is ``100 * (1 - p)``. Simulated attacks are always set against the
real bona fide presentations they were rendered from and reported in their own blocks; they
are never mixed into a real figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from kiosk.lab.pad_metrics import SPECIES, pad_block

# Liveness percentiles reported for each distribution.
PERCENTILES = (0, 10, 25, 50, 75, 90, 100)


def auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """Area under the ROC curve of attack scores (ties count half); None without both classes."""
    scores, labels = np.asarray(scores, np.float64), np.asarray(labels)
    pos, neg = scores[labels == 1], scores[labels == 0]
    if not len(pos) or not len(neg):
        return None
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return round(float(wins / (len(pos) * len(neg))), 4)


def distribution(p: np.ndarray) -> dict[str, Any] | None:
    """Liveness (``100 * (1 - p)``) percentiles, the number of distinct values and the count."""
    p = np.asarray(p, np.float64)
    if not p.size:
        return None
    live = 100.0 * (1.0 - p)
    return {"n": int(p.size), "distinct": int(np.unique(np.round(live, 2)).size),
            "liveness_percentiles": {str(q): round(float(np.percentile(live, q)), 2)
                                     for q in PERCENTILES}}


def rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def blocks(items: Sequence[dict[str, Any]], p: np.ndarray, threshold: float) -> dict[str, Any]:
    """PAD block, AUC and score distributions of the real and the simulated videos.

    Parameters
    ----------
    items : sequence of dict
        Presentations (``row`` with ``label``/``species``, ``simulated``); stills are not
        judged and must not be passed.
    p : ndarray (N,)
        Attack probability of each item.
    threshold : float
        Attack-score threshold (``(100 - liveness threshold) / 100``).

    Returns
    -------
    dict
        ``real_video`` and ``simulated_video``: :func:`kiosk.lab.pad_metrics.pad_block` keys
        plus ``auc``, ``n`` and ``distribution`` (``bona_fide``, ``attack``, and per species).
    """
    y = np.array([it["row"]["label"] == "attack" for it in items], int)
    sim = np.array([bool(it["simulated"]) for it in items])
    species = np.array([it["row"]["species"] for it in items])
    p = np.asarray(p, np.float64)
    bona = (~sim) & (y == 0)
    out = {}
    for origin, is_sim in (("real", False), ("simulated", True)):
        att = (sim == is_sim) & (y == 1)
        attacks = {s: p[att & (species == s)].tolist() for s in SPECIES}
        block = pad_block(p[bona].tolist(), attacks, threshold)
        block["auc"] = auc(np.concatenate([p[bona], p[att]]),
                           np.concatenate([np.zeros(bona.sum()), np.ones(att.sum())]))
        block["n"] = {"bona_fide": int(bona.sum()), "attack": int(att.sum())}
        block["distribution"] = {
            "bona_fide": distribution(p[bona]), "attack": distribution(p[att]),
            **{s: distribution(p[att & (species == s)]) for s in SPECIES
               if (att & (species == s)).any()}}
        out[f"{origin}_video"] = rounded(block)
    return out


def format_blocks(title: str, b: dict[str, Any]) -> str:
    """The blocks as a small table (and the liveness distributions) for the console."""
    def f(v):
        return "-" if v is None else f"{v:.3f}"
    lines = [f"\n== {title} ==",
             f"{'set':<16} {'n bf/att':>9} {'APCER print':>11} {'replay':>7} {'BPCER':>6} "
             f"{'ACER':>6} {'BPCER@APCER1%':>13} {'AUC':>6}"]
    for name, blk in b.items():
        ap = blk["apcer"]
        lines.append(f"{name:<16} {blk['n']['bona_fide']:>4}/{blk['n']['attack']:<4} "
                     f"{f(ap['print']):>11} {f(ap['replay']):>7} {f(blk['bpcer']):>6} "
                     f"{f(blk['acer']):>6} {f(blk['bpcer_at_apcer_1pct']):>13} "
                     f"{f(blk['auc']):>6}")
        for who, dist in blk["distribution"].items():
            if dist is None:
                continue
            pct = dist["liveness_percentiles"]
            lines.append(f"    liveness {who:<9} n {dist['n']:>3} distinct {dist['distinct']:>3}:"
                         f" min {pct['0']:6.2f} p25 {pct['25']:6.2f} median {pct['50']:6.2f} "
                         f"p75 {pct['75']:6.2f} max {pct['100']:6.2f}")
    return "\n".join(lines)
