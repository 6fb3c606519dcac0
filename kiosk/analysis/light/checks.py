"""The light judge's measurements: the picture's own change, the delay search, the fit at a
delay, the face-to-background ratio, the per-change delays, and the relief of the response.

Each takes the per-frame arrays of :func:`kiosk.analysis.light.judge.judge` (frame times
``t`` (N,), colours (N, 3) or (N, 5, 3) linear R, G, B), the sequence, its emitted linear
colours ``e`` (J, 3), the frame interval and the screen's settle time.
"""

from __future__ import annotations

import math

import numpy as np

from kiosk.analysis.light.fit import (
    ChannelFit,
    clean_windows,
    crossing_time,
    fit_channels,
    fit_scaled,
    segment_means,
)
from kiosk.analysis.light.limits import (
    CHANGE_SNR,
    MAX_RATIO,
    MIN_REGION_SHARE,
    MIN_SEGMENTS,
    SEARCH_DELAY_S,
    TREND_SEGMENTS,
)
from kiosk.analysis.light.regions import REGION_NAMES
from kiosk.analysis.light.sequence import LightSequence

#: What :func:`search` found: (p-value, -fit), the delay, the segments used (J,) bool, the fit,
#: the segment means it fitted (normalised) and their per-channel scale.
SearchResult = tuple[tuple[float, float], float, np.ndarray, ChannelFit, np.ndarray, np.ndarray]


def background_gain(background: np.ndarray) -> tuple[np.ndarray, float]:
    """Per-frame multiplicative change of the whole picture, (N, 3), from the bands.

    Each band is divided by its own median over the frames it was measured in (so bands of
    different brightness weigh alike), and the frame's change is the mean of its measured
    bands; NaN in frames where none was measured. Also returns that share of frames.
    """
    n, k = background.shape[:2]
    ok = np.isfinite(background).all(axis=2)                       # (N, K)
    rel = np.zeros((n, k, 3))
    for b in range(k):
        if ok[:, b].any():
            med = np.median(background[ok[:, b], b], axis=0)
            if (med > 0).all():
                rel[ok[:, b], b] = background[ok[:, b], b] / med
                continue
        ok[:, b] = False
    count = ok.sum(axis=1)
    gain = np.full((n, 3), np.nan)
    seen = count > 0
    gain[seen] = rel[seen].sum(axis=1) / count[seen, None]
    return gain, float(seen.mean()) if n else 0.0


def search(t: np.ndarray, trace: np.ndarray, seq: LightSequence, e: np.ndarray,
           interval: float, settle: float) -> SearchResult | None:
    """The delay whose segment means fit the emitted colours best (smallest p-value), on a
    grid of half a frame interval (the change times refine it afterwards)."""
    step = max(interval / 2.0, 0.005)
    best: SearchResult | None = None
    for d in np.arange(SEARCH_DELAY_S[0], SEARCH_DELAY_S[1] + 1e-9, step):
        windows = clean_windows(seq, float(d), interval, settle)
        means, counts, mid = segment_means(t, trace, windows)
        use = counts > 0
        if use.sum() < MIN_SEGMENTS:
            continue
        scale = means[use].mean(axis=0)
        y = means[use] / scale
        fit = fit_channels(y, e[use], mid[use], trend=use.sum() >= TREND_SEGMENTS)
        key = (fit.p_value, -fit.fit)
        if best is None or key < best[0]:
            best = (key, float(d), use, fit, y, scale)
    return best


def fit_at(t: np.ndarray, trace: np.ndarray, seq: LightSequence, e: np.ndarray,
           use: np.ndarray, delay: float, interval: float, settle: float,
           normalise: bool = True) -> tuple[ChannelFit, np.ndarray, np.ndarray]:
    """Fit at one delay: the fit, the segment means it used and their scale (per channel)."""
    windows = clean_windows(seq, delay, interval, settle)
    means, _, mid = segment_means(t, trace, windows)
    y = means[use]
    scale = y.mean(axis=0) if normalise else np.ones(3)
    y = y / scale
    return fit_channels(y, e[use], mid[use], trend=use.sum() >= TREND_SEGMENTS), y, scale


def response_ratio(t: np.ndarray, face: np.ndarray, g: np.ndarray, seq: LightSequence,
                   e: np.ndarray, interval: float, settle: float,
                   delay: float | None) -> float | None:
    """Face-to-background response ratio: the norm of the raw face's relative per-channel
    gains over the raw background's, at ``delay`` (or, when None, at the delay where the raw
    face follows the sequence best: an injected tint follows it on the face and the
    background alike)."""
    if delay is None:
        best = search(t, face, seq, e, interval, settle)
        if best is None:
            return None
        delay = best[1]
    windows = clean_windows(seq, delay, interval, settle)
    _, counts, _ = segment_means(t, face, windows)
    use = counts > 0
    if use.sum() < MIN_SEGMENTS:
        return None
    face_fit, _, _ = fit_at(t, face, seq, e, use, delay, interval, settle)
    bg_fit, _, _ = fit_at(t, g, seq, e, use, delay, interval, settle)
    bg_se = np.where(np.isfinite(bg_fit.gain_se), bg_fit.gain_se, 0.0)
    bg_size = max(float(np.linalg.norm(bg_fit.gain)), float(np.linalg.norm(bg_se)), 1e-6)
    return min(float(np.linalg.norm(face_fit.gain)) / bg_size, MAX_RATIO)


