"""MediaPipe's native log lines are hidden from the kiosk command unless -v is given."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from kiosk.cli.quiet import NATIVE_NOISE

D5 = "KwaiVGI_LivePortrait/assets/examples/driving/d5.mp4"
GLOG = ("W0000 00:00:1796500299.168790   14518 face_landmarker_graph.cc:181] Sets "
        "FaceBlendshapesGraph acceleration to xnnpack by default.")


@pytest.mark.parametrize("line, noise", [
    (GLOG, True),
    ("I1205 19:21:21.123456 4172 inference_feedback_manager.cc:121] Feedback manager", True),
    ("INFO: Created TensorFlow Lite XNNPACK delegate for CPU.", True),
    ("WARNING: Logging before InitGoogle() is written to STDERR", True),
    ("kiosk track: video file x.mp4 does not exist", False),
    ("Traceback (most recent call last):", False),
    ("W0000 is not a log line", False),
])
def test_the_pattern_takes_only_native_log_lines(line, noise):
    assert bool(NATIVE_NOISE.match(line.encode() + b"\n")) is noise


def test_the_filter_drops_native_lines_and_keeps_the_rest():
    code = textwrap.dedent(f"""
        import os, sys
        from kiosk.cli.quiet import NativeLogFilter
        with NativeLogFilter():
            os.write(2, {GLOG!r}.encode() + b"\\n")
            os.write(2, b"native: something else\\n")
            print("python: a message", file=sys.stderr)
        print("python: after", file=sys.stderr)
        """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0
    # Native lines pass through the filter's thread, Python's go straight out: their order
    # relative to each other is not kept.
    assert sorted(result.stderr.splitlines()) == ["native: something else", "python: a message",
                                                  "python: after"]
    assert "face_landmarker_graph" not in result.stderr


@pytest.mark.data
def test_kiosk_track_is_quiet_unless_verbose(shared_data):
    clip = str(shared_data / D5)
    quiet = subprocess.run([sys.executable, "-m", "kiosk", "track", clip, "--every", "50"],
                           capture_output=True, text=True, timeout=300)
    assert quiet.returncode == 0 and quiet.stdout.count("\n") >= 2
    assert quiet.stderr == ""
    loud = subprocess.run([sys.executable, "-m", "kiosk", "-v", "track", clip, "--every", "50"],
                          capture_output=True, text=True, timeout=300)
    assert loud.returncode == 0
    assert any(NATIVE_NOISE.match(line.encode()) for line in loud.stderr.splitlines())
