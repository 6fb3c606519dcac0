"""VideoFileSource: decoding, frame ranges, pacing and clear errors on bad files."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.camera.source import FrameSource
from kiosk.camera.video import VideoFileSource, parse_frame_range
from kiosk.errors import CameraError, InputError
from tests.camera.fakes import D7, DEMO_GIF, FakeClock, pattern, write_video


def test_reads_every_frame_with_media_timestamps(video_mp4: Path) -> None:
    source = VideoFileSource(video_mp4)
    assert isinstance(source, FrameSource)
    with source:
        frames = list(source)
        assert source.fps == pytest.approx(15.0)
        assert source.frame_count == 30
        assert source.last_index == 29
        health = source.health
    assert [f.seq for f in frames] == list(range(30))
    assert [f.media_t for f in frames] == pytest.approx([i / 15 for i in range(30)])
    assert [f.t for f in frames] == [f.media_t for f in frames]   # unpaced: t = media time
    first = frames[0].image
    assert (first.shape, first.dtype) == ((64, 96, 3), np.uint8)
    # the decoded content is the pattern that was written (lossy codec: close, not equal)
    assert np.abs(first.astype(int) - pattern(0).astype(int)).mean() < 12
    assert (health.frames, health.dropped, health.frozen, health.corrupt) == (30, 0, 0, 0)
    assert health.fps == pytest.approx(15.0)
    assert health.connected is True
    assert source.health.connected is False   # closed: not delivering, no rate
    assert source.health.fps == 0.0


def test_avi_motion_jpeg(video_avi: Path) -> None:
    with VideoFileSource(video_avi) as source:
        frames = list(source)
    assert len(frames) == 30
    assert frames[-1].media_t == pytest.approx(29 / 15)


def test_frame_range_is_inclusive_and_keeps_file_time(video_mp4: Path) -> None:
    with VideoFileSource(video_mp4) as source:
        everything = [f.image for f in source]
    with VideoFileSource(video_mp4, start=5, end=9) as source:
        frames = list(source)
        assert source.last_index == 9
    assert [f.seq for f in frames] == [0, 1, 2, 3, 4]
    assert [f.media_t for f in frames] == pytest.approx([i / 15 for i in range(5, 10)])
    for offset, f in enumerate(frames):
        assert np.array_equal(f.image, everything[5 + offset])


def test_frame_range_end_past_the_file_reads_to_the_end(video_mp4: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING), VideoFileSource(video_mp4, start=25, end=99) as src:
        frames = list(src)
    assert len(frames) == 5
    assert "frame range ends at 99" in caplog.text


def test_frame_range_start_past_the_file(video_mp4: Path) -> None:
    source = VideoFileSource(video_mp4, start=40)
    with pytest.raises(InputError, match="starts at frame 40 .* only 30 frames"):
        source.open()
    assert not source.is_open


@pytest.mark.parametrize(("start", "end"), [(-1, None), (5, 4)])
def test_invalid_frame_range(video_mp4: Path, start: int, end: int | None) -> None:
    with pytest.raises(InputError, match="frame range"):
        VideoFileSource(video_mp4, start=start, end=end)


@pytest.mark.parametrize(("text", "expected"), [
    ("62-87", (62, 87)), (" 3 - 4 ", (3, 4)), ("5", (5, 5)), ("7-", (7, None)), ("0-0", (0, 0)),
])
def test_parse_frame_range(text: str, expected: tuple[int, int | None]) -> None:
    assert parse_frame_range(text) == expected


@pytest.mark.parametrize("text", ["", "a-b", "5-3", "-3", "1-2-3"])
def test_parse_frame_range_rejects(text: str) -> None:
    with pytest.raises(InputError, match="frame range"):
        parse_frame_range(text)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"video file .*nope\.mp4 does not exist"):
        VideoFileSource(tmp_path / "nope.mp4").open()


def test_zero_length_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.touch()
    with pytest.raises(InputError, match=r"empty \(0 bytes\)"):
        VideoFileSource(empty).open()


def test_folder_is_not_a_video(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a folder"):
        VideoFileSource(tmp_path).open()


def test_random_bytes(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(0).bytes(20_000))
    with pytest.raises(InputError, match="cannot be decoded: not a video OpenCV can read"):
        VideoFileSource(junk).open()


def test_truncated_mp4(tmp_path: Path, video_mp4: Path) -> None:
    """An MP4 cut in half loses its index (moov atom at the end): it does not open."""
    data = video_mp4.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="cannot be decoded"):
        VideoFileSource(cut).open()


def test_truncated_avi_delivers_what_decodes_and_says_so(tmp_path: Path, video_avi: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    data = video_avi.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    with caplog.at_level(logging.WARNING), VideoFileSource(cut) as source:
        frames = list(source)
        assert 5 < len(frames) < 30
        assert source.truncated
        assert source.health.last_error is not None
        assert f"ended after {len(frames)} of 30 frames" in source.health.last_error
    assert "truncated or corrupt" in caplog.text


def test_complete_file_is_not_truncated(video_avi: Path) -> None:
    with VideoFileSource(video_avi) as source:
        list(source)
        assert not source.truncated
        assert source.health.last_error is None


def test_animated_gif_uses_its_own_delays(tmp_path: Path) -> None:
    animation = cv2.Animation()
    animation.frames = [pattern(i, 48, 32) for i in range(5)]
    animation.durations = [40, 60, 40, 60, 40]
    gif = tmp_path / "anim.gif"
    assert cv2.imwriteanimation(str(gif), animation)
    with VideoFileSource(gif) as source:
        frames = list(source)
    assert [f.media_t for f in frames] == pytest.approx([0.0, 0.04, 0.10, 0.14, 0.20])
    assert frames[0].image.shape == (32, 48, 3)


def test_paced_playback_sleeps_to_the_file_rate(video_mp4: Path, clock: FakeClock) -> None:
    with VideoFileSource(video_mp4, paced=True, clock=clock, sleep=clock.sleep) as source:
        frames = [source.read() for _ in range(4)]
    assert clock.sleeps == pytest.approx([1 / 15] * 3)
    assert [f.t for f in frames] == pytest.approx([100 + i / 15 for i in range(4)])
    assert [f.media_t for f in frames] == pytest.approx([i / 15 for i in range(4)])


def test_paced_playback_does_not_burst_after_a_stall(video_mp4: Path, clock: FakeClock) -> None:
    with VideoFileSource(video_mp4, paced=True, clock=clock, sleep=clock.sleep) as source:
        source.read()
        clock.advance(0.02)
        source.read()                        # on time: sleeps the rest of the interval
        assert clock.sleeps == pytest.approx([1 / 15 - 0.02])
        clock.advance(2.0)                   # the consumer stalled for two seconds
        late = source.read()
        assert late.t == pytest.approx(clock.now)
        source.read()                        # re-anchored: paced again, no catch-up burst
    assert clock.sleeps[-1] == pytest.approx(1 / 15)


def test_paced_range_starts_without_waiting(video_mp4: Path, clock: FakeClock) -> None:
    with VideoFileSource(video_mp4, paced=True, start=20, clock=clock,
                         sleep=clock.sleep) as source:
        first = source.read()
    assert clock.sleeps == []
    assert first.t == pytest.approx(100.0)
    assert first.media_t == pytest.approx(20 / 15)


def test_read_requires_open_and_reopen_restarts(video_mp4: Path) -> None:
    source = VideoFileSource(video_mp4)
    with pytest.raises(CameraError, match="is not open"):
        source.read()
    with source:
        source.read()
        second = source.read()
    assert second.seq == 1
    with source:
        again = source.read()
        assert (again.seq, again.media_t) == (0, 0.0)
        assert source.health.frames == 1


class _OddCapture:
    """A capture that yields a 16-bit frame among 8-bit ones."""

    def __init__(self) -> None:
        self.frames = [pattern(0), pattern(1).astype(np.uint16), pattern(2)]
        self.index = 0

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return True

    def get(self, prop: int) -> float:
        return {cv2.CAP_PROP_FPS: 10.0, cv2.CAP_PROP_FRAME_COUNT: 3.0,
                cv2.CAP_PROP_POS_MSEC: self.index * 100.0 - 100.0}.get(prop, 0.0)

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.index >= len(self.frames):
            return False, None
        self.index += 1
        return True, self.frames[self.index - 1]

    def grab(self) -> bool:
        return self.read()[0]

    def release(self) -> None:
        pass


def test_unusable_frames_are_skipped_and_counted(video_mp4: Path) -> None:
    source = VideoFileSource(video_mp4, capture_factory=lambda path, api: _OddCapture())
    with source:
        frames = list(source)
        health = source.health
    assert [f.seq for f in frames] == [0, 1]
    assert [f.media_t for f in frames] == pytest.approx([0.0, 0.2])
    assert health.corrupt == 1
    assert "frame 1" in (health.last_error or "")


class _DamagedCapture(_OddCapture):
    """Ten frames announced; reads 3 and 4 fail (a damaged patch), then decoding goes on."""

    def __init__(self, bad: tuple[int, ...] = (3, 4), count: int = 10) -> None:
        super().__init__()
        self.frames = [pattern(k) for k in range(count)]
        self.bad = bad

    def get(self, prop: int) -> float:
        return {cv2.CAP_PROP_FPS: 10.0, cv2.CAP_PROP_FRAME_COUNT: float(len(self.frames)),
                cv2.CAP_PROP_POS_MSEC: self.index * 100.0 - 100.0}.get(prop, 0.0)

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.index in self.bad:
            self.index += 1
            return False, None
        return super().read()


def test_a_damaged_patch_costs_its_own_frames_not_the_rest(video_mp4: Path) -> None:
    """A few corrupt packets in d9 cut it at frame 282 of 587 (a media audit): OpenCV decodes
    the frames after them, and the session now gets them."""
    source = VideoFileSource(video_mp4, capture_factory=lambda path, api: _DamagedCapture())
    with source:
        frames = list(source)
        assert [f.media_t for f in frames] == pytest.approx([0.0, 0.1, 0.2, 0.5, 0.6, 0.7, 0.8,
                                                             0.9])
        assert source.health.corrupt == 2 and not source.truncated
    # A file whose first frame is damaged is refused whole, as before.
    first_bad = VideoFileSource(video_mp4,
                                capture_factory=lambda path, api: _DamagedCapture(bad=(0,)))
    with first_bad, pytest.raises(InputError, match="no decodable frames"):
        first_bad.read()
    # A file cut short still says so: its failed reads at the end decoded nothing.
    cut = VideoFileSource(video_mp4, capture_factory=lambda path, api: _DamagedCapture(
        bad=tuple(range(6, 40))))
    with cut:
        assert len(list(cut)) == 6 and cut.truncated


def test_no_decodable_frame_is_an_error(video_mp4: Path) -> None:
    class Empty(_OddCapture):
        def __init__(self) -> None:
            super().__init__()
            self.frames = []

    source = VideoFileSource(video_mp4, capture_factory=lambda path, api: Empty())
    with source, pytest.raises(InputError, match="no decodable frames"):
        source.read()


def test_missing_frame_rate_falls_back(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write_video(tmp_path / "c.avi", n_frames=3, fourcc="MJPG")

    class NoRate(_OddCapture):
        def get(self, prop: int) -> float:
            return 0.0

    source = VideoFileSource(path, default_fps=25.0,
                             capture_factory=lambda p, api: NoRate())
    with caplog.at_level(logging.WARNING), source:
        frames = list(source)
        assert source.fps == 25.0
    assert "no usable frame rate" in caplog.text
    # POS_MSEC is 0 for every frame: time falls back to index / fps, strictly increasing
    assert [f.media_t for f in frames] == pytest.approx([0.0, 0.08])


@pytest.mark.data
def test_shared_clip_d7(shared_data: Path) -> None:
    with VideoFileSource(shared_data / D7) as source:
        frames = list(source)
        assert source.fps == pytest.approx(30.0)
        health = source.health
    assert len(frames) == 178
    assert frames[0].image.shape == (480, 480, 3)
    assert frames[-1].media_t == pytest.approx(177 / 30)
    assert (health.frames, health.corrupt, health.dropped) == (178, 0, 0)
    assert health.fps == pytest.approx(30.0)


@pytest.mark.data
def test_shared_gif_attack_range(shared_data: Path) -> None:
    """manifest.csv names demo.gif frames 62-87 as a print attack."""
    with VideoFileSource(shared_data / DEMO_GIF, start=62, end=87) as source:
        frames = list(source)
        assert source.last_index == 87
    assert len(frames) == 26
    assert frames[0].image.shape == (322, 150, 3)
    assert frames[0].media_t > 2.0          # file time, from the GIF's own delays


def test_huge_frames_are_refused_before_any_is_decoded(video_mp4: Path) -> None:
    """A container stating 20000x20000 frames is refused from its header (issue 13)."""
    decoded = []

    class Huge:
        def isOpened(self) -> bool:  # noqa: N802 (OpenCV's name)
            return True

        def get(self, prop: int) -> float:
            return {cv2.CAP_PROP_FRAME_WIDTH: 20000.0, cv2.CAP_PROP_FRAME_HEIGHT: 20000.0,
                    cv2.CAP_PROP_FPS: 30.0}.get(prop, 0.0)

        def read(self):
            decoded.append(1)
            return False, None

        def grab(self) -> bool:
            decoded.append(1)
            return False

        def release(self) -> None:
            pass

    source = VideoFileSource(video_mp4, capture_factory=lambda path, api: Huge())
    with pytest.raises(InputError, match="20000x20000 frames .*limit is 50 megapixels"):
        source.open()
    assert decoded == []


def test_a_stream_that_changes_size_stops_the_source(video_mp4: Path) -> None:
    # OpenCV follows a resolution change of the stream; the analysis must never see one.
    class Resized(_OddCapture):
        def __init__(self) -> None:
            super().__init__()
            self.frames = [pattern(0), pattern(1), pattern(2, 48, 32)]

    source = VideoFileSource(video_mp4, capture_factory=lambda path, api: Resized())
    with source:
        assert source.read() is not None and source.read() is not None
        with pytest.raises(InputError) as refused:
            source.read()
    assert str(refused.value) == (
        f"frame 2 of video file {video_mp4} is 48x32 pixels but frame 0 is 96x64; every frame "
        f"of {video_mp4} must have the same size")


def test_a_truncated_file_says_how_many_frames_it_gave(tmp_path: Path, video_avi: Path) -> None:
    cut = tmp_path / "cut.avi"
    cut.write_bytes(video_avi.read_bytes()[: int(video_avi.stat().st_size * 0.6)])
    with VideoFileSource(cut) as source:
        frames = list(source)
        assert source.truncated
        assert (source.frames_decoded, source.frame_count) == (len(frames), 30)
    with VideoFileSource(video_avi, start=4) as source:
        assert len(list(source)) == 26 and source.frames_decoded == 30
