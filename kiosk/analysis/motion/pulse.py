"""Pulse: is there a heartbeat in the colour of the skin?

Remote photoplethysmography by POS (see :mod:`kiosk.analysis.motion.rppg`) on three skin patches
(forehead, both cheeks) over the whole session. Live skin carries a pulse of about 0.7-3 Hz;
paper, a silicone or resin mask, and most screens replaying compressed video do not show one.

A weak cue, in both directions. Absence proves little: compression, dim light, small faces and
the head turns the session asks for all bury a real pulse (no clip of the developer set, all
compressed recordings, shows one above the noise). Presence proves little more: a high-quality
replay may carry the recorded person's pulse. Confidence is capped low for both (see below).
"""

from __future__ import annotations

import logging

import numpy as np

from kiosk.analysis.motion.regions import SKIN_REGION_NAMES, skin_means
from kiosk.analysis.motion.rppg import BAND_HZ, pos_pulse
from kiosk.model import FaceObservation, Frame, Signal
from kiosk.reasons import Reason

log = logging.getLogger(__name__)

# Shortest stretch of face that is analysed at all (s): 6 s holds at least 4 beats at the
# band's lowest rate (0.7 Hz) and resolves the spectrum to 1/6 Hz. Confidence grows up to
# FULL_DURATION_S (10 s: 0.1 Hz, the SNR template's half-width).
MIN_DURATION_S = 6.0
FULL_DURATION_S = 10.0
# Pulse traces are resampled to at most this rate (Hz); the band ends at 3 Hz and the SNR's
# harmonic at 4 Hz, well below it.
MAX_RATE_HZ = 30.0
# A patch counts in a frame with at least this many skin pixels, and over the session when it
# counted in this share of frames (gaps are interpolated).
MIN_PATCH_PIXELS = 25
MIN_VALID_SHARE = 0.7
# SNR (dB) to score mapping. Monte Carlo through the same pipeline (pos_pulse on 3 patches,
# 1000 sessions of 6-20 s at 10-30 fps): white noise gave a 99th percentile of -4.1 to -2.9 dB,
# random-walk (drifting light) noise 0.0 to +0.3 dB and a maximum of +2.0 dB. At or below the
# drift noise's 99th percentile there is no pulse (score 1); a peak 3 dB above it (twice its
# power) is a pulse (score 0).
SNR_NO_PULSE_DB = 0.3
SNR_PULSE_DB = 3.3
# Confidence caps: a found pulse is fair evidence of live skin before the camera (replays may
# carry one); a missing pulse is weak evidence of an attack (see the module docstring).
CONF_PULSE = 0.6
CONF_NO_PULSE = 0.3
# Peaks of single patches within this distance of the common peak agree with it (Hz).
AGREE_HZ = 0.15
# Face-centre speed, inter-ocular distances per second, above which a frame counts as moving:
# a 30 deg head turn in 1 s moves the face's centre by about 0.7 inter-ocular distances.
MOVING_IOD_PER_S = 0.5
# Skin pixels per patch at which sensor noise (about 2 grey levels per pixel) averages below a
# pulse of 0.2-0.5 % of the skin's brightness (Wang et al. 2017): the no-pulse confidence is
# scaled by min(1, pixels / this).
FULL_PATCH_PIXELS = 400
MAX_FRAMES = 3600


