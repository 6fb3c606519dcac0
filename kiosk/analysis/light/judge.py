"""The light judge: did a face in the room answer the colours the screen showed?

Three checks from the published work (Face Flashing, NDSS 2018; FaceRevelio, MobiCom 2020;
LiveScreen, INFOCOM 2020), each on the per-frame colours of :mod:`.regions`:

1. **Reflection.** The face's colour, divided by what the background does (so auto exposure,
   white balance and an injected tint of the whole picture cancel), follows the emitted
   colours with one delay: a significant, mostly-explaining, positive per-channel fit
   (:func:`kiosk.analysis.light.fit.fit_channels`). And the face answers far more than the
   background (the *ratio*): a face 0.3-0.6 m from the screen receives (distance ratio)^2,
   about 10 times, the light of a wall 1.5 m or more away; a tint injected into the stream
   changes both alike (ratio about 1).
2. **Timing.** Each change shows on the face after the same delay, the camera's own: within
   about a frame across changes, and no later than a camera's latency.
3. **Shape.** A face in relief answers unevenly: the nose faces the screen while the cheeks
   turn away; a print is one plane, on which the nose takes the cheeks' mean; a phone's
   glass mirrors the screen on part of the face only, or evenly.

:func:`judge` returns a :class:`~kiosk.analysis.light.result.LightResult`.
"""

from __future__ import annotations

import numpy as np

from kiosk.analysis.light.checks import (
    background_gain,
    change_delays,
    fit_at,
    relief,
    response_ratio,
    search,
)
from kiosk.analysis.light.fit import clean_windows, emitted_linear, segment_means
from kiosk.analysis.light.limits import (
    FULL_SEGMENTS,
    MAX_CLIPPED,
    MAX_DELAY_S,
    MAX_FLAT,
    MAX_HALF_CLIPPED,
    MAX_P_VALUE,
    MAX_SHAPE_NOISE,
    MAX_SPREAD_FRAMES,
    MIN_BACKGROUND_SHARE,
    MIN_DELAY_FRAMES,
    MIN_FIT,
    MIN_FPS,
    MIN_RATIO,
    MIN_SEGMENTS,
    MIN_SPREAD_LIMIT_S,
    SEARCH_DELAY_S,
)
from kiosk.analysis.light.regions import REGION_NAMES
from kiosk.analysis.light.result import LightResult, Unjudged, not_judged
from kiosk.analysis.light.sequence import LightSequence
from kiosk.reasons import Reason

__all__ = ["MAX_DELAY_S", "judge", "region_colours", "significance_level"]

#: The regions the shape check compares (nose against both cheeks).
SHAPE_REGIONS = tuple(REGION_NAMES.index(n) for n in ("nose", "cheek_right", "cheek_left"))


def significance_level(seq: LightSequence) -> float:
    """The p-value a fit must reach: :data:`MAX_P_VALUE` over the number of independent
    alignments the delay search tries (its span over the sequence's mean segment)."""
    mean_segment = float(np.mean([s.duration for s in seq.segments]))
    return MAX_P_VALUE / max(1.0, (SEARCH_DELAY_S[1] - SEARCH_DELAY_S[0]) / mean_segment)


def _spread_limit(interval: float) -> float:
    return max(MAX_SPREAD_FRAMES * interval, MIN_SPREAD_LIMIT_S)


