"""The numbers behind the light judge: segment means at a delay, a per-channel fit of the
observed colour to the emitted one, change times, and and one region's response scaled to the face's.

Pure numpy (and scipy's F distribution). Colours are in R, G, B order; emitted colours are
linear light (the sequence's sRGB decoded).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from kiosk.analysis.light.sequence import LightSequence, srgb_to_linear


def emitted_linear(seq: LightSequence) -> np.ndarray:
    """Linear light of each segment's colour, ``(J, 3)`` float64 in [0, 1], R, G, B."""
    return np.array([[srgb_to_linear(c) for c in s.rgb] for s in seq.segments])


def clean_windows(seq: LightSequence, delay: float, exposure: float, settle: float
                  ) -> np.ndarray:
    """Frame-time windows in which a frame saw one segment's colour alone.

    A frame stamped ``t`` integrated the light emitted during ``[t - delay - exposure,
    t - delay]``; it is clean for segment ``j`` when that lies within ``[start_j + settle,
    end_j]`` (``settle``: the screen's own switching, a wipe).

    Returns
    -------
    ndarray (J, 2) float64
        ``[lo, hi]`` of frame times per segment (``lo > hi`` when no frame can be clean).
    """
    starts = np.array([s.start for s in seq.segments])
    ends = np.array([s.end for s in seq.segments])
    return np.stack([starts + settle + delay + exposure, ends + delay], axis=1)


