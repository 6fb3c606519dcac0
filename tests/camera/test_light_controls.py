"""Exposure and white-balance locks on a fake camera: applied in the reading thread, read back,
refusals reported, re-applied after a reconnection; recordings answer "not applicable"."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import pytest

from kiosk.camera.capture import CaptureThread
from kiosk.camera.device import CameraDisconnected, DeviceSource
from kiosk.camera.health import ControlStatus
from kiosk.camera.images import ImageFolderSource
from kiosk.camera.video import VideoFileSource
from kiosk.vocabulary import ControlState
from tests.camera.fakes import (
    FakeCamera,
    FakeClock,
    FakeSysfs,
    add_usb_webcam,
    no_querycap,
    pattern,
)
from tests.camera.light_fakes import AUTO_EXPOSURE, AUTO_WB, EXPOSURE, WB_TEMPERATURE, FakeControls

LOCKED, AUTO, MANUAL = ControlState.LOCKED, ControlState.AUTO, ControlState.MANUAL
WAIT = 10.0   # bound on waiting for the capture thread; a hang fails instead of blocking


@pytest.fixture
def webcam(sysfs: FakeSysfs) -> FakeSysfs:
    add_usb_webcam(sysfs, 0)
    return sysfs


def make_source(camera: FakeCamera, clock: FakeClock, sysfs: FakeSysfs,
                platform: str = "linux") -> DeviceSource:
    return DeviceSource(0, capture_factory=camera.factory, clock=clock, sysfs_root=sysfs.root,
                        querycap=no_querycap, platform=platform, reconnect_min_s=0.5,
                        reconnect_max_s=1.0)


def states(source: DeviceSource) -> tuple[ControlState, ControlState]:
    health = source.health
    return health.exposure.state, health.white_balance.state


def test_a_connection_only_reads_the_state(webcam: FakeSysfs, clock: FakeClock) -> None:
    camera = FakeCamera()
    with make_source(camera, clock, webcam) as source:
        source.read()
        health = source.health
    assert (health.exposure, health.white_balance) == (ControlStatus(AUTO), ControlStatus(AUTO))
    assert (health.light_locked, health.light_pending, health.light_applied_t) == (None, False,
                                                                                   None)
    assert [c for c in camera.controls.calls if c[1] == "set"] == []


def test_lock_waits_for_the_next_read_then_holds_what_auto_chose(webcam: FakeSysfs,
                                                                 clock: FakeClock) -> None:
    controls = FakeControls()
    camera = FakeCamera(controls=controls)
    source = make_source(camera, clock, webcam)
    source.open()
    source.read()
    source.lock_light_controls(True)
    pending = source.health
    assert (pending.light_locked, pending.light_pending) == (True, True)
    assert pending.exposure.state is AUTO                       # nothing applied yet
    assert controls.sets(AUTO_EXPOSURE) == []
    clock.advance(0.5)
    source.read()
    health = source.health
    # Auto had chosen 312 (31.2 ms) and 4650 K; switching to manual made the fake fall back to
    # its stored 156 and 6500 K, so the values read before locking must have been set again.
    assert health.exposure == ControlStatus(LOCKED, 312.0, "100us", "")
    assert health.white_balance == ControlStatus(LOCKED, 4650.0, "K", "")
    assert controls.state == {AUTO_EXPOSURE: 1.0, EXPOSURE: 312.0, AUTO_WB: 0.0,
                              WB_TEMPERATURE: 4650.0}
    assert (health.light_pending, health.light_applied_t) == (False, 100.5)
    assert controls.sets(cv2.CAP_PROP_MODE) == [0.0]           # raw V4L2 values asked for
    source.close()


def test_lock_is_applied_in_the_capture_thread(webcam: FakeSysfs) -> None:
    def slow_image(i: int):
        time.sleep(0.002)      # a camera delivers frames at its own pace
        return pattern(i, 64, 48)

    controls = FakeControls()
    camera = FakeCamera(controls=controls, make_image=slow_image)
    source = DeviceSource(0, capture_factory=camera.factory, sysfs_root=webcam.root,
                          querycap=no_querycap, platform="linux")
    thread = CaptureThread(source, name="kiosk-capture")
    thread.start()
    try:
        assert thread.slot.get(timeout=WAIT) is not None
        for locked in (True, False):
            requester = threading.Thread(target=source.lock_light_controls, args=(locked,),
                                         name="session")
            requester.start()
            requester.join(WAIT)
            deadline = time.monotonic() + WAIT
            while source.health.light_pending and time.monotonic() < deadline:
                time.sleep(0.005)
            assert states(source) == ((LOCKED, LOCKED) if locked else (AUTO, AUTO))
    finally:
        assert thread.stop(timeout=WAIT)
    assert controls.threads("set") == {"kiosk-capture"}
    assert controls.threads("get") == {"kiosk-capture"}


def test_unlock_restores_the_auto_mode_found_before_locking(webcam: FakeSysfs,
                                                            clock: FakeClock) -> None:
    controls = FakeControls(exposure_modes=(0, 1), auto_exposure=0)   # full auto, not 3
    camera = FakeCamera(controls=controls)
    with make_source(camera, clock, webcam) as source:
        source.lock_light_controls(True)
        source.read()
        assert states(source) == (LOCKED, LOCKED)
        source.lock_light_controls(False)
        source.read()
        health = source.health
    assert (health.exposure, health.white_balance) == (ControlStatus(AUTO), ControlStatus(AUTO))
    assert health.light_locked is False
    assert controls.sets(AUTO_EXPOSURE) == [1.0, 0.0]
    assert controls.sets(AUTO_WB) == [0.0, 1.0]


def test_auto_already_off_is_reported_and_unlock_switches_it_on(webcam: FakeSysfs,
                                                                clock: FakeClock) -> None:
    """A kiosk run that stopped while locked leaves the camera in manual mode."""
    controls = FakeControls(auto_exposure=1)
    camera = FakeCamera(controls=controls)
    with make_source(camera, clock, webcam) as source:
        source.read()
        found = source.health.exposure
        assert (found.state, found.value) == (MANUAL, 156.0)
        assert "not by the kiosk" in found.detail
        source.lock_light_controls(True)
        source.read()
        locked = source.health.exposure
        assert (locked.state, locked.value) == (LOCKED, 156.0)
        assert "was already off (V4L2_CID_EXPOSURE_AUTO = 1) before the kiosk" in locked.detail
        source.lock_light_controls(False)
        source.read()
        assert states(source) == (AUTO, AUTO)
    assert controls.sets(AUTO_EXPOSURE) == [1.0, 3.0]        # aperture priority tried first


@pytest.mark.parametrize(("controls", "expected"), [
    (FakeControls(refuse=(AUTO_EXPOSURE,)),
     ControlStatus(AUTO, detail="the driver refused to switch auto exposure off "
                                "(V4L2_CID_EXPOSURE_AUTO: asked 1, reads 3)")),
    (FakeControls(exposure_modes=(3,)),                          # no manual mode in the menu
     ControlStatus(AUTO, detail="the driver refused to switch auto exposure off "
                                "(V4L2_CID_EXPOSURE_AUTO: asked 1, reads 3)")),
    (FakeControls(missing=(AUTO_EXPOSURE,)),
     ControlStatus(ControlState.NOT_SUPPORTED,
                   detail="the driver has no V4L2_CID_EXPOSURE_AUTO control")),
    (FakeControls(missing=(EXPOSURE,)),
     ControlStatus(AUTO, detail="not locked: the driver has no readable "
                                "V4L2_CID_EXPOSURE_ABSOLUTE control to hold the exposure at")),
])
def test_exposure_refusals_are_reported(webcam: FakeSysfs, clock: FakeClock,
                                        controls: FakeControls,
                                        expected: ControlStatus) -> None:
    camera = FakeCamera(controls=controls)
    with make_source(camera, clock, webcam) as source:
        source.lock_light_controls(True)
        source.read()
        health = source.health
    assert health.exposure == expected
    assert health.white_balance.state is LOCKED                 # the other one still locks
    assert health.light_locked is True and not health.light_pending
    assert controls.state[AUTO_EXPOSURE] == controls.defaults[AUTO_EXPOSURE]


def test_white_balance_refusals_and_clamping(webcam: FakeSysfs, clock: FakeClock) -> None:
    controls = FakeControls(refuse=(WB_TEMPERATURE,))
    controls.auto_values[EXPOSURE] = 5000.0                     # beyond the 2047 maximum
    camera = FakeCamera(controls=controls)
    with make_source(camera, clock, webcam) as source:
        source.lock_light_controls(True)
        source.read()
        health = source.health
    assert health.exposure == ControlStatus(
        LOCKED, 2047.0, "100us", "V4L2_CID_EXPOSURE_ABSOLUTE: asked 5000, the driver holds 2047")
    # Auto white balance went off, but the temperature auto had chosen could not be set: the
    # camera holds its stored 6500 K, and says so.
    assert health.white_balance == ControlStatus(
        LOCKED, 6500.0, "K",
        "V4L2_CID_WHITE_BALANCE_TEMPERATURE: asked 4650, the driver holds 6500")

    missing = FakeControls(missing=(AUTO_WB,))
    with make_source(FakeCamera(controls=missing), clock, webcam) as source:
        source.lock_light_controls(True)
        source.read()
        assert source.health.white_balance == ControlStatus(
            ControlState.NOT_SUPPORTED,
            detail="the driver has no V4L2_CID_AUTO_WHITE_BALANCE control")


def test_a_refused_unlock_is_reported(webcam: FakeSysfs, clock: FakeClock) -> None:
    controls = FakeControls()
    camera = FakeCamera(controls=controls)
    with make_source(camera, clock, webcam) as source:
        source.lock_light_controls(True)
        source.read()
        controls.refuse.add(AUTO_EXPOSURE)
        source.lock_light_controls(False)
        source.read()
        health = source.health
        assert health.exposure == ControlStatus(
            MANUAL, 312.0, "100us", "the driver refused to switch auto exposure back on "
                                    "(V4L2_CID_EXPOSURE_AUTO: tried 3, 0)")
        assert health.white_balance.state is AUTO
        controls.refuse.clear()


def test_reconnection_reapplies_the_lock(webcam: FakeSysfs, clock: FakeClock) -> None:
    controls = FakeControls()
    camera = FakeCamera(controls=controls)
    source = make_source(camera, clock, webcam)
    source.open()
    source.lock_light_controls(True)
    source.read()
    assert states(source) == (LOCKED, LOCKED)
    camera.plugged = False
    with pytest.raises(CameraDisconnected):
        source.read()
    lost = source.health
    assert (lost.exposure.state, lost.light_locked, lost.light_pending) == (
        ControlState.UNKNOWN, True, True)
    camera.plugged = True                       # a replugged camera starts from its defaults
    assert controls.state[AUTO_EXPOSURE] == 3.0
    controls.auto_values[EXPOSURE] = 400.0      # a different room light since
    clock.advance(0.5)
    source.read()
    health = source.health
    assert (health.exposure.state, health.exposure.value) == (LOCKED, 400.0)
    assert health.white_balance.state is LOCKED
    assert (health.reconnects, health.light_pending, health.light_applied_t) == (1, False, 100.5)
    assert controls.state[AUTO_EXPOSURE] == 1.0 and controls.state[EXPOSURE] == 400.0
    source.close()


def test_a_request_made_while_disconnected_waits_for_the_camera(webcam: FakeSysfs,
                                                                clock: FakeClock) -> None:
    controls = FakeControls()
    camera = FakeCamera(controls=controls, plugged=False)
    source = make_source(camera, clock, webcam)
    with pytest.raises(Exception, match="cannot open"):
        source.open()
    source.lock_light_controls(True)
    assert source.health.light_pending
    camera.plugged = True
    clock.advance(0.5)
    source.read()
    assert states(source) == (LOCKED, LOCKED)
    source.close()


def test_closing_a_locked_camera_switches_auto_back_on(webcam: FakeSysfs,
                                                       clock: FakeClock) -> None:
    controls = FakeControls()
    camera = FakeCamera(controls=controls)
    source = make_source(camera, clock, webcam)
    source.open()
    source.lock_light_controls(True)
    source.read()
    assert controls.state[AUTO_EXPOSURE] == 1.0
    source.close()
    assert (controls.state[AUTO_EXPOSURE], controls.state[AUTO_WB]) == (3.0, 1.0)
    health = source.health
    assert (health.exposure.state, health.light_locked) == (ControlState.UNKNOWN, True)

    # An unlock asked for but not yet applied when the source closes.
    source.open()
    source.read()
    assert controls.state[AUTO_EXPOSURE] == 1.0              # re-locked at the connection
    source.lock_light_controls(False)
    source.close()
    assert (controls.state[AUTO_EXPOSURE], controls.state[AUTO_WB]) == (3.0, 1.0)

    # A camera the kiosk never asked to lock is left as it is.
    untouched = FakeControls(auto_exposure=1)
    with make_source(FakeCamera(controls=untouched), clock, webcam) as other:
        other.read()
    assert untouched.state[AUTO_EXPOSURE] == 1.0 and untouched.sets(AUTO_EXPOSURE) == []


def test_a_backend_that_keeps_normalising_gets_the_quarter_values(webcam: FakeSysfs,
                                                                  clock: FakeClock) -> None:
    """OPENCV_VIDEOIO_V4L_RANGE_NORMALIZED: the menu index / 4 (0.25 manual, 0.75 aperture
    priority), the exposure as a share of its range."""
    controls = FakeControls(normalised=True)
    camera = FakeCamera(controls=controls)
    with make_source(camera, clock, webcam) as source:
        source.lock_light_controls(True)
        source.read()
        exposure = source.health.exposure
        assert controls.state[AUTO_EXPOSURE] == 1.0 and controls.state[EXPOSURE] == 312.0
        assert (exposure.state, exposure.unit) == (LOCKED, "")
        assert exposure.value == pytest.approx((312 - 3) / (2047 - 3))
        source.lock_light_controls(False)
        source.read()
        assert states(source) == (AUTO, AUTO)
    assert controls.sets(AUTO_EXPOSURE) == [0.25, 0.75]
    assert controls.state[AUTO_EXPOSURE] == 3.0


def test_other_platforms_touch_nothing(sysfs: FakeSysfs, clock: FakeClock) -> None:
    controls = FakeControls()
    camera = FakeCamera(controls=controls)
    with make_source(camera, clock, sysfs, platform="darwin") as source:
        source.lock_light_controls(True)
        source.read()
        exposure = source.health.exposure
    assert exposure.state is ControlState.NOT_SUPPORTED
    assert "only through OpenCV's V4L2 backend" in exposure.detail
    assert controls.calls == []


def test_recordings_accept_the_request_as_not_applicable(video_mp4: Path,
                                                         tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    cv2.imwrite(str(folder / "0.png"), pattern(0))
    for source in (VideoFileSource(video_mp4), ImageFolderSource(folder)):
        assert source.health.exposure.state is ControlState.NOT_APPLICABLE
        with source:
            source.lock_light_controls(True)
            assert source.read() is not None
            health = source.health
        assert (health.exposure.state, health.white_balance.state) == (
            ControlState.NOT_APPLICABLE, ControlState.NOT_APPLICABLE)
        assert health.exposure.detail == "a recording: nothing to lock"
        assert (health.light_locked, health.light_pending) == (True, False)
        source.open()                       # a new run keeps the request and the answer
        assert source.health.light_locked is True
        assert source.health.exposure.state is ControlState.NOT_APPLICABLE
        source.close()
