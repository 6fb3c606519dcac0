"""Fitting the liveness fusion (used by scripts/train_fusion.py; not needed at run time).

The model is the one :mod:`kiosk.analysis.fusion` evaluates::

    logit P(attack) = bias + sum_i w_i * attack_i - sum_j v_j * life_j,     w_i, v_j >= 0

with ``attack_i = confidence_i * max(0, score_i - floor_i) / (1 - floor_i)``
(:func:`kiosk.analysis.fusion.cue_evidence`) and ``life_j = confidence_j * max(0,
life_below_j - score_j) / life_below_j`` (:func:`kiosk.analysis.fusion.life_evidence`),

fitted by penalised maximum likelihood: the weighted logistic log-loss plus a Gaussian prior
``w_i ~ N(attack_mean, prior_sd^2)`` and ``v_j ~ N(0, prior_sd^2)`` (the bias unpenalised),
with the non-negativity bounds enforced by L-BFGS-B. Presentation weights balance bona fide
and attack presentations, so the probability is calibrated for equal prior odds.

Pure numpy/scipy; deterministic (no random start).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from kiosk.analysis.fusion import cue_evidence, life_evidence


def _get(signal, key: str):
    return signal.get(key) if isinstance(signal, Mapping) else getattr(signal, key)


def evidence_matrices(signal_sets: Sequence[Sequence], names: Sequence[str],
                      floors: Mapping[str, float],
                      life_below: Mapping[str, float | None]) -> tuple[np.ndarray, np.ndarray]:
    """Evidence toward attack and evidence of life, per presentation and cue.

    Parameters
    ----------
    signal_sets : sequence of sequence
        Per presentation, its Signals as mappings with ``name``, ``score``, ``confidence``
        (or Signal objects).
    names : sequence of str
        The cues, in column order; a cue absent from a presentation gives 0.
    floors : mapping of str to float
        Each cue's floor (the attack side).
    life_below : mapping of str to float or None
        Each cue's life point (None: the cue has no life side, its column stays 0).

    Returns
    -------
    attack, life : ndarray (N, K) float64
    """
    attack = np.zeros((len(signal_sets), len(names)))
    life = np.zeros((len(signal_sets), len(names)))
    col = {n: k for k, n in enumerate(names)}
    for i, signals in enumerate(signal_sets):
        for s in signals:
            k = col.get(str(_get(s, "name")))
            if k is None:
                continue
            score = float(_get(s, "score") or 0.0)
            conf = float(_get(s, "confidence") or 0.0)
            attack[i, k] = cue_evidence(score, conf, float(floors[names[k]]))
            life[i, k] = life_evidence(score, conf, life_below.get(names[k]))
    return attack, life


def balanced_weights(labels: np.ndarray) -> np.ndarray:
    """Presentation weights: bona fide and attack presentations weigh half each.

    Parameters
    ----------
    labels : ndarray (N,) int
        1 = attack, 0 = bona fide.

    Returns
    -------
    ndarray (N,) float64
        Summing to N (so the prior's strength is relative to the number of presentations);
        all 0 when one class is missing.
    """
    labels = np.asarray(labels)
    w = np.zeros(len(labels))
    if (labels == 0).any() and (labels == 1).any():
        for y in (0, 1):
            cell = labels == y
            w[cell] = 0.5 * len(labels) / cell.sum()
    return w


@dataclass(frozen=True)
class FittedFusion:
    """A bias, non-negative attack weights and non-negative life weights."""

    names: tuple[str, ...]
    bias: float
    weights: np.ndarray
    life_weights: np.ndarray

    def logit(self, attack: np.ndarray, life: np.ndarray) -> np.ndarray:
        """Log-odds of attack for evidence rows (N, K) of both sides."""
        return (self.bias + np.asarray(attack, np.float64) @ self.weights
                - np.asarray(life, np.float64) @ self.life_weights)

    def probability(self, attack: np.ndarray, life: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.logit(attack, life), -50, 50)))


def fit_fusion(attack: np.ndarray, life: np.ndarray, labels: np.ndarray, names: Sequence[str],
               *, life_cues: Sequence[str], prior_sd: float, attack_mean: float = 0.0,
               sample_weight: np.ndarray | None = None) -> FittedFusion:
    """Penalised, constrained logistic fit (see the module docstring).

    Parameters
    ----------
    attack, life : ndarray (N, K)
        Evidence per presentation and cue (:func:`evidence_matrices`).
    labels : ndarray (N,)
        1 = attack, 0 = bona fide.
    names : sequence of str
        The K cues.
    life_cues : sequence of str
        The cues with a life side (the others' life weights are held at 0).
    prior_sd : float
        Standard deviation of the Gaussian prior on each weight (log-odds per unit evidence).
    attack_mean : float
        Mean of the prior on each attack weight (life weights: 0). A cue's weight stays near
        it when the data say nothing about the cue (no presentation shows its evidence).
    sample_weight : ndarray (N,), optional
        Defaults to :func:`balanced_weights`.

    Returns
    -------
    FittedFusion
    """
    xa, xl = np.asarray(attack, np.float64), np.asarray(life, np.float64)
    y = np.asarray(labels, np.float64)
    k = len(names)
    if xa.ndim != 2 or xa.shape != (len(y), k) or xl.shape != xa.shape:
        raise ValueError(f"attack and life must be (N, {k}) with labels of length N, got "
                         f"{xa.shape}, {xl.shape}, {y.shape}")
    if not prior_sd > 0:
        raise ValueError(f"prior_sd must be > 0, got {prior_sd}")
    unknown = set(life_cues) - set(names)
    if unknown:
        raise ValueError(f"life_cues names unknown cues: {sorted(unknown)}")
    a = balanced_weights(labels) if sample_weight is None else np.asarray(sample_weight)
    lam = 1.0 / (2.0 * prior_sd ** 2)
    x = np.hstack([xa, -xl])
    life_ok = [n in life_cues for n in names]
    mean = np.r_[np.full(k, float(attack_mean)), np.zeros(k)]

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = theta[0] + x @ theta[1:]
        loss = a * (np.logaddexp(0.0, z) - y * z)
        r = a * (1.0 / (1.0 + np.exp(-z)) - y)
        grad = np.empty_like(theta)
        grad[0] = r.sum()
        grad[1:] = x.T @ r + 2.0 * lam * (theta[1:] - mean)
        return float(loss.sum() + lam * np.sum((theta[1:] - mean) ** 2)), grad

    bounds = [(-30.0, 30.0)] + [(0.0, None)] * k + [(0.0, None if ok else 0.0)
                                                   for ok in life_ok]
    start = np.r_[0.0, np.full(k, max(0.0, float(attack_mean))), np.zeros(k)]
    res = minimize(objective, start, jac=True, method="L-BFGS-B",
                   bounds=bounds, options={"maxiter": 5000, "gtol": 1e-9})
    if not res.success:
        raise RuntimeError(f"fusion fit did not converge: {res.message}")
    theta = res.x
    return FittedFusion(names=tuple(names), bias=float(theta[0]),
                        weights=np.asarray(theta[1:1 + k], np.float64),
                        life_weights=np.asarray(theta[1 + k:], np.float64))
