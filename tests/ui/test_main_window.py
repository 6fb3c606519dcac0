"""The window with its worker thread on a real video and on a source that fails."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.analysis.face import FaceTracker
from kiosk.camera import open_source
from kiosk.ui.app import MainWindow
from kiosk.ui.worker import AnalysisWorker, mirrored_qimage


def write_clip(path, frames=20):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15, (160, 120))
    rng = np.random.default_rng(3)
    for _ in range(frames):
        writer.write(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))
    writer.release()


def test_mirrored_qimage_flips_left_and_right():
    image = np.zeros((2, 3, 3), np.uint8)
    image[:, 0] = (255, 0, 0)  # blue column on the left (BGR)
    qimage = mirrored_qimage(image)
    assert (qimage.width(), qimage.height()) == (3, 2)
    assert qimage.pixelColor(2, 0).blue() == 255 and qimage.pixelColor(0, 0).blue() == 0


def test_live_frames_reach_the_screen(qtbot, shared_data):
    clip = shared_data / "KwaiVGI_LivePortrait/assets/examples/driving/d7.mp4"
    worker = AnalysisWorker(open_source(str(clip), paced=True), FaceTracker)
    window = MainWindow(worker)
    qtbot.addWidget(window)
    window.start()
    try:
        with qtbot.waitSignal(worker.frame_ready, timeout=20000) as blocker:
            pass
        frame = blocker.args[0]
        assert frame.box is not None and frame.image.width() == 480
        qtbot.waitUntil(lambda: window.live.guidance.text() not in ("", "Starting the camera..."),
                        timeout=10000)
        assert window.stack.currentWidget() is window.live
    finally:
        window.shutdown()


def test_a_face_free_clip_asks_the_person_to_step_in(qtbot, tmp_path):
    clip = tmp_path / "noise.avi"
    write_clip(clip)
    worker = AnalysisWorker(open_source(str(clip), paced=True), FaceTracker)
    window = MainWindow(worker)
    qtbot.addWidget(window)
    window.start()
    try:
        qtbot.waitUntil(lambda: window.live.guidance.text() == "Step in front of the camera",
                        timeout=20000)
    finally:
        window.shutdown()


def test_a_failing_source_shows_out_of_service(qtbot, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 4096)
    worker = AnalysisWorker(open_source(str(broken), paced=True, open_now=False), FaceTracker,
                            loop_finite=False)
    window = MainWindow(worker)
    qtbot.addWidget(window)
    window.start()
    try:
        qtbot.waitUntil(lambda: window.stack.currentWidget() is window.out_of_service,
                        timeout=20000)
        assert "cannot be decoded" in window.out_of_service.reason.text()
    finally:
        window.shutdown()


@pytest.mark.parametrize("reason", ["settings file /x/kiosk.toml: unknown setting camera.widht"])
def test_a_bad_configuration_shows_out_of_service(qtbot, reason):
    window = MainWindow(None, reason)
    qtbot.addWidget(window)
    assert window.stack.currentWidget() is window.out_of_service
    assert reason in window.out_of_service.reason.text()