def region_colours(face: np.ndarray, lower: np.ndarray | None, clipped: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Each region's colour for the judge, and whether clipping left it measurable.

    A region whose pixels clipped in :data:`MAX_CLIPPED` of them or more, on average, has a
    mean that cannot show the light added to its brightest pixels: it is measured by its
    darker half when that was recorded and the region stayed under
    :data:`MAX_HALF_CLIPPED` in every frame, and is not measurable otherwise (its mean
    is kept).

    Parameters
    ----------
    face : ndarray (N, 5, 3)
        Mean linear R, G, B of each region.
    lower : ndarray (N, 5, 3) or None
        Linear R, G, B of each region's darker half (None: not recorded).
    clipped : ndarray (N, 5)
        Share of clipped pixels per region.

    Returns
    -------
    colours : ndarray (N, 5, 3)
    measurable : ndarray (5,) bool
    """
    colours = face.copy()
    measurable = np.ones(face.shape[1], bool)
    if clipped.shape[0] == 0:
        return colours, measurable
    for r in range(face.shape[1]):
        if clipped[:, r].mean() < MAX_CLIPPED:
            continue
        if lower is not None and clipped[:, r].max() < MAX_HALF_CLIPPED \
                and np.isfinite(lower[:, r]).all():
            colours[:, r] = lower[:, r]
        else:
            measurable[r] = False
    return colours, measurable


def judge(t: np.ndarray, face: np.ndarray, background: np.ndarray, clipped: np.ndarray,
          seq: LightSequence, *, settle_s: float = 0.0,
          max_delay_s: float = MAX_DELAY_S, face_lower: np.ndarray | None = None
          ) -> LightResult:
    """Judge one recording's answer to one sequence.

    Parameters
    ----------
    t : ndarray (N,)
        Times of the frames with a face, increasing, in the sequence's time base.
    face : ndarray (N, 5, 3)
        Linear R, G, B of the five skin regions (:func:`.regions.face_region_means`).
    background : ndarray (N, K, 3)
        Linear R, G, B of the background bands (NaN where a band was not measurable).
    clipped : ndarray (N, 5)
        Share of clipped pixels per region.
    seq : LightSequence
    settle_s : float
        Time the screen takes to show a new colour over its whole area after its painted
        time (a wipe); frames in it are left out of the segment means.
    max_delay_s : float
        The latest delay a camera of this kiosk can have (see :data:`MAX_DELAY_S`).
    face_lower : ndarray (N, 5, 3), optional
        Linear R, G, B of each skin region's darker half (:func:`.regions.face_region_means`),
        which measures a region that clipping biases (:func:`region_colours`); without it
        such a region is not measurable, and an answer whose nose or cheek is not is too
        bright to judge.

    Returns
    -------
    LightResult
    """
    t = np.asarray(t, np.float64)
    face = np.asarray(face, np.float64)
    background = np.asarray(background, np.float64)
    n = t.shape[0] if t.ndim == 1 else -1
    if n < 0 or face.shape != (n, 5, 3) or background.ndim != 3 \
            or background.shape[0] != n or background.shape[2] != 3:
        raise ValueError(f"t must be (N,), face (N, 5, 3) and background (N, K, 3); got "
                         f"{t.shape}, {face.shape}, {background.shape}")
    clipped = np.asarray(clipped, np.float64)
    if clipped.shape != (n, 5):
        raise ValueError(f"clipped must be (N, 5), got {clipped.shape}")
    lower = None if face_lower is None else np.asarray(face_lower, np.float64)
    if lower is not None and lower.shape != (n, 5, 3):
        raise ValueError(f"face_lower must be (N, 5, 3), got {lower.shape}")
    if n > 1 and not (np.diff(t) > 0).all():
        raise ValueError("t must increase strictly")
    lo, hi = seq.start - 0.1, seq.end + SEARCH_DELAY_S[1] + 0.2
    keep = (t >= lo) & (t <= hi) & np.isfinite(face).all(axis=(1, 2))
    t, face, background, clipped = t[keep], face[keep], background[keep], clipped[keep]
    lower = None if lower is None else lower[keep]
    clip_region = clipped.mean(axis=0) if keep.any() else np.zeros(5)
    clip_share = float(clip_region.mean())
    if t.size < 2 * MIN_SEGMENTS:
        return not_judged(Unjudged.FACE, f"only {t.size} frames with a face during the sequence")
    interval = float(np.median(np.diff(t)))
    if 1.0 / interval < MIN_FPS:
        return not_judged(Unjudged.FRAME_RATE, f"frame rate {1.0 / interval:.1f} fps, below {MIN_FPS:g}")
    g, bg_share = background_gain(background)
    if bg_share < MIN_BACKGROUND_SHARE:
        return not_judged(Unjudged.BACKGROUND, "the background beside the face was not visible")
    gv = np.isfinite(g).all(axis=1)
    t, face, g, clipped = t[gv], face[gv], g[gv], clipped[gv]
    # Every measure below, the whole face's too, takes a clipped region by its darker half:
    # a highlight's constant white in the face's mean bent the colours of its answer.
    face, measurable = region_colours(face, None if lower is None else lower[gv], clipped)
    q = face.mean(axis=1) / g
    e = emitted_linear(seq)
    best = search(t, q, seq, e, interval, settle_s)
    if best is None:
        return not_judged(Unjudged.FACE, f"fewer than {MIN_SEGMENTS} segments of the sequence were seen")
    _, delay, use, fit, y, scale = best
    max_p = significance_level(seq)
    reflected = fit.p_value <= max_p and fit.fit >= MIN_FIT
    delays = (change_delays(t, q, seq, use, fit, y, scale, delay, interval) if reflected
              else [])
    if len(delays) >= 2:
        # Refine: the half-change delay is the latency plus half the exposure (at most one
        # interval), so frames from half an interval after it see the new colour alone.
        med = float(np.median(delays))
        refined = med - interval / 2.0
        windows = clean_windows(seq, refined, interval, settle_s)
        _, counts, _ = segment_means(t, q, windows)
        if (counts > 0).sum() >= MIN_SEGMENTS:
            delay, use = refined, counts > 0
            fit, y, scale = fit_at(t, q, seq, e, use, delay, interval, settle_s)
            reflected = fit.p_value <= max_p and fit.fit >= MIN_FIT
    else:
        med = delay + interval / 2.0
    spread = (1.4826 * float(np.median(np.abs(np.array(delays) - med)))
              if len(delays) >= 3 else None)
    judged = int(use.sum())
    details = {"p_value": fit.p_value, "max_p_value": max_p, "fps": 1.0 / interval,
               "frames": int(t.size), "clipped": clip_share, "search_delay_ms": delay * 1e3,
               "changes_timed": len(delays)}
    confidence = min(1.0, (judged - 1) / (FULL_SEGMENTS - 1))
    ratio = response_ratio(t, face.mean(axis=1), g, seq, e, interval, settle_s,
                   delay if reflected else None)
    if not reflected:
        if clip_share >= MAX_CLIPPED:
            return LightResult(False, fit.fit, None, None, ratio, None,
                               (Reason.LIGHT_TOO_BRIGHT_AMBIENT,), 0.0, judged,
                               f"{clip_share:.0%} of the skin was clipped", details)
        return LightResult(False, fit.fit, None, None, ratio, None,
                           (Reason.LIGHT_NOT_REFLECTED,), confidence, judged, None, details)
    reasons = []
    if ratio is None or ratio < MIN_RATIO:
        reasons.append(Reason.LIGHT_NOT_REFLECTED)
    late = med > max_delay_s or med < MIN_DELAY_FRAMES * interval
    if late or (spread is not None and spread > _spread_limit(interval)):
        reasons.append(Reason.LIGHT_TIMING)
    nose, relief_se, partial, shape = relief(t, face, g, seq, e, use, delay, interval,
                                             settle_s, fit, y, measurable)
    details.update(shape)
    uneven = None if nose is None else abs(nose)
    # "cheek_right" -> "right cheek": staff read this in the attempt's details.
    unseen = [" ".join(reversed(REGION_NAMES[r].split("_"))) for r in SHAPE_REGIONS
              if not measurable[r]]
    if unseen and not reasons and not partial:
        # An answer whose shape clipping hid never passes: a print lit until its nose
        # clipped answered as a face of unknown shape (it failed open). What the measured
        # regions show against it (late, too weak, a region that did not answer) stays a
        # failure: a highlight is no way out of the lockout count.
        return LightResult(False, fit.fit, med * 1e3, None if spread is None else spread * 1e3,
                           ratio, None, (Reason.LIGHT_TOO_BRIGHT_AMBIENT,), 0.0, judged,
                           f"the {', '.join(unseen)} clipped too much to show the shape "
                           "of the answer", details)
    if partial or (uneven is not None and uneven + 2.0 * relief_se < MAX_FLAT):
        reasons.append(Reason.LIGHT_FLAT)
    elif uneven is None or relief_se > MAX_SHAPE_NOISE:
        confidence *= 0.75      # the shape could not have shown a flat answer
    return LightResult(not reasons, fit.fit, med * 1e3,
                       None if spread is None else spread * 1e3, ratio, uneven,
                       tuple(reasons), confidence, judged, None, details)
