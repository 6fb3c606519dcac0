"""Screen flicker: the whole picture's brightness jitters from frame to frame.

Physics. A display does not shine steadily: it refreshes 60-120 times a second and dims its
backlight or its OLED pixels by pulse-width modulation (a few hundred Hz). A camera filming
it integrates that light over its exposure, which starts at a different phase of the
display's cycle every frame: the picture's brightness jitters from one frame to the next, by
the same factor everywhere on the screen (the face and its replayed surroundings alike), and
with a rolling shutter as bands that move down the picture. A face lit by daylight or by
flicker-free lamps changes brightness only smoothly: auto-exposure steps over several frames,
movement changes one region at a time, and sensor noise averages out over each region.

Method. Every frame is reduced to the mean linear-light luminance of a coarse grid of cells
(GRID, the face included: on a screen, face and surroundings flicker together) and of the
face's own skin (forehead and cheeks, which move with the face, so their content stays the
same). Each region's log luminance is high-passed in time (minus its running median over
HP_FRAMES frames), which removes exposure drifts and slow lighting changes. The flicker of a
frame is the median of the regions' residuals (the common-mode change), weighted by how many
regions agree with its sign beyond chance: ``max(0, 2 * agree - 1)``. A display's jitter
scales every region the same way, so nearly all regions move together (weight near 1); a
change of the scene (movement, a person walking past a window) brightens some regions and
darkens others, and sensor noise has random signs (weight near 0). The cue is the RMS of the
weighted common mode over the session, in percent.

Frames must follow each other at the camera's own pace: a window of the high-pass that spans
a dropped frame (a step more than DROP_RATIO times the session's median step: a loaded kiosk
skipping frames, a phone slowing down) compares frames a scene had time to change between,
and a bona fide face read as a screen (liveness 69 on a live selfie whose last seconds came
at a third of the rate). Such frames are left out.

Limits: a room lit by mains-powered lamps that flicker at 100/120 Hz, seen by a camera
without anti-flicker exposure, jitters the same way (kiosk cameras set their power-line
frequency; see the README); below MIN_FPS the time between frames is long enough for real
lighting changes, and the cue says nothing. Between MIN_FPS and REFERENCE_FPS the scene has
more time to change between frames, so the jitter needed grows with the frame interval.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from kiosk.analysis.arrays import check_mesh
from kiosk.analysis.motion.regions import SKIN_REGIONS
from kiosk.model import FaceObservation, Frame, Signal
from kiosk.reasons import Reason

# Coarse grid of the frame (columns, rows): cells of 80x80 px at 640x480.
GRID = (8, 6)
# Cells and patches darker or brighter than these grey levels are not measured: clipped or
# near-black regions cannot show a relative change.
GREY_MIN, GREY_MAX = 12.0, 243.0
# Running-median length of the temporal high-pass (frames): an exposure step or a movement
# lasting 3 or more frames is removed; a one-frame jitter stays.
HP_FRAMES = 5
# Below this frame rate lighting and movement change too much between frames to tell a
# display's jitter from a scene's change.
MIN_FPS = 14.0
# A step between frames this much longer than the session's median step is a dropped frame.
DROP_RATIO = 1.5
# Fewest frames with a measurement, and frames at which confidence reaches 1 - 1/e.
MIN_FRAMES = 20
FRAMES_CONFIDENCE = 60
# Fewest regions measured in a frame.
MIN_REGIONS = 12
# Weighted common-mode jitter (percent RMS) -> score. A region of a few thousand pixels with
# sensor noise of 2 grey levels at mid-grey averages to < 0.05 % per frame, and video coding
# keeps static regions to within a grey level (< 0.5 % for one region, < 0.1 % for the median
# of 51); with random signs the agreement weight shrinks that further. So a steady scene's
# weighted common mode stays below about 0.1 %; a display sampled at random phases jitters by
# a few tenths of a percent to several percent (PWM depth times the fraction of a PWM cycle
# an exposure can gain or lose). Midpoint 0.15 %, half as much again as a steady scene's
# ceiling; width 0.04 %: 0.1 % -> 0.22, 0.25 % -> 0.92.
MIDPOINT_PCT, WIDTH_PCT = 0.15, 0.04
# The frame rate the midpoint is set for. A slower camera leaves more time between frames for
# the scene's own changes (auto-exposure steps, movement, a blink), so its steady-scene
# ceiling rises with the frame interval, while a display's jitter does not: each exposure
# samples the display's cycle at a random phase whatever the rate. Below this rate the
# midpoint and width grow in proportion to the interval (15 fps: 0.30 %, width 0.08 %).
# Measured on the developer clips decimated to 15 fps: live faces 0.000-0.156 % (0.107 % on
# a 15 fps re-encoding of real.mp4), the two phone replays the cue catches 0.80-0.99 %.
REFERENCE_FPS = 30.0
CONFIDENCE_CAP = 0.8
MAX_FRAMES = 3600

_LIN = ((np.arange(256, dtype=np.float64) / 255.0) ** 2.2).astype(np.float32)


def region_luminance(image: np.ndarray, landmarks: np.ndarray | None,
                     grid: tuple[int, int] = GRID) -> np.ndarray:
    """Mean linear-light luminance of the grid cells and of the skin patches of one frame.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8, BGR
        Not modified.
    landmarks : ndarray (N, 2 or 3) or None
        Face mesh in pixels (N >= 468); None measures the grid only.
    grid : (columns, rows)

    Returns
    -------
    ndarray (columns * rows + 3,) float64
        Cells row by row, then forehead, right cheek, left cheek; NaN where a region is
        clipped, too dark or (patches) outside the frame.
    """
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f"image must be (H, W, 3) uint8, got {img.shape} {img.dtype}")
    cols, rows = grid
    if img.shape[0] < rows or img.shape[1] < cols:
        raise ValueError(f"image must be at least {cols}x{rows} pixels, got {img.shape[:2]}")
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    cells = cv2.resize(grey, (cols, rows), interpolation=cv2.INTER_AREA).astype(np.float64)
    # Linearised at half resolution (a quarter of the cost; 2x2 blocks are near-uniform, so
    # averaging them before linearising changes a cell's mean by far less than its noise).
    half = cv2.resize(grey, (max(cols, grey.shape[1] // 2), max(rows, grey.shape[0] // 2)),
                      interpolation=cv2.INTER_AREA)
    lin = cv2.resize(_LIN[half], (cols, rows), interpolation=cv2.INTER_AREA).astype(np.float64)
    out = np.where((cells >= GREY_MIN) & (cells <= GREY_MAX), lin, np.nan).ravel()
    patches = np.full(len(SKIN_REGIONS), np.nan)
    if landmarks is not None:
        pts_all = check_mesh(landmarks)
        h, w = grey.shape
        for k, idx in enumerate(SKIN_REGIONS):
            pts = pts_all[list(idx)]
            x0, y0 = np.floor(pts.min(axis=0)).astype(int)
            x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + 1
            x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
            if x1 - x0 < 3 or y1 - y0 < 3:
                continue
            mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
            cv2.fillConvexPoly(mask, cv2.convexHull(np.round(pts - (x0, y0)).astype(np.int32)),
                               255)
            if not mask.any():
                continue
            level = cv2.mean(grey[y0:y1, x0:x1], mask=mask)[0]
            if GREY_MIN <= level <= GREY_MAX:
                patches[k] = cv2.mean(_LIN[grey[y0:y1, x0:x1]], mask=mask)[0]
    return np.concatenate([out, patches])


def common_flicker(series: np.ndarray, hp_frames: int = HP_FRAMES,
                   min_regions: int = MIN_REGIONS) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame common-mode brightness change and the agreement of the regions with it.

    Parameters
    ----------
    series : ndarray (T, K)
        Linear luminance of K regions over T consecutive frames (NaN where not measured).
    hp_frames : int
        Odd running-median length of the temporal high-pass.
    min_regions : int
        Frames with fewer measured regions are left out (NaN).

    Returns
    -------
    common : ndarray (T,)
        Median over regions of the high-passed log luminance (NaN where not measured; the
        first and last ``hp_frames // 2`` frames have no running median).
    weight : ndarray (T,)
        ``max(0, 2 * agree - 1)`` where ``agree`` is the share of measured regions whose
        change has the sign of ``common`` (NaN where not measured).
    """
    x = np.asarray(series, np.float64)
    if x.ndim != 2:
        raise ValueError(f"series must be (T, K), got {x.shape}")
    if hp_frames < 3 or hp_frames % 2 == 0:
        raise ValueError(f"hp_frames must be odd and >= 3, got {hp_frames}")
    t = x.shape[0]
    common, weight = np.full(t, np.nan), np.full(t, np.nan)
    if t < hp_frames:
        return common, weight
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(np.where(x > 0, x, np.nan))
    half = hp_frames // 2
    windows = np.lib.stride_tricks.sliding_window_view(logs, hp_frames, axis=0)
    med = np.full_like(logs, np.nan)
    # A region counts in a frame only when it was measured over its whole window.
    complete = np.isfinite(windows).all(axis=2)
    core = np.sort(np.where(complete[..., None], windows, 0.0), axis=2)[..., half]
    med[half:t - half] = np.where(complete, core, np.nan)
    resid = logs - med
    counts = np.isfinite(resid).sum(axis=1)
    ok = counts >= min_regions
    if ok.any():
        r = resid[ok]
        c = np.nanmedian(r, axis=1)
        agree = (np.sign(r) == np.sign(c)[:, None]).sum(axis=1) / counts[ok]
        common[ok] = c
        weight[ok] = np.clip(2.0 * agree - 1.0, 0.0, 1.0)
    return common, weight


