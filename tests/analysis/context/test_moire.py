"""Screen/moire cue: synthetic gratings where the answer is known, and real replays."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.analysis.context.moire import (
    TILE,
    MoireAnalyzer,
    moire_score,
    spectral_peaks,
    whitened_spectrum,
)
from tests.analysis.context.test_common import (
    MK_FAKE,
    TVL_REAL,
    make_face,
    observe,
    run_clip,
    synthetic_face,
)


def grating(shape, fy: float, fx: float, amplitude: float = 0.15) -> np.ndarray:
    """A multiplicative cosine grating (H, W) at (fy, fx) cycles/pixel."""
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float64)
    return 1.0 + amplitude * np.cos(2 * np.pi * (fy * yy + fx * xx))


def with_pattern(image: np.ndarray, pattern: np.ndarray, rect=None) -> np.ndarray:
    out = image.astype(np.float64)
    x0, y0, x1, y1 = rect or (0, 0, image.shape[1], image.shape[0])
    out[y0:y1, x0:x1] *= pattern[y0:y1, x0:x1, None]
    return np.clip(out, 0, 255).astype(np.uint8)


# A screen pixel grid beating with the camera's: a grid of two tilted fringes.
def screen_grid(shape):
    return grating(shape, 0.203, 0.047) * grating(shape, -0.047, 0.203)


@pytest.fixture(scope="module")
def face_scene():
    image, mesh = synthetic_face()
    return image, make_face(mesh, image.shape[:2])


def test_whitened_spectrum_peaks_at_a_tiles_frequency():
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:TILE, 0:TILE]
    tiles = np.stack([100 + 20 * np.cos(2 * np.pi * (10 * yy + 6 * xx) / TILE + p)
                      + rng.normal(0, 3, (TILE, TILE)) for p in rng.uniform(0, 6, 8)])
    w = whitened_spectrum(tiles)
    assert w.shape == (TILE, TILE // 2 + 1)
    ky, kx = np.unravel_index(np.argmax(w), w.shape)
    assert (ky, kx) == (10, 6)
    assert w[ky, kx] > 100 and np.median(w) == pytest.approx(1.0, abs=0.3)
    with pytest.raises(ValueError, match="tiles must have shape"):
        whitened_spectrum(np.zeros((3, 32, 32)))


def test_a_smooth_face_has_no_periodic_peak(face_scene):
    image, face = face_scene
    before = image.copy()
    found = spectral_peaks(image, face.box)
    assert np.array_equal(image, before)
    assert found["joint_peak"] < 4 and found["local_peak"] < 4
    assert found["face_tiles"] >= 4 and found["ring_tiles"] >= 8 and found["far_tiles"] >= 6
    assert moire_score(found["local_peak"]) < 0.2


def test_a_screen_grid_around_the_face_is_a_local_peak(face_scene):
    image, face = face_scene
    x0, y0, x1, y1 = face.box
    # The "screen" holds the face and reaches 0.5 face widths beyond it, as a phone would.
    rect = (int(x0 - 80), int(y0 - 80), int(x1 + 80), int(y1 + 80))
    screen = with_pattern(image, screen_grid(image.shape), rect)
    found = spectral_peaks(screen, face.box)
    assert found["joint_peak"] > 20 and found["local_peak"] > 10
    fy, fx = found["frequency"]
    assert {round(abs(fy) * TILE), round(fx * TILE)} <= {3, 13}
    assert moire_score(found["local_peak"]) > 0.9


def test_a_pattern_over_the_whole_frame_is_the_cameras_not_the_faces(face_scene):
    image, face = face_scene
    everywhere = with_pattern(image, screen_grid(image.shape))
    found = spectral_peaks(everywhere, face.box)
    assert found["joint_peak"] > 20          # the pattern is on the face and around it ...
    assert found["local_peak"] < 3           # ... and everywhere else: a camera artefact
    assert moire_score(found["local_peak"]) < 0.15


def test_fringes_on_the_axis_are_ignored_but_a_slight_tilt_is_not(face_scene):
    image, face = face_scene
    on_axis = spectral_peaks(with_pattern(image, grating(image.shape, 0.0, 0.3)), face.box)
    tilted = spectral_peaks(with_pattern(image, grating(image.shape, 1.0 / TILE, 0.3)),
                            face.box)
    assert on_axis["joint_peak"] < 4
    assert tilted["joint_peak"] > 20


def test_bad_arguments_are_named(face_scene):
    image, face = face_scene
    with pytest.raises(ValueError, match="image must be"):
        spectral_peaks(image[..., 0], face.box)
    with pytest.raises(ValueError, match="box"):
        spectral_peaks(image, (10, 10, 5, 5))
    with pytest.raises(ValueError, match="ring tiles"):
        spectral_peaks(image[:200, :200].copy(), (40, 40, 190, 190))


def test_analyzer_on_a_still_and_without_a_face(face_scene):
    image, face = face_scene
    analyzer = MoireAnalyzer()
    analyzer.update(*observe(image, face))
    signal = analyzer.result()
    assert signal.name == "moire" and signal.reason == "SCREEN_SUSPECTED"
    assert signal.score < 0.2 and signal.confidence == pytest.approx(0.3)
    assert signal.details["peak_kind"] == "local" and signal.details["samples"] == 1
    analyzer.reset()
    analyzer.update(*observe(image, None))
    empty = analyzer.result()
    assert empty.confidence == 0.0 and "no_face" in empty.details["why"]


@pytest.mark.data
def test_the_phone_replay_shows_a_local_pattern_the_live_clip_does_not(shared_data, track_clip):
    replay = run_clip([MoireAnalyzer()], shared_data, MK_FAKE, track_clip(MK_FAKE))["moire"]
    live = run_clip([MoireAnalyzer()], shared_data, TVL_REAL, track_clip(TVL_REAL))["moire"]
    assert replay.details["peak_kind"] == "local" and replay.details["samples"] >= 3
    # Faint tilted fringes on the phone's screen (visible in a high-pass of the face); the
    # median over the session sits near the midpoint, well above the live clip.
    assert replay.details["local_peak"] > 1.8 * live.details["local_peak"]
    assert replay.score > 0.3 > 0.1 > live.score


def test_without_room_for_a_control_region_the_joint_peak_counts_a_quarter(face_scene):
    image, face = face_scene
    x0, y0, x1, y1 = (int(v) for v in face.box)
    # The frame barely holds the face and its ring: nothing left to compare with.
    crop = with_pattern(image, screen_grid(image.shape))[y0 - 70:y1 + 70, x0 - 70:x1 + 70].copy()
    box = (70, 70, 70 + x1 - x0, 70 + y1 - y0)
    found = spectral_peaks(crop, box)
    assert np.isnan(found["local_peak"]) and found["far_tiles"] < 6
    analyzer = MoireAnalyzer()
    analyzer.update(*observe(crop, make_face(face.landmarks - np.float32([x0 - 70, y0 - 70, 0]),
                                             crop.shape[:2])))
    signal = analyzer.result()
    assert signal.details["peak_kind"] == "joint"
    assert signal.score > 0.9 and signal.confidence == pytest.approx(0.6 / 4 / 2)
