"""Pulse by POS: a skin patch beating at 1.2 Hz reads 72 bpm; noise and flicker read no pulse."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from kiosk.analysis.motion import PulseAnalyzer, pos_pulse, pos_signal, pulse_spectrum
from kiosk.analysis.motion.pulse import CONF_NO_PULSE, SNR_NO_PULSE_DB, SNR_PULSE_DB
from kiosk.analysis.motion.rppg import spectral_peak
from kiosk.analysis.signals import Analyzer
from kiosk.reasons import Reason
from tests.analysis.motion.test_synth import make_face, observation, template_points

FPS = 30.0
SKIN_RGB = np.array([200.0, 150.0, 120.0])
# Relative colour change of a blood-volume pulse, R, G, B (de Haan and van Leest, "Improved
# motion robustness of remote-PPG by using the blood volume pulse signature", 2014).
PULSE_RGB = np.array([0.27, 0.80, 0.54])


def traces(n: int, rng: np.random.Generator, pulse_hz: float | None, amplitude: float = 0.004,
           noise: float = 0.15, patches: int = 3) -> np.ndarray:
    """Mean-colour traces (patches, n, 3) of skin: a pulse, a slow light drift, noise."""
    t = np.arange(n) / FPS
    light = 1.0 + 0.03 * np.sin(2 * np.pi * 0.15 * t)  # common to all channels
    out = np.empty((patches, n, 3))
    for k in range(patches):
        beat = np.zeros(n) if pulse_hz is None else amplitude * np.sin(2 * np.pi * pulse_hz * t + k)
        out[k] = (SKIN_RGB[None, :] * light[:, None] * (1.0 + beat[..., None] * PULSE_RGB)
                  + rng.normal(0, noise, (n, 3)))
    return out


def test_a_pulse_at_1_2_hz_reads_72_bpm():
    rng = np.random.default_rng(0)
    bpm, snr = pos_pulse(traces(300, rng, 1.2), FPS)
    assert bpm == pytest.approx(72.0, abs=2.0)
    assert snr > SNR_PULSE_DB


@pytest.mark.parametrize("hz", [0.8, 1.5, 2.5])
def test_pulse_rates_across_the_band(hz):
    rng = np.random.default_rng(1)
    bpm, snr = pos_pulse(traces(300, rng, hz), FPS)
    assert bpm == pytest.approx(60.0 * hz, abs=2.0)
    assert snr > SNR_PULSE_DB


def test_noise_alone_has_no_pulse():
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        _, snr = pos_pulse(traces(300, rng, None, noise=0.5), FPS)
        assert snr < SNR_NO_PULSE_DB, seed


def test_flicker_of_the_light_is_not_a_pulse():
    # A lamp flickering at 1 Hz brightens all channels alike: POS projects that out.
    rng = np.random.default_rng(3)
    t = np.arange(300) / FPS
    flicker = SKIN_RGB[None, :] * (1.0 + 0.05 * np.sin(2 * np.pi * 1.0 * t))[:, None]
    rgb = flicker + rng.normal(0, 0.15, flicker.shape)
    _, snr = pos_pulse(rgb, FPS)
    assert snr < SNR_NO_PULSE_DB


def test_a_single_patch_works_and_inputs_are_not_changed():
    rng = np.random.default_rng(4)
    rgb = traces(300, rng, 1.2)[0]
    before = rgb.copy()
    bpm, _ = pos_pulse(rgb, FPS)
    assert bpm == pytest.approx(72.0, abs=2.0)
    assert np.array_equal(rgb, before)


def test_short_input_gives_a_zero_signal():
    assert not pos_signal(np.full((10, 3), 100.0), FPS).any()


def test_a_spectrum_rising_to_the_band_edge_has_no_peak():
    freqs = np.linspace(0, 15, 1501)
    power = np.exp(-freqs)  # falls through the whole band
    peak, snr = spectral_peak(freqs, power)
    assert snr == float("-inf") and peak == pytest.approx(0.7)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="rgb"):
        pos_signal(np.ones((10, 4)), FPS)
    with pytest.raises(ValueError, match="rgb"):
        pos_signal(np.zeros((10, 3)), FPS)
    with pytest.raises(ValueError, match="fps"):
        pos_signal(np.ones((10, 3)), 0.5)
    with pytest.raises(ValueError, match="rgb_traces"):
        pos_pulse(np.ones((2, 3, 10, 3)), FPS)
    with pytest.raises(ValueError, match="signal"):
        pulse_spectrum(np.ones((3, 3)), FPS)
    with pytest.raises(ValueError, match="freqs"):
        spectral_peak(np.arange(5.0), np.arange(4.0))


def skin_video(seconds: float, pulse_hz: float | None, seed: int = 0,
               amplitude: float = 0.01, face: bool = True):
    """Frames of a still skin-coloured face patch whose colour beats (or not)."""
    rng = np.random.default_rng(seed)
    h, w = 240, 320
    template = template_points(rng) * 0.8 + (w / 2, h / 2)
    landmarks = np.c_[template, np.zeros(len(template))].astype(np.float32)
    mask = np.zeros((h, w), np.uint8)
    cv2.ellipse(mask, (w // 2, h // 2), (48, 62), 0, 0, 360, 255, -1)
    bgr = SKIN_RGB[::-1]
    out = []
    for i in range(int(seconds * FPS)):
        t = i / FPS
        beat = 0.0 if pulse_hz is None else amplitude * np.sin(2 * np.pi * pulse_hz * t)
        colour = bgr * (1.0 + beat * PULSE_RGB[::-1])
        image = np.full((h, w, 3), (90.0, 100.0, 110.0))
        image[mask > 0] = colour
        image = np.clip(image + rng.normal(0, 3.0, image.shape), 0, 255).astype(np.uint8)
        f = make_face(landmarks, 40.0, (h, w)) if face else None
        out.append(observation(i, image, f))
    return out


def run(session, **kwargs):
    a = PulseAnalyzer(**kwargs)
    for frame, obs in session:
        a.update(frame, obs)
    return a.result()


def test_is_an_analyzer():
    a = PulseAnalyzer()
    assert isinstance(a, Analyzer)
    assert a.name == "pulse" and a.single_frame is False


def test_a_beating_patch_has_a_pulse():
    sig = run(skin_video(10.0, 1.2))
    d = sig.details
    assert sig.reason == Reason.NO_PULSE
    assert d["bpm"] == pytest.approx(72.0, abs=2.0)
    assert d["agreement"] == 1.0 and set(d["patch_bpm"]) == {"forehead", "cheek_right",
                                                              "cheek_left"}
    assert sig.score == 0.0 and sig.confidence > 0.5


def test_a_still_patch_has_no_pulse_with_low_confidence():
    sig = run(skin_video(10.0, None))
    assert sig.score == 1.0
    assert 0.0 < sig.confidence <= CONF_NO_PULSE
    assert sig.details["moving_share"] == 0.0
    json.dumps(sig.details, allow_nan=False)  # fit for the audit log


def test_too_short_or_faceless_sessions_give_no_evidence():
    short = run(skin_video(3.0, 1.2))
    assert short.confidence == 0.0 and "too short" in short.details["why"]
    faceless = run(skin_video(8.0, 1.2, face=False))
    assert faceless.confidence == 0.0 and faceless.details["frames_with_face"] == 0


def test_reset_forgets():
    a = PulseAnalyzer()
    for frame, obs in skin_video(7.0, 1.2):
        a.update(frame, obs)
    assert a.result().details["bpm"] is not None
    a.reset()
    assert a.result().details["frames"] == 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="min_duration_s"):
        PulseAnalyzer(min_duration_s=12.0, full_duration_s=10.0)