def even_windows(times: np.ndarray, hp_frames: int = HP_FRAMES,
                 drop_ratio: float = DROP_RATIO) -> np.ndarray:
    """Which frames' high-pass windows hold no dropped frame.

    Parameters
    ----------
    times : ndarray (T,)
        Frame times in seconds, rising.
    hp_frames : int
        Odd window length of the high-pass (:func:`common_flicker`).
    drop_ratio : float
        A step longer than this times the median step is a dropped frame.

    Returns
    -------
    ndarray (T,) bool
        True where every step inside the frame's window is a regular one (False for the
        first and last ``hp_frames // 2`` frames, which have no window).
    """
    t = np.asarray(times, np.float64)
    if t.ndim != 1:
        raise ValueError(f"times must be (T,), got {t.shape}")
    out = np.zeros(t.size, bool)
    half = hp_frames // 2
    if t.size < hp_frames:
        return out
    steps = np.diff(t)
    positive = steps[steps > 0]
    if positive.size == 0:
        return out
    regular = steps <= drop_ratio * float(np.median(positive))
    # Window i spans steps i - half .. i + half - 1 (hp_frames - 1 steps).
    runs = np.lib.stride_tricks.sliding_window_view(regular, hp_frames - 1).all(axis=1)
    out[half:t.size - half] = runs
    return out


