"""The camera page's lines for exposure, white balance and the light check's lock."""

from __future__ import annotations

from kiosk.camera import CameraHealth, ControlStatus, SourceInfo
from kiosk.camera.health import RECORDING_CONTROLS
from kiosk.operator.camera import camera_status
from kiosk.vocabulary import ControlState

LOCKED, AUTO, MANUAL = ControlState.LOCKED, ControlState.AUTO, ControlState.MANUAL


def live(**light: object) -> CameraHealth:
    fields: dict[str, object] = {"frames": 300, "fps": 30.0, "nominal_fps": 30.0,
                                 "connected": True}
    fields.update(light)
    return CameraHealth(**fields)  # type: ignore[arg-type]


def lines(health: CameraHealth, source: SourceInfo | None = None) -> dict[str, str]:
    return dict(camera_status(health, "0", [], False, source).lines)


def test_locked_values_in_their_units() -> None:
    health = live(exposure=ControlStatus(LOCKED, 312.0, "100us"),
                  white_balance=ControlStatus(LOCKED, 4650.0, "K"), light_locked=True,
                  light_applied_t=12.5)
    shown = lines(health)
    assert shown["exposure"] == "locked at 31.2 ms"
    assert shown["white balance"] == "locked at 4650 K"
    assert shown["light lock"] == "on (light check)"
    assert camera_status(health, "0", [], False).warnings == ()


def test_refusals_and_pending_requests_are_spelled_out() -> None:
    health = live(exposure=ControlStatus(AUTO, detail="the driver refused to switch auto "
                                                      "exposure off"),
                  white_balance=ControlStatus(ControlState.NOT_SUPPORTED,
                                              detail="the driver has no "
                                                     "V4L2_CID_AUTO_WHITE_BALANCE control"),
                  light_locked=True, light_pending=True)
    shown = lines(health)
    assert shown["exposure"] == "automatic (the driver refused to switch auto exposure off)"
    assert shown["white balance"] == ("cannot be locked (the driver has no "
                                      "V4L2_CID_AUTO_WHITE_BALANCE control)")
    assert shown["light lock"] == "on (light check), waiting for the camera"
    assert lines(live())["light lock"] == "not requested"
    assert lines(live())["exposure"] == "unknown"


def test_auto_left_off_without_a_lock_is_a_warning() -> None:
    stuck = live(exposure=ControlStatus(MANUAL, 156.0, "100us", "the driver refused to switch "
                                                                "auto exposure back on"),
                 white_balance=ControlStatus(AUTO), light_locked=False)
    status = camera_status(stuck, "0", [], False)
    assert dict(status.lines)["exposure"] == ("manual at 15.6 ms (the driver "
                                              "refused to switch auto exposure back on)")
    (warning,) = status.warnings
    assert warning.startswith("Automatic exposure is off although no light check holds it")
    # The same state while the light check holds the lock is no warning.
    held = live(exposure=ControlStatus(MANUAL, 156.0, "100us"), light_locked=True)
    assert camera_status(held, "0", [], False).warnings == ()


def test_a_recording_says_not_applicable() -> None:
    health = live(exposure=RECORDING_CONTROLS, white_balance=RECORDING_CONTROLS,
                  light_locked=True)
    shown = lines(health, SourceInfo("/data/clip.mp4", is_live=False, switchable=False))
    assert shown["recording"] == "/data/clip.mp4"
    assert shown["exposure"] == "not applicable (a recording: nothing to lock)"
    assert shown["white balance"] == shown["exposure"]


def test_a_camera_too_slow_for_the_liveness_check_is_named() -> None:
    # A webcam that fell to 7.5 fps in dim light: slow against what was asked, and too slow
    # for every check; at 14 fps it is only slow.
    dim = camera_status(live(fps=7.5), "0", [], False).warnings
    assert dim[0] == "The camera runs at 7.5 fps of the 30 asked for."
    assert dim[1].startswith("At 7.5 fps liveness is not judged") and "CAPTURE_TOO_SLOW" in dim[1]
    assert len(camera_status(live(fps=14.0), "0", [], False).warnings) == 1
    assert camera_status(live(fps=12.0, nominal_fps=12.0), "0", [], False).warnings == ()
    # A recording played at 6 fps is named the same way (the kiosk is out of service for it).
    clip = SourceInfo("/data/slow.avi", is_live=False, switchable=False)
    played = camera_status(live(fps=6.0, nominal_fps=6.0), "0", [], False, clip).warnings
    assert played[-1].startswith("At 6.0 fps liveness is not judged")
