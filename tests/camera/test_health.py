"""HealthMonitor: actual fps, dropped, frozen and corrupt frames, reconnects, pictures
without colour."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.camera.health import GREY_SPREAD, CameraHealth, HealthMonitor, is_grey
from kiosk.model import Frame


def frame(image: np.ndarray, seq: int, t: float) -> Frame:
    return Frame(image=image, seq=seq, t=t, media_t=t)


def noisy(rng: np.random.Generator, base: np.ndarray, sigma: float = 2.0) -> np.ndarray:
    """A static scene seen by a sensor with noise: ``base`` plus Gaussian noise."""
    noise = rng.normal(0.0, sigma, size=base.shape)
    return np.clip(base.astype(np.float64) + noise, 0, 255).astype(np.uint8)


def test_empty_snapshot() -> None:
    health = HealthMonitor(nominal_fps=30).snapshot()
    assert health == CameraHealth(nominal_fps=30.0)
    assert health.frozen_ratio == 0.0


def test_fps_over_sliding_window() -> None:
    monitor = HealthMonitor(window_s=1.0)
    image = np.zeros((8, 8, 3), np.uint8)
    seq = 0
    for i in range(30):                      # 3 s at 10 fps
        monitor.observe(frame(image + seq % 200, seq, i * 0.1))
        seq += 1
    assert monitor.snapshot().fps == pytest.approx(10.0)
    t0 = 2.9
    for i in range(1, 41):                   # then 2 s at 20 fps
        monitor.observe(frame(image + seq % 200, seq, t0 + i * 0.05))
        seq += 1
    health = monitor.snapshot()
    assert health.fps == pytest.approx(20.0)
    assert health.frames == 70
    assert health.last_t == pytest.approx(t0 + 2.0)


def test_clock_going_back_restarts_the_window() -> None:
    monitor = HealthMonitor(window_s=2.0)
    image = np.zeros((8, 8, 3), np.uint8)
    for i in range(5):
        monitor.observe(frame(image + i, i, 10.0 + i * 0.1))
    monitor.observe(frame(image + 9, 5, 0.0))
    assert monitor.snapshot().fps == 0.0     # one frame in the new window: no rate yet
    monitor.observe(frame(image + 10, 6, 0.25))
    assert monitor.snapshot().fps == pytest.approx(4.0)


def test_dropped_frames_from_sequence_gaps_and_slot() -> None:
    monitor = HealthMonitor()
    rng = np.random.default_rng(1)
    for seq in (0, 1, 4, 5, 9):
        monitor.observe(frame(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8), seq, seq / 30))
    assert monitor.snapshot().dropped == 2 + 3
    monitor.note_dropped(4)
    assert monitor.snapshot().dropped == 9


def test_noisy_static_scene_is_never_frozen() -> None:
    """A live sensor's noise makes every frame differ, even on a static scene."""
    rng = np.random.default_rng(7)
    base = np.full((480, 640, 3), 120, np.uint8)
    monitor = HealthMonitor()
    flags = [monitor.observe(frame(noisy(rng, base), i, i / 30)) for i in range(20)]
    assert not any(flags)
    assert monitor.snapshot().frozen == 0


def test_identical_frames_are_frozen_and_runs_reset() -> None:
    rng = np.random.default_rng(3)
    base = np.full((480, 640, 3), 100, np.uint8)
    still = noisy(rng, base)
    monitor = HealthMonitor()
    flags = [monitor.observe(frame(noisy(rng, base), 0, 0.0))]
    # an injected still: the same picture four times (fresh copies, not the same object)
    flags += [monitor.observe(frame(still.copy(), i, i / 30)) for i in range(1, 5)]
    assert flags == [False, False, True, True, True]
    health = monitor.snapshot()
    assert (health.frozen, health.frozen_run) == (3, 3)
    assert health.frozen_ratio == pytest.approx(3 / 5)
    assert monitor.observe(frame(noisy(rng, base), 5, 5 / 30)) is False
    health = monitor.snapshot()
    assert (health.frozen, health.frozen_run) == (3, 0)


