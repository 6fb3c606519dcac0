"""The window with the real face tracker on real media, and with sources that fail."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from kiosk.analysis.face import FaceTracker
from kiosk.audit import open_kiosk_log
from kiosk.camera import open_source
from kiosk.feed import FrameFeed
from kiosk.lab.standin import CountingAnalyzer, FixedFusion
from kiosk.runtime import RuntimeParts
from kiosk.ui.app import KioskWindow
from kiosk.ui.launch import build_worker, parse_args
from kiosk.ui.widgets.preview import fit_size, mirrored_bgra
from kiosk.ui.worker import KioskWorker
from kiosk.vocabulary import FlowState


def real_worker(settings, source, tmp_path, **feed_options):
    parts = RuntimeParts(tracker=FaceTracker, fusion=FixedFusion,
                         analyzers=lambda s: [CountingAnalyzer()],
                         audit=lambda s: open_kiosk_log(s, tmp_path), rng=random.Random(1))
    return KioskWorker(settings, FrameFeed(source, **feed_options), parts)


def test_mirrored_bgra_flips_left_and_right():
    image = np.zeros((2, 3, 3), np.uint8)
    image[:, 0] = (255, 0, 0)  # blue column on the left (BGR)
    out = mirrored_bgra(image, (3, 2))
    assert out.shape == (2, 3, 4)
    assert out[0, 2, 0] == 255 and out[0, 0, 0] == 0 and out[0, 0, 3] == 255


def test_fit_size_keeps_the_aspect_ratio():
    assert fit_size(640, 480, 1000, 1000) == (1000, 750)
    assert fit_size(640, 480, 320, 480) == (320, 240)
    with pytest.raises(ValueError, match="positive"):
        fit_size(0, 480, 10, 10)


def test_the_real_tracker_sees_a_face_in_a_real_clip(qtbot, settings, tmp_path, shared_data):
    clip = shared_data / "KwaiVGI_LivePortrait/assets/examples/driving/d7.mp4"
    worker = real_worker(settings, open_source(str(clip), paced=True), tmp_path)
    window = KioskWindow(settings, worker)
    qtbot.addWidget(window)
    window.start()
    try:
        with qtbot.waitSignal(worker.face_checked, timeout=20000,
                              check_params_cb=lambda check: check.present) as blocker:
            pass
        assert blocker.args[0].guidance.code in ("OK", "TOO_CLOSE", "OFF_CENTRE", "HOLD_STILL",
                                                 "LOOK_AT_CAMERA", "TOO_FAR")
        qtbot.waitUntil(lambda: window.flow.state in (FlowState.IDLE, "consent"), timeout=20000)
    finally:
        window.shutdown()


def out_of_service_reason(qtbot, settings, worker, expected: str) -> str:
    """Run the window on ``worker`` until it is out of service for a reason holding
    ``expected``; the reason (staff's detail: the screen shows its class)."""
    window = KioskWindow(settings, worker)
    qtbot.addWidget(window)
    window.start()
    try:
        qtbot.waitUntil(lambda: window.flow.state == FlowState.OUT_OF_SERVICE
                        and expected in window.out_of_service.detail, timeout=20000)
        assert expected not in window.out_of_service.reason.text()
        return window.out_of_service.detail
    finally:
        window.shutdown()


def test_an_undecodable_video_puts_the_kiosk_out_of_service(qtbot, settings, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 4096)
    worker = real_worker(settings, open_source(str(broken), paced=True, open_now=False),
                         tmp_path, loop_finite=False)
    reason = out_of_service_reason(qtbot, settings, worker, "cannot be decoded")
    assert reason.startswith("camera:")


def test_a_camera_too_slow_to_judge_puts_the_kiosk_out_of_service(qtbot, settings, tmp_path):
    # Through the launcher's own worker (the feed checks the rate in production): a 6 fps
    # source, looped as a kiosk loops a recording.
    clip = tmp_path / "slow.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"MJPG"), 6.0, (160, 120))
    for i in range(30):
        writer.write(np.full((120, 160, 3), 90 + i, np.uint8))
    writer.release()
    worker = build_worker(settings, parse_args(["--source", str(clip)]), tmp_path)
    reason = out_of_service_reason(qtbot, settings, worker, "frames a second")
    assert "6.0 frames a second; the liveness check needs at least 10" in reason


def test_a_bad_configuration_shows_out_of_service(qtbot):
    reason = "settings file /x/kiosk.toml: unknown setting camera.widht"
    window = KioskWindow(None, None, failure=reason)
    qtbot.addWidget(window)
    window.start()
    assert window.flow.state == FlowState.OUT_OF_SERVICE
    assert window.current_screen() is window.out_of_service
    assert reason in window.out_of_service.detail
    assert "a fault with the settings" in window.out_of_service.reason.text()
    window.shutdown()


def test_the_launcher_refuses_a_single_image_as_its_source(settings, tmp_path):
    # As kiosk verify does: a still cannot answer a prompt or show life, and the kiosk would
    # loop it as a camera that never moves.
    from kiosk.errors import InputError

    photo = tmp_path / "face.png"
    cv2.imwrite(str(photo), np.full((120, 160, 3), 128, np.uint8))
    with pytest.raises(InputError, match="is a single image, and a single image cannot be "
                                         "checked for liveness"):
        build_worker(settings, parse_args(["--source", str(photo)]), tmp_path)
    # In disguise too: a photo named .mp4, or a folder of one image.
    named = tmp_path / "face.mp4"
    named.write_bytes(cv2.imencode(".jpg", np.full((120, 160, 3), 128, np.uint8))[1].tobytes())
    folder = tmp_path / "frames"
    folder.mkdir()
    cv2.imwrite(str(folder / "1.png"), np.full((120, 160, 3), 128, np.uint8))
    for source in (named, folder):
        with pytest.raises(InputError, match="holds a single frame, and a single image cannot"):
            build_worker(settings, parse_args(["--source", str(source)]), tmp_path)
    # A camera is not a recording: it is the kiosk's own, chosen by camera.device.
    with pytest.raises(InputError, match="--source /dev/video0 names a camera"):
        build_worker(settings, parse_args(["--source", "/dev/video0"]), tmp_path)