def segment_means(t: np.ndarray, values: np.ndarray, windows: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean of ``values`` over the frames inside each window.

    Parameters
    ----------
    t : ndarray (N,)
        Frame times, increasing.
    values : ndarray (N, ...)
        Per-frame values; rows with any NaN are skipped.
    windows : ndarray (J, 2)
        ``[lo, hi]`` per segment (inclusive).

    Returns
    -------
    means : ndarray (J, ...)
        NaN where a window holds no valid frame.
    counts : ndarray (J,) int64
    mid : ndarray (J,)
        Mean time of the frames used (NaN where none).
    """
    flat = values.reshape(len(t), -1)
    valid = np.isfinite(flat).all(axis=1)
    lo = np.searchsorted(t, windows[:, 0], side="left")
    hi = np.searchsorted(t, windows[:, 1], side="right")
    means = np.full((len(windows), flat.shape[1]), np.nan)
    counts = np.zeros(len(windows), np.int64)
    mid = np.full(len(windows), np.nan)
    for j, (a, b) in enumerate(zip(lo, hi, strict=True)):
        if b <= a:
            continue
        ok = valid[a:b]
        n = int(ok.sum())
        if n:
            means[j] = flat[a:b][ok].mean(axis=0)
            counts[j] = n
            mid[j] = float(t[a:b][ok].mean())
    return means.reshape((len(windows), *values.shape[1:])), counts, mid


def _checked(y: np.ndarray, other: np.ndarray, tau: np.ndarray, name: str
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``y`` and ``other`` as (J, 3) float64 and ``tau`` as (J,); ValueError naming them."""
    y = np.asarray(y, np.float64)
    other = np.asarray(other, np.float64)
    tau = np.asarray(tau, np.float64)
    if y.ndim != 2 or y.shape[1] != 3 or other.shape != y.shape or tau.shape != (y.shape[0],):
        raise ValueError(f"y and {name} must be (J, 3) and tau (J,), got {y.shape}, "
                         f"{other.shape}, {tau.shape}")
    return y, other, tau


@dataclass(frozen=True)
class ChannelFit:
    """Least-squares fit of observed segment colours to emitted ones, channel by channel.

    Model, per channel ``c``: ``y[j, c] = a[c] + b[c] * tau[j] + k[c] * e[j, c]``, with the
    gain ``k[c] >= 0`` (light reflected from the screen only adds) and the trend ``b`` only
    when asked for (slow drifts: head motion, auto exposure).

    Attributes
    ----------
    gain, gain_se : ndarray (3,)
        ``k`` and its standard error (NaN where ``k`` was held at 0).
    intercept, intercept_se : ndarray (3,)
        ``a``, the level with the screen dark at the middle time, and its standard error.
    fitted : ndarray (J, 3)
    ss_res, ss_nuisance : float
        Residual sum of squares of the whole model and of the model without the light term.
    dof : int
        Residual degrees of freedom.
    fit : float
        Share of the variance left by the nuisance terms that the light term explains, 0-1.
    p_value : float
        F-test of the light term against the nuisance model (1.0 when no gain is positive).
    """

    gain: np.ndarray
    gain_se: np.ndarray
    intercept: np.ndarray
    intercept_se: np.ndarray
    fitted: np.ndarray
    ss_res: float
    ss_nuisance: float
    dof: int
    fit: float
    p_value: float


def fit_channels(y: np.ndarray, e: np.ndarray, tau: np.ndarray, trend: bool) -> ChannelFit:
    """Fit ``y`` (J, 3) to emitted ``e`` (J, 3) with times ``tau`` (J,); see :class:`ChannelFit`.

    The nuisance terms are projected out of both sides (Frisch-Waugh), so each channel's gain
    is one ratio of dot products; a negative gain is held at 0 (that channel then explains
    nothing).

    Raises
    ------
    ValueError
        Shapes disagree, or too few segments for the parameters (J <= 3 with a trend,
        J <= 2 without).
    """
    y, e, tau = _checked(y, e, tau, "e")
    n_seg = y.shape[0]
    n_nuis = 2 if trend else 1
    if n_seg <= n_nuis + 1:
        raise ValueError(f"y needs more than {n_nuis + 1} segments, got {n_seg}")
    nuis = np.column_stack([np.ones(n_seg), tau - tau.mean()][:n_nuis])
    inv_nn = np.linalg.inv(nuis.T @ nuis)
    hat = nuis @ inv_nn @ nuis.T
    ry = y - hat @ y                                   # (J, 3) residual of the drift fit
    re = e - hat @ e
    ee = np.einsum("jc,jc->c", re, re)
    ey = np.einsum("jc,jc->c", re, ry)
    ss_nuis_c = np.einsum("jc,jc->c", ry, ry)
    positive = (ee > 1e-12) & (ey > 0)
    gain = np.where(positive, ey / np.where(ee > 1e-12, ee, 1.0), 0.0)
    ss_res_c = ss_nuis_c - np.where(positive, gain * ey, 0.0)
    n_pos = int(positive.sum())
    ss_res, ss_nuis = float(max(ss_res_c.sum(), 0.0)), float(ss_nuis_c.sum())
    dof = 3 * n_seg - 3 * n_nuis - n_pos
    sigma2 = ss_res / dof if dof > 0 else np.nan
    beta = inv_nn @ nuis.T @ (y - gain * e)            # (n_nuis, 3) drift coefficients
    fitted = nuis @ beta + gain * e
    gain_se = np.where(positive, np.sqrt(sigma2 / np.where(ee > 1e-12, ee, 1.0)), np.nan)
    # Var(a) = sigma2 [(N'N)^-1 + b b' / (re.re)] with b = (N'N)^-1 N' e (held gains: no b).
    b0 = (inv_nn @ nuis.T @ e)[0]
    extra = np.where(positive, b0 ** 2 / np.where(ee > 1e-12, ee, 1.0), 0.0)
    intercept_se = np.sqrt(sigma2 * (inv_nn[0, 0] + extra))
    fit = 1.0 - ss_res / ss_nuis if ss_nuis > 0 else 0.0
    if n_pos and dof > 0 and ss_res > 0:
        f_stat = ((ss_nuis - ss_res) / n_pos) / (ss_res / dof)
        p_value = float(special.fdtrc(n_pos, dof, f_stat))
    elif n_pos and dof > 0 and ss_nuis > 0:
        p_value = 0.0
    else:
        p_value = 1.0
    return ChannelFit(gain, gain_se, beta[0].copy(), intercept_se, fitted, ss_res, ss_nuis,
                      dof, float(np.clip(fit, 0.0, 1.0)), p_value)


@dataclass(frozen=True)
class ScaledFit:
    """Fit of one region's segment colours to a fixed colour pattern times one scale.

    Model, per channel ``c``: ``y[j, c] = a[c] + b[c] * tau[j] + scale * pattern[j, c]``;
    the pattern is the whole face's fitted light term, so ``scale`` is the region's
    response relative to the face's (the same skin answers each colour alike; only the
    amount of light differs from region to region).

    Attributes
    ----------
    scale, scale_se : float
    dark, dark_se : float
        The region's level with the screen dark (intercepts weighted like the pattern's
        channels) and its standard error.
    """

    scale: float
    scale_se: float
    dark: float
    dark_se: float


def fit_scaled(y: np.ndarray, pattern: np.ndarray, tau: np.ndarray, trend: bool) -> ScaledFit:
    """Fit ``y`` (J, 3) as ``pattern`` (J, 3) times a scale plus per-channel drift.

    Raises
    ------
    ValueError
        Shapes disagree or too few segments.
    """
    y, pat, tau = _checked(y, pattern, tau, "pattern")
    n_seg = y.shape[0]
    n_nuis = 2 if trend else 1
    if 3 * n_seg <= 3 * n_nuis + 1:
        raise ValueError(f"y needs more than {n_nuis} segments, got {n_seg}")
    cols = []
    for c in range(3):
        one = np.zeros((n_seg, 3))
        one[:, c] = 1.0
        cols.append(one.reshape(-1))
    if trend:
        for c in range(3):
            slope = np.zeros((n_seg, 3))
            slope[:, c] = tau - tau.mean()
            cols.append(slope.reshape(-1))
    cols.append(pat.reshape(-1))
    design = np.column_stack(cols)
    beta, *_ = np.linalg.lstsq(design, y.reshape(-1), rcond=None)
    resid = y.reshape(-1) - design @ beta
    dof = design.shape[0] - design.shape[1]
    sigma2 = float(resid @ resid) / dof
    cov = sigma2 * np.linalg.pinv(design.T @ design)
    w = np.abs(pat).sum(axis=0)
    w = w / w.sum() if w.sum() > 0 else np.full(3, 1.0 / 3.0)
    dark = float(w @ beta[:3])
    dark_se = float(np.sqrt(max(w @ cov[:3, :3] @ w, 0.0)))
    return ScaledFit(float(beta[-1]), float(np.sqrt(max(cov[-1, -1], 0.0))), dark, dark_se)


def crossing_time(t: np.ndarray, p: np.ndarray, expected: float, half_window: float
                  ) -> float | None:
    """When a projected change ``p`` (0 before, 1 after) passes 0.5, nearest ``expected``.

    Parameters
    ----------
    t : ndarray (N,)
        Frame times, increasing.
    p : ndarray (N,)
        The frames' position between the old (0) and the new (1) level; NaN frames skipped.
    expected : float
        Where the change should be.
    half_window : float
        Only frames within this of ``expected`` are looked at.

    Returns
    -------
    float or None
        The crossing time, linearly interpolated between the two frames around it; None when
        the window holds no upward crossing.
    """
    sel = (np.abs(t - expected) <= half_window) & np.isfinite(p)
    ts, ps = t[sel], p[sel]
    best = None
    for i in range(len(ts) - 1):
        if ps[i] < 0.5 <= ps[i + 1]:
            tc = ts[i] + (0.5 - ps[i]) / (ps[i + 1] - ps[i]) * (ts[i + 1] - ts[i])
            if best is None or abs(tc - expected) < abs(best - expected):
                best = float(tc)
    return best
