#!/usr/bin/env python
"""Render every kiosk screen on a real X server (a private Xvfb) to PNG files for the README.

Usage::

    .venv/bin/python scripts/render_screens.py [--out docs/screens] [--size 1280x800]

Without a DISPLAY (or with --xvfb) the script starts ``Xvfb -displayfd`` itself and runs
again inside it. The screens are the real widgets of :class:`kiosk.ui.app.KioskWindow`,
filled with representative content; the camera picture is a drawn cartoon face (no real
person's image goes into the repository).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCREENS = ("idle", "idle_accessible", "idle_locked", "consent", "identity", "live_placement",
           "live_countdown", "live_light_hold", "live_light", "live_prompt", "live_paused", "live_retry", "live_guidance",
           "processing", "result_pass", "result_fail_placement", "result_fail_challenge",
           "result_fail_quality", "result_fail_system", "result_fail_camera", "result_staff",
           "result_locked",
           "result_review", "out_of_service", "out_of_service_config")


def run_under_xvfb(argv: list[str], size: str) -> int:
    """Start a private Xvfb, run this script again on it, stop the server."""
    if shutil.which("Xvfb") is None:
        sys.stderr.write("Xvfb is not installed (Debian package xvfb)\n")
        return 2
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0",
                               f"{size}x24", "-nolisten", "tcp"], pass_fds=(write_fd,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as fh:
            number = fh.readline().strip()
        if not number:
            sys.stderr.write("Xvfb did not start\n")
            return 2
        env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
        env["DISPLAY"] = f":{number}"
        return subprocess.call([sys.executable, __file__, *argv, "--inside"], env=env)
    finally:
        server.terminate()
        server.wait(timeout=10)


def cartoon_frame(width: int = 640, height: int = 480, *, offset: int = 0):
    """A drawn face on a soft background, (H, W, 3) uint8 BGR (unmirrored camera frame)."""
    import cv2
    import numpy as np

    y = np.linspace(0, 1, height)[:, None]
    x = np.linspace(0, 1, width)[None, :]
    frame = np.zeros((height, width, 3), np.uint8)
    frame[..., 0] = (150 + 60 * y + 0 * x).astype(np.uint8)
    frame[..., 1] = (120 + 40 * y + 20 * x).astype(np.uint8)
    frame[..., 2] = (90 + 30 * x + 0 * y).astype(np.uint8)
    cx, cy = width // 2 + offset, height // 2 - 10
    cv2.ellipse(frame, (cx, cy + 200), (190, 90), 0, 180, 360, (80, 60, 50), -1)   # shoulders
    cv2.ellipse(frame, (cx, cy), (95, 125), 0, 0, 360, (120, 160, 215), -1)       # face
    cv2.ellipse(frame, (cx, cy - 90), (100, 55), 0, 180, 360, (40, 50, 70), -1)   # hair
    for dx in (-38, 38):
        cv2.ellipse(frame, (cx + dx, cy - 15), (16, 9), 0, 0, 360, (250, 250, 250), -1)
        cv2.circle(frame, (cx + dx, cy - 15), 6, (60, 40, 30), -1)
    cv2.line(frame, (cx, cy), (cx - 6, cy + 30), (90, 120, 170), 3)
    cv2.ellipse(frame, (cx, cy + 55), (34, 14), 0, 0, 180, (70, 70, 160), 4)
    return frame


def render(out: Path, size: tuple[int, int]) -> list[Path]:
    import cv2  # noqa: F401  (before Qt)

    from kiosk.ui.qtenv import drop_opencv_qt_paths

    drop_opencv_qt_paths(os.environ)
    from PySide6.QtWidgets import QApplication

    from kiosk.analysis.guidance import OFF_CENTRE, OK, TOO_CLOSE, target_oval
    from kiosk.cloud.results import FaceBox
    from kiosk.identity import IdPhoto
    from kiosk.reasons import Reason
    from kiosk.session import Decision, SessionProgress
    from kiosk.settings import Settings
    from kiosk.ui.app import KioskWindow
    from kiosk.vocabulary import FaultCause, Stage, Verdict
    from kiosk.wording import RESULT_PASS, RESULT_REVIEW, consent_text, result_message

    app = QApplication(sys.argv[:1])
    settings = (Settings().replace("kiosk", mode="staffed")
                .replace("audit", retention_days=30))
    window = KioskWindow(settings, None, scan_folder="/srv/id-scans")
    window.resize(*size)
    window.show()
    frame = cartoon_frame()

    def progress(prompt, index, left, guidance, **extra):
        return SessionProgress(stage=Stage.CHALLENGE, prompt=prompt, index=index, total=3,
                               time_left=left, window_s=4.0, guidance=guidance,
                               face_box=None, frame_shape=(480, 640),
                               oval=target_oval((480, 640)), **extra)

    def failed(*reasons, lockout=False):
        lockouts = (("subject", None),) if lockout else ()
        return result(result_message(Decision(Verdict.FAIL, tuple(reasons),
                                              lockouts=lockouts)))

    def idle():
        window.idle.set_lockouts(kiosk=False, subject=False)
        window.idle.set_accessible(False)
        window.stack.setCurrentWidget(window.idle)

    def idle_accessible():
        idle()
        window.idle.set_accessible(True)

    def idle_locked():
        idle()
        window.idle.set_lockouts(kiosk=True, subject=False)

    def consent():
        window.consent.set_text(consent_text(settings))
        window.stack.setCurrentWidget(window.consent)

    def identity():
        card = cartoon_frame(320, 400)
        window.stack.setCurrentWidget(window.identity)
        window.identity.show_frame(frame)
        window.identity.number_edit.setText("B-20417")
        window.identity.show_photo(IdPhoto(card, FaceBox(60, 40, 260, 330), "scan",
                                           "scan-0412.jpg"))

    def live(shown, picture=None):
        def show():
            window.stack.setCurrentWidget(window.live)
            window.live.reset()
            window.live.show_frame(frame if picture is None else picture)
            window.live.show_progress(shown)
        return show

    off_centre = cartoon_frame(offset=150)
    # A light sequence as a session draws one: the dark reference, then colours.
    colours = ((0, 0, 0), (0, 255, 0), (255, 0, 255), (0, 0, 255), (255, 255, 0),
               (0, 255, 255), (255, 0, 0), (0, 255, 0))
    sequence = tuple((0.5 * (i > 0) + 0.4 * max(i - 1, 0), 0.5 + 0.4 * i, rgb)
                     for i, rgb in enumerate(colours))

    def light(shown, at_s):
        """The light check ``at_s`` seconds into the sequence (mid-wipe of a colour)."""
        def show():
            live(dataclasses.replace(shown, stage=Stage.LIGHT, light=sequence))()
            end = time.monotonic() + at_s
            while time.monotonic() < end:
                app.processEvents()
        return show

    live_guidance = live(progress(None, 0, None, TOO_CLOSE),
                         cartoon_frame(offset=0)[60:420, 80:560].copy())

    def processing():
        window.stack.setCurrentWidget(window.processing)

    def result(message):
        def show():
            window.result.show_result(message)
            window.stack.setCurrentWidget(window.result)
        return show

    def out_of_service(cause, reason):
        def show():
            window.out_of_service.set_reason(reason, causes=frozenset({cause}))
            window.stack.setCurrentWidget(window.out_of_service)
        return show

    steps = dict(
        idle=idle, idle_accessible=idle_accessible, idle_locked=idle_locked, consent=consent,
        identity=identity,
        live_placement=live(progress(None, 0, None, OFF_CENTRE), off_centre),
        live_countdown=live(progress(None, 0, None, OK, placed=True, ready_in=1.2)),
        live_light_hold=live(dataclasses.replace(progress(None, 0, None, OK, placed=True,
                                                          ready_in=0.4), stage=Stage.LIGHT)),
        live_light=light(progress(None, 0, None, OK, placed=True), 0.96),
        live_prompt=live(progress("turn_left", 1, 2.6, OK, placed=True)),
        live_paused=live(progress("blink", 1, 2.6, OFF_CENTRE, paused=True), off_centre),
        live_retry=live(progress("smile", 1, 4.0, OK, placed=True, retry=True)),
        live_guidance=live_guidance, processing=processing,
        result_pass=result(RESULT_PASS),
        result_fail_placement=failed(Reason.NOT_PLACED),
        result_fail_challenge=failed(Reason.CHALLENGE_TIMEOUT),
        result_fail_quality=failed(Reason.NO_USABLE_FRAME),
        result_fail_system=failed(Reason.SOURCE_ENDED),
        result_fail_camera=failed(Reason.CAPTURE_TOO_SLOW),
        result_staff=failed(Reason.LIVENESS_FAILED, Reason.SCREEN_SUSPECTED),
        result_locked=failed(Reason.LIVENESS_FAILED, lockout=True),
        result_review=result(RESULT_REVIEW),
        out_of_service=out_of_service(FaultCause.CAMERA, "camera: /dev/video0 stopped "
                                      "delivering frames (unplugged?); reconnecting in 2.0 s"),
        out_of_service_config=out_of_service(
            FaultCause.CONFIG, "settings: liveness.challenge_count = 9 is out of range "
            "(2 to 6)"))
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SCREENS:
        steps[name]()
        for _ in range(20):  # layout, the spinner's first turn, the X server's copy
            app.processEvents()
        shot = app.primaryScreen().grabWindow(window.winId())
        path = out / f"{name}.png"
        if not shot.save(str(path), "PNG"):
            raise SystemExit(f"cannot write {path}")
        written.append(path)
    window.shutdown()
    print(f"{app.platformName()}: {len(written)} screens in {out}")
    return written


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description="Render the kiosk screens to PNG files.")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screens")
    parser.add_argument("--size", default="1280x800", help="window size WxH")
    parser.add_argument("--xvfb", action="store_true", help="use a private Xvfb even with a "
                        "DISPLAY")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.inside and (args.xvfb or not os.environ.get("DISPLAY")):
        return run_under_xvfb([a for a in argv if a != "--xvfb"], args.size)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    render(args.out, size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