def flicker_percent(common: np.ndarray, weight: np.ndarray) -> float:
    """RMS of the agreement-weighted common-mode change, percent (NaN without any frame)."""
    ok = np.isfinite(common) & np.isfinite(weight)
    if not ok.any():
        return float("nan")
    return 100.0 * float(np.sqrt(np.mean((common[ok] * weight[ok]) ** 2)))


def flicker_score(percent: float, fps: float = REFERENCE_FPS) -> float:
    """Attack score in [0, 1] from the excess flicker in percent, at ``fps`` frames a second
    (the midpoint and width grow with the frame interval below :data:`REFERENCE_FPS`)."""
    scale = max(1.0, REFERENCE_FPS / fps) if fps > 0 else 1.0
    z = (percent - MIDPOINT_PCT * scale) / (WIDTH_PCT * scale)
    return float(1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z)))))


class FlickerAnalyzer:
    """Frame-to-frame brightness jitter common to the whole picture (``flicker``).

    Parameters
    ----------
    min_fps : float
        Below this frame rate the cue gives no evidence.

    Notes
    -----
    ``update`` reduces every frame to 51 numbers (one resize of the grey frame and three
    small masked means); ``result`` runs the running median. Signal details:
    ``flicker_pct`` (the score's input), ``common_rms_pct`` (the common mode before
    weighting), ``agreement`` (mean weight), ``frames``, ``measured`` (frames with enough
    regions and no dropped frame in their window), ``dropped`` (steps longer than
    DROP_RATIO times the median), ``fps``, ``why`` when there was too little to measure.
    """

    name = "flicker"
    single_frame = False
    reason = Reason.SCREEN_FLICKER

    def __init__(self, min_fps: float = MIN_FPS) -> None:
        self.min_fps = float(min_fps)
        self.reset()

    def reset(self) -> None:
        self._rows: list[np.ndarray] = []
        self._times: list[float] = []
        self._frames = 0

    def update(self, frame: Frame, obs: FaceObservation) -> None:
        self._frames += 1
        if len(self._rows) >= MAX_FRAMES:
            return
        marks = obs.face.landmarks if obs.face is not None else None
        self._rows.append(region_luminance(frame.image, marks))
        self._times.append(float(obs.t))

    def result(self) -> Signal:
        details: dict = {"frames": self._frames, "measured": 0, "fps": None,
                         "flicker_pct": None}
        if len(self._rows) < MIN_FRAMES:
            return self._none(details, f"only {len(self._rows)} frames")
        steps = np.diff(np.asarray(self._times))
        steps = steps[steps > 0]
        fps = 1.0 / float(np.median(steps)) if steps.size else 0.0
        details["fps"] = round(fps, 2)
        if fps < self.min_fps:
            return self._none(details, f"{fps:.1f} fps is too slow to tell a display's "
                                       "flicker from a change of light")
        common, weight = common_flicker(np.vstack(self._rows))
        even = even_windows(np.asarray(self._times))
        common[~even] = np.nan  # a window spanning a dropped frame says nothing of a display
        ok = np.isfinite(common) & np.isfinite(weight)
        details["measured"] = int(ok.sum())
        details["dropped"] = int((steps > DROP_RATIO * float(np.median(steps))).sum())
        if ok.sum() < MIN_FRAMES:
            return self._none(details, "too few frames with enough unclipped regions")
        pct = flicker_percent(common, weight)
        details.update(flicker_pct=round(pct, 4),
                       common_rms_pct=round(100 * float(np.sqrt(np.mean(common[ok] ** 2))), 4),
                       agreement=round(float(np.mean(weight[ok])), 4))
        confidence = CONFIDENCE_CAP * (1.0 - math.exp(-ok.sum() / FRAMES_CONFIDENCE))
        return Signal(self.name, flicker_score(pct, fps), float(confidence), self.reason,
                      details)

    def _none(self, details: dict, why: str) -> Signal:
        details["why"] = why
        return Signal(self.name, 0.0, 0.0, self.reason, details)
