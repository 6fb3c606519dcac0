"""Fitting the liveness fusion (used by scripts/train_fusion.py; not needed at run time).

The model is the one :mod:`kiosk.analysis.fusion` evaluates::

    logit P(attack) = bias[media] + sum_i  w_i * evidence_i,     w_i >= 0

with ``evidence_i = confidence_i * max(0, score_i - floor_i) / (1 - floor_i)``
(:func:`kiosk.analysis.fusion.cue_evidence`),

fitted by penalised maximum likelihood: the weighted logistic log-loss plus a Gaussian prior
``w_i ~ N(0, prior_sd^2)`` (biases unpenalised), with the non-negativity bounds enforced by
L-BFGS-B. Presentation weights balance bona fide and attack within each media type, so the
probability is calibrated for equal prior odds and a media type cannot borrow its bias from
the other (the developer set's stills are mostly attacks, its videos mostly bona fide).

Pure numpy/scipy; deterministic (no random start).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from kiosk.analysis.fusion import cue_evidence

MEDIA = ("video", "still")


def evidence_matrix(signal_sets: Sequence[Sequence[Mapping]], names: Sequence[str],
                    floors: Mapping[str, float] | None = None) -> np.ndarray:
    """Evidence (:func:`~kiosk.analysis.fusion.cue_evidence`) per presentation and cue.

    Parameters
    ----------
    signal_sets : sequence of sequence of mapping
        Per presentation, its Signals as mappings with ``name``, ``score``, ``confidence``
        (or Signal objects).
    names : sequence of str
        The cues, in column order; a cue absent from a presentation gives 0.
    floors : mapping of str to float, optional
        Each cue's floor (0 when omitted: evidence = confidence * score).

    Returns
    -------
    ndarray (N, K) float64
    """
    x = np.zeros((len(signal_sets), len(names)))
    col = {n: k for k, n in enumerate(names)}
    for i, signals in enumerate(signal_sets):
        for s in signals:
            get = s.get if isinstance(s, Mapping) else (lambda key, s=s: getattr(s, key))
            k = col.get(str(get("name")))
            if k is not None:
                floor = 0.0 if floors is None else float(floors[names[k]])
                x[i, k] = cue_evidence(float(get("score") or 0.0),
                                       float(get("confidence") or 0.0), floor)
    return x


def balanced_weights(labels: np.ndarray, media: np.ndarray) -> np.ndarray:
    """Presentation weights: within each media type, bona fide and attacks weigh half each.

    Parameters
    ----------
    labels : ndarray (N,) int
        1 = attack, 0 = bona fide.
    media : ndarray (N,) int
        Index into :data:`MEDIA` (0 video, 1 still).

    Returns
    -------
    ndarray (N,) float64
        Summing to N over each media type that has both classes (so the prior's strength is
        relative to the number of presentations); 0 for a media type with one class only.
    """
    labels, media = np.asarray(labels), np.asarray(media)
    w = np.zeros(len(labels))
    for m in np.unique(media):
        in_m = media == m
        n_m = int(in_m.sum())
        for y in (0, 1):
            cell = in_m & (labels == y)
            if cell.any() and (in_m & (labels != y)).any():
                w[cell] = 0.5 * n_m / cell.sum()
    return w


@dataclass(frozen=True)
class FittedFusion:
    """Biases per media type and non-negative cue weights (still: single-frame cues only)."""

    names: tuple[str, ...]
    still_names: tuple[str, ...]
    bias: Mapping[str, float]
    weights: np.ndarray

    def logit(self, x: np.ndarray, media: np.ndarray) -> np.ndarray:
        """Log-odds of attack for evidence rows ``x`` (N, K) of media ``media`` (N,)."""
        x = np.asarray(x, np.float64)
        media = np.asarray(media)
        mask = np.ones((len(media), len(self.names)))
        still_cols = np.array([n in self.still_names for n in self.names])
        mask[media == 1] = still_cols
        b = np.where(media == 1, self.bias["still"], self.bias["video"])
        return b + (x * mask) @ self.weights

    def probability(self, x: np.ndarray, media: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.logit(x, media), -50, 50)))


def fit_fusion(x: np.ndarray, labels: np.ndarray, media: np.ndarray, names: Sequence[str],
               still_names: Sequence[str], *, prior_sd: float,
               sample_weight: np.ndarray | None = None) -> FittedFusion:
    """Penalised, constrained logistic fit (see the module docstring).

    Parameters
    ----------
    x : ndarray (N, K)
        Evidence per presentation and cue (:func:`evidence_matrix`).
    labels : ndarray (N,)
        1 = attack, 0 = bona fide.
    media : ndarray (N,)
        0 = video, 1 = still.
    names, still_names : sequence of str
        The K cues, and those the still model uses.
    prior_sd : float
        Standard deviation of the Gaussian prior on each weight (log-odds per unit evidence).
    sample_weight : ndarray (N,), optional
        Defaults to :func:`balanced_weights`.

    Returns
    -------
    FittedFusion
        A media type without both classes keeps bias 0.
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(labels, np.float64)
    media = np.asarray(media)
    if x.ndim != 2 or x.shape != (len(y), len(names)) or media.shape != y.shape:
        raise ValueError(f"x must be (N, {len(names)}) with labels and media of length N, got "
                         f"{x.shape}, {y.shape}, {media.shape}")
    if not prior_sd > 0:
        raise ValueError(f"prior_sd must be > 0, got {prior_sd}")
    a = balanced_weights(labels, media) if sample_weight is None else np.asarray(sample_weight)
    still_cols = np.array([n in still_names for n in names], np.float64)
    xm = x * np.where((media == 1)[:, None], still_cols[None, :], 1.0)
    k = len(names)
    lam = 1.0 / (2.0 * prior_sd ** 2)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        b = np.where(media == 1, theta[1], theta[0])
        z = b + xm @ theta[2:]
        # log(1 + e^z) - y z, stably
        loss = a * (np.logaddexp(0.0, z) - y * z)
        r = a * (1.0 / (1.0 + np.exp(-z)) - y)
        grad = np.empty_like(theta)
        grad[0] = r[media == 0].sum()
        grad[1] = r[media == 1].sum()
        grad[2:] = xm.T @ r + 2.0 * lam * theta[2:]
        return float(loss.sum() + lam * np.sum(theta[2:] ** 2)), grad

    theta0 = np.zeros(2 + k)
    bounds = [(-30.0, 30.0), (-30.0, 30.0)] + [(0.0, None)] * k
    res = minimize(objective, theta0, jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": 2000, "gtol": 1e-9})
    if not res.success:
        raise RuntimeError(f"fusion fit did not converge: {res.message}")
    theta = res.x
    return FittedFusion(names=tuple(names), still_names=tuple(still_names),
                        bias={"video": float(theta[0]), "still": float(theta[1])},
                        weights=np.asarray(theta[2:], np.float64))