def change_delays(t: np.ndarray, q: np.ndarray, seq: LightSequence, use: np.ndarray,
                  fit: ChannelFit, y: np.ndarray, scale: np.ndarray, delay: float,
                  interval: float) -> list[float]:
    """Per-change delays (s) from the crossing of half of each change on the whole face."""
    idx = np.flatnonzero(use)
    level = {int(j): fit.fitted[k] for k, j in enumerate(idx)}
    resid = y - fit.fitted
    noise = float(np.sqrt(np.mean(resid ** 2))) if resid.size else 0.0
    qn = q / scale
    # The fit's residual per segment and channel: changes smaller than a few of these are not
    # timed (a floor keeps noiseless test signals finite).
    frame_noise = max(noise, 1e-4)
    delays: list[float] = []
    for j in seq.changes():
        if j not in level or j - 1 not in level:
            continue
        step = level[j] - level[j - 1]
        size = float(np.linalg.norm(step))
        if size < CHANGE_SNR * frame_noise:
            continue
        p = (qn - level[j - 1]) @ step / (size * size)
        start = seq.change_time(j)
        half = min(seq.segments[j - 1].duration, seq.segments[j].duration) / 2.0
        tc = crossing_time(t, p, start + delay + interval / 2.0, half)
        if tc is not None:
            delays.append(tc - start)
    return delays


def relief(t: np.ndarray, face: np.ndarray, g: np.ndarray, seq: LightSequence,
           e: np.ndarray, use: np.ndarray, delay: float, interval: float, settle: float,
           whole: ChannelFit, y_whole: np.ndarray, measurable: np.ndarray
           ) -> tuple[float | None, float, bool, dict[str, float]]:
    """The relief of the response: nose against cheeks, and whether every region answered.

    Each region's colour (its mean, or its darker half's where clipping would bias the mean:
    :func:`kiosk.analysis.light.judge.region_colours`; divided by the background's change,
    and by its own mean per channel) is fitted as the whole face's change times one scale
    (``fit_scaled``): diffuse light from the screen adds in proportion to the skin's own
    colour, so a region differs from the face only by how much light it receives. Its
    *relative* response is that scale over its level with the screen dark: the screen's
    light over the room's. The whole face's change is what it did beyond its drift (the
    fitted light term plus what the per-channel model leaves: the camera's cross-talk
    between channels).

    Returns
    -------
    relief : float or None
        log(nose's relative response) - mean log(cheeks'), None when not measurable (or the
        nose or a cheek is not: ``measurable`` (5,) bool says which regions clipping left
        measurable).
    relief_se : float
    partial : bool
        A measurable region answered less than :data:`MIN_REGION_SHARE` of the face's
        answer, by two standard errors, while the face answered.
    details : dict
    """
    out: dict[str, float] = {}
    if not (whole.gain > 0).any():
        return None, math.inf, False, out
    pattern = y_whole - whole.fitted + e[use] * whole.gain
    windows = clean_windows(seq, delay, interval, settle)
    rel: list[float] = []
    rel_se: list[float] = []
    answered: list[bool] = []
    for r, name in enumerate(REGION_NAMES):
        means, _, mid = segment_means(t, face[:, r, :] / g, windows)
        y = means[use]
        f = fit_scaled(y / y.mean(axis=0), pattern, mid[use],
                       trend=use.sum() >= TREND_SEGMENTS)
        value = f.scale / f.dark if f.dark > 0 else 0.0
        # Relative error of a ratio: the scale's and the dark level's, added in quadrature.
        err = math.hypot(f.scale_se / max(abs(f.scale), 1e-9),
                         f.dark_se / max(abs(f.dark), 1e-9))
        rel.append(value)
        rel_se.append(err)
        answered.append(f.scale + 2.0 * f.scale_se >= MIN_REGION_SHARE
                        or not measurable[r])
        out[f"response_{name}"] = value
    rel_a, rel_se_a = np.array(rel), np.array(rel_se)
    partial = not all(answered)
    nose = REGION_NAMES.index("nose")
    cheeks = [REGION_NAMES.index("cheek_right"), REGION_NAMES.index("cheek_left")]
    if (rel_a <= 0).any() or not measurable[[nose, *cheeks]].all():
        return None, math.inf, partial, out
    lv = np.log(rel_a)
    relief = float(lv[nose] - lv[cheeks].mean())
    relief_se = float(math.sqrt(rel_se_a[nose] ** 2 + (rel_se_a[cheeks] ** 2).sum() / 4.0))
    out["relief_se"] = relief_se
    return relief, relief_se, partial, out