def test_change_between_sampled_pixels_is_not_frozen() -> None:
    """The strided pre-check is confirmed on the whole image before a frame counts frozen."""
    image = np.full((480, 640, 3), 50, np.uint8)
    changed = image.copy()
    changed[1, 1, 0] = 51                    # not on the 10-pixel sampling grid
    monitor = HealthMonitor()
    monitor.observe(frame(image, 0, 0.0))
    assert monitor.observe(frame(changed, 1, 0.033)) is False
    assert monitor.observe(frame(changed.copy(), 2, 0.066)) is True


def test_new_shape_is_not_frozen() -> None:
    monitor = HealthMonitor()
    monitor.observe(frame(np.zeros((48, 64, 3), np.uint8), 0, 0.0))
    assert monitor.observe(frame(np.zeros((64, 48, 3), np.uint8), 1, 0.1)) is False


def test_disconnect_clears_frozen_reference_and_rate() -> None:
    image = np.zeros((48, 64, 3), np.uint8)
    monitor = HealthMonitor()
    monitor.observe(frame(image, 0, 0.0))
    monitor.observe(frame(image.copy(), 1, 0.1))
    assert monitor.snapshot().frozen_run == 1
    monitor.set_connected(False)
    health = monitor.snapshot()
    assert (health.connected, health.frozen_run, health.fps) == (False, 0, 0.0)
    assert health.last_t == pytest.approx(0.1)
    # the first frame after the outage has no predecessor to repeat
    assert monitor.observe(frame(image.copy(), 2, 5.0)) is False
    assert monitor.snapshot().connected is True


def test_corrupt_reconnect_error_and_reset() -> None:
    monitor = HealthMonitor(nominal_fps=25)
    monitor.note_corrupt(error="frame 3 unusable")
    monitor.note_corrupt(2)
    monitor.note_reconnect()
    monitor.note_error("camera 0 stopped delivering frames")
    health = monitor.snapshot()
    assert (health.corrupt, health.reconnects, health.connected) == (3, 1, True)
    assert health.last_error == "camera 0 stopped delivering frames"
    monitor.reset()
    assert monitor.snapshot() == CameraHealth(nominal_fps=25.0)


def test_window_must_be_positive() -> None:
    with pytest.raises(ValueError, match="window_s"):
        HealthMonitor(window_s=0)


def grey_picture(rng: np.random.Generator, level: float = 110.0) -> np.ndarray:
    """What an infrared or night-mode sensor gives once converted to BGR: one noisy value per
    pixel, repeated in the three channels (give or take the conversion's rounding)."""
    one = noisy(rng, np.full((480, 640, 1), level, np.uint8), sigma=6.0)
    picture = np.repeat(one, 3, axis=2).astype(np.int16)
    picture[..., 0] += rng.integers(-1, 2, picture.shape[:2])
    return np.clip(picture, 0, 255).astype(np.uint8)


def test_a_picture_without_colour_is_counted_and_one_with_colour_ends_the_run() -> None:
    rng = np.random.default_rng(11)
    monitor = HealthMonitor()
    for i in range(40):
        monitor.observe(frame(grey_picture(rng), i, i / 30))
    assert monitor.snapshot().grey_run == 40
    # A colour sensor on a grey wall: its channels' independent noise parts them somewhere.
    wall = noisy(rng, np.full((480, 640, 3), 110, np.uint8), sigma=2.0)
    monitor.observe(frame(wall, 40, 40 / 30))
    assert monitor.snapshot().grey_run == 0


def test_a_dark_picture_tells_nothing_about_colour() -> None:
    """A covered lens or a black screen neither starts nor ends a run of grey frames."""
    rng = np.random.default_rng(12)
    monitor = HealthMonitor()
    for i in range(5):
        monitor.observe(frame(grey_picture(rng), i, i / 30))
    for i in range(5, 50):
        monitor.observe(frame(np.full((480, 640, 3), 4, np.uint8), i, i / 30))
    assert monitor.snapshot().grey_run == 5
    assert is_grey(np.full((48, 64, 3), 4, np.uint8)) is None


def test_grey_is_judged_at_the_channel_spread() -> None:
    sample = np.full((48, 64, 3), 120, np.uint8)
    assert is_grey(sample) is True
    sample[10, 10] = (120, 120, 120 + GREY_SPREAD)
    assert is_grey(sample) is True
    sample[10, 10] = (120, 120, 121 + GREY_SPREAD)
    assert is_grey(sample) is False