class PulseAnalyzer:
    """Pulse cue over a session (multi-frame).

    Parameters
    ----------
    min_duration_s : float
        Shortest span of face frames analysed; shorter sessions get confidence 0.
    full_duration_s : float
        Span at which the duration no longer limits the confidence.

    Notes
    -----
    ``update`` keeps the mean colour and pixel count of three skin patches and the face's
    centre; ``result`` resamples, runs POS and reads the spectrum. The Signal's details:

    ``bpm`` : float or None
        Rate of the strongest peak in 0.7-3 Hz (42-180 bpm).
    ``snr_db`` : float or None
        de Haan's SNR of that peak over the averaged patch spectra (None when the spectrum has
        no peak in the band at all).
    ``patch_bpm``, ``patch_snr_db`` : dict
        The same per patch (forehead, cheek_right, cheek_left) that was usable.
    ``agreement`` : float
        Share of usable patches whose own peak is within 0.15 Hz of the common one.
    ``duration_s``, ``rate_hz``, ``moving_share``, ``skin_pixels`` : float
        Span analysed, resampling rate, share of frames with the face moving fast, median
        skin pixels per usable patch.
    ``why`` : str
        Present when there was too little to analyse.
    """

    name = "pulse"
    single_frame = False

    def __init__(self, min_duration_s: float = MIN_DURATION_S,
                 full_duration_s: float = FULL_DURATION_S) -> None:
        if not 2.0 <= min_duration_s <= full_duration_s:
            raise ValueError(f"min_duration_s must be >= 2 s and <= full_duration_s, got "
                             f"{min_duration_s} and {full_duration_s}")
        self.min_duration_s = float(min_duration_s)
        self.full_duration_s = float(full_duration_s)
        self.reset()

    def reset(self) -> None:
        self._frames = 0
        self._t: list[float] = []
        self._rgb: list[np.ndarray] = []      # (3 patches, 3) mean R, G, B
        self._count: list[np.ndarray] = []    # (3,) skin pixels
        self._centre: list[tuple[float, float, float]] = []  # x, y, inter-ocular

    def update(self, frame: Frame, obs: FaceObservation) -> None:
        self._frames += 1
        face = obs.face
        if face is None or len(self._t) >= MAX_FRAMES:
            return
        means, counts = skin_means(frame.image, face.landmarks)
        cx, cy = face.center
        self._t.append(float(obs.t))
        self._rgb.append(means)
        self._count.append(counts)
        self._centre.append((cx, cy, float(face.interocular)))

    def result(self) -> Signal:
        details: dict = {"frames": self._frames, "frames_with_face": len(self._t),
                         "bpm": None, "snr_db": None, "patch_bpm": {}, "patch_snr_db": {},
                         "agreement": 0.0, "duration_s": 0.0, "rate_hz": 0.0,
                         "moving_share": 0.0, "skin_pixels": 0.0}
        t = np.asarray(self._t)
        duration = float(t[-1] - t[0]) if t.size >= 2 else 0.0
        details["duration_s"] = duration
        if duration < self.min_duration_s:
            return self._none(details, f"session too short: {duration:.1f} s of face, "
                                       f"{self.min_duration_s:g} s needed")
        rate = min(MAX_RATE_HZ, (t.size - 1) / duration)
        details["rate_hz"] = rate
        if rate < 2.0 * BAND_HZ[1]:
            return self._none(details, f"frame rate too low for a pulse: {rate:.1f} Hz")
        grid = t[0] + np.arange(int(duration * rate) + 1) / rate
        rgb, count = np.asarray(self._rgb), np.asarray(self._count)
        traces, names, pixels = [], [], []
        for k, name in enumerate(SKIN_REGION_NAMES):
            ok = (count[:, k] >= MIN_PATCH_PIXELS) & np.isfinite(rgb[:, k]).all(axis=1)
            if ok.mean() < MIN_VALID_SHARE:
                continue
            traces.append(np.stack([np.interp(grid, t[ok], rgb[ok, k, c]) for c in range(3)],
                                   axis=1))
            names.append(name)
            pixels.append(float(np.median(count[ok, k])))
        if not traces:
            return self._none(details, "no skin patch was visible in enough frames")
        stack = np.stack(traces)
        bpm, snr = pos_pulse(stack, rate)
        details["bpm"], details["snr_db"] = float(bpm), _finite(snr)
        agree = 0
        for name, trace in zip(names, stack, strict=True):
            p_bpm, p_snr = pos_pulse(trace, rate)
            details["patch_bpm"][name] = float(p_bpm)
            details["patch_snr_db"][name] = _finite(p_snr)
            agree += int(abs(p_bpm - bpm) / 60.0 <= AGREE_HZ)
        agreement = agree / len(names)
        details["agreement"] = agreement
        centre = np.asarray(self._centre)
        speed = (np.linalg.norm(np.diff(centre[:, :2], axis=0), axis=1)
                 / np.maximum(centre[1:, 2], 1e-6) / np.maximum(np.diff(t), 1e-6))
        moving = float(np.mean(speed > MOVING_IOD_PER_S)) if speed.size else 0.0
        details["moving_share"] = moving
        details["skin_pixels"] = float(np.median(pixels))
        score = float(np.clip((SNR_PULSE_DB - snr) / (SNR_PULSE_DB - SNR_NO_PULSE_DB), 0, 1))
        span = min(1.0, duration / self.full_duration_s)
        found = CONF_PULSE * (0.5 + 0.5 * agreement)
        missing = (CONF_NO_PULSE * (1.0 - moving)
                   * min(1.0, details["skin_pixels"] / FULL_PATCH_PIXELS))
        confidence = span * ((1.0 - score) * found + score * missing)
        return Signal(self.name, score, float(confidence), Reason.NO_PULSE, details)

    @staticmethod
    def _none(details: dict, why: str) -> Signal:
        details["why"] = why
        return Signal(PulseAnalyzer.name, 0.0, 0.0, Reason.NO_PULSE, details)


def _finite(value: float) -> float | None:
    """A float for the details, None when it is infinite (no peak at all): JSON has no inf."""
    return float(value) if np.isfinite(value) else None
