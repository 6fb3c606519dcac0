"""``kiosk track`` on input it must refuse: one clear line, no native log noise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from kiosk.cli import main
from kiosk.cli.quiet import QUIET_ENV, NativeLogFilter
from tests.camera.fakes import write_video


def kiosk(capsys, *argv):
    status = main(list(argv), environ={})
    out, err = capsys.readouterr()
    return status, out, err


def test_a_folder_of_two_sizes_is_refused_before_any_record(capsys, tmp_path):
    # The tracker follows a face from frame to frame: pictures of different sizes are not
    # frames of one recording, so track refuses them as analyze and verify do.
    Image.new("RGB", (40, 30)).save(tmp_path / "a.png")
    Image.new("RGB", (32, 30)).save(tmp_path / "b.png")
    status, out, err = kiosk(capsys, "track", str(tmp_path))
    assert status == 2 and out == ""
    assert err == (f"kiosk track: image {tmp_path / 'b.png'} is 32x30 pixels but the first "
                   f"image (a.png) is 40x30; every frame of {tmp_path} must have the same "
                   "size\n")


@pytest.fixture
def cut_mp4(tmp_path: Path) -> Path:
    """An MP4 cut before its index (moov atom): FFmpeg and OpenCV both log about it."""
    whole = write_video(tmp_path / "whole.mp4")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[:2000])
    return cut


def run_kiosk(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in QUIET_ENV}
    return subprocess.run([sys.executable, "-m", "kiosk", *argv], capture_output=True,
                          text=True, timeout=120, env=env)


def test_opencv_and_ffmpeg_lines_are_hidden_unless_verbose(cut_mp4):
    quiet = run_kiosk("track", str(cut_mp4))
    assert quiet.returncode == 2
    assert quiet.stderr == (f"kiosk track: video file {cut_mp4} cannot be decoded: not a video "
                            "OpenCV can read (corrupt, truncated or unsupported format)\n")
    loud = run_kiosk("-v", "track", str(cut_mp4))
    assert loud.returncode == 2
    assert "moov atom not found" in loud.stderr          # FFmpeg's own line
    assert "[ WARN:" in loud.stderr                      # OpenCV's own line
    assert f"kiosk track: video file {cut_mp4} cannot be decoded" in loud.stderr


def test_the_filter_sets_opencvs_switches_only_while_active(monkeypatch):
    monkeypatch.delenv("OPENCV_LOG_LEVEL", raising=False)
    monkeypatch.setenv("OPENCV_FFMPEG_LOGLEVEL", "32")    # the user's choice stays
    import cv2

    level = cv2.utils.logging.getLogLevel()
    with NativeLogFilter():
        assert os.environ["OPENCV_LOG_LEVEL"] == "SILENT"
        assert os.environ["OPENCV_FFMPEG_LOGLEVEL"] == "32"
        # cv2 is imported already: its level is lowered directly as well.
        assert cv2.utils.logging.getLogLevel() == cv2.utils.logging.LOG_LEVEL_SILENT
    assert "OPENCV_LOG_LEVEL" not in os.environ
    assert os.environ["OPENCV_FFMPEG_LOGLEVEL"] == "32"
    assert cv2.utils.logging.getLogLevel() == level


def test_csv_output_starts_only_once_the_input_reads(capsys, tmp_path):
    # Before, the header went to stdout before the input failed, so a pipeline got a CSV
    # header and an error.
    fake = tmp_path / "text.jpg"
    fake.write_text("not an image")
    status, out, err = kiosk(capsys, "track", "--csv", str(fake))
    assert status == 2 and out == "" and "cannot be decoded" in err
    good = tmp_path / "grey.png"
    Image.new("RGB", (64, 48), (128, 128, 128)).save(good)
    status, out, _ = kiosk(capsys, "track", "--csv", str(good))
    lines = out.splitlines()
    assert status == 0 and lines[0].startswith("frame,t,faces,") and len(lines) == 2


@pytest.mark.parametrize("command", ["track", "analyze"])
def test_a_video_whose_name_is_not_utf8_is_refused_not_a_crash(tmp_path, command):
    """A name copied from older media in Latin-1 (``Vid\\xe9o.mp4``): OpenCV's VideoCapture
    crashed the process on it (SIGSEGV, exit 139, not a word said)."""
    video = write_video(tmp_path / "clip.mp4")
    latin1 = os.fsencode(tmp_path) + b"/Vid\xe9o.mp4"
    os.rename(video, latin1)
    done = subprocess.run([sys.executable, "-m", "kiosk", command, os.fsdecode(latin1)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HOME": str(tmp_path)})
    assert done.returncode == 2, done.stderr[-500:]
    assert done.stderr.strip().splitlines()[-1] == (
        f"kiosk {command}: the name of {tmp_path}/Vid\\udce9o.mp4 is not valid UTF-8 (copied "
        "from older media or a share that uses another encoding?): rename the file")
