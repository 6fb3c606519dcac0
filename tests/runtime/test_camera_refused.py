"""A camera refused as virtual is evidence of an injection attempt: the runtime writes it into
the audit log once for as long as it stays refused, whatever the capture thread's retries."""

from __future__ import annotations

import threading
import time

import pytest

from kiosk.audit import action_detail, open_kiosk_log
from kiosk.camera.device import DeviceSource
from kiosk.feed import FrameFeed
from kiosk.lab.standin import Responder, standin_parts
from kiosk.runtime import KioskRuntime, TeeSink
from kiosk.runtime import events as ev
from tests.camera.fakes import FakeCamera, FakeSysfs, add_usb_webcam, no_querycap
from tests.runtime.test_sessions import Recorder


@pytest.fixture
def sysfs(tmp_path) -> FakeSysfs:
    return FakeSysfs(tmp_path / "sys")


def run_kiosk(settings, tmp_path, sysfs: FakeSysfs, camera: FakeCamera, seconds: float,
              *, before_stop=None, looked=None) -> Recorder:
    def querycap(path):
        if looked is not None:
            looked.append(path)  # one per look at the device, so one per try
        return no_querycap(path)

    source = DeviceSource(0, capture_factory=camera.factory, sysfs_root=sysfs.root,
                          querycap=querycap, platform="linux", reconnect_min_s=0.05,
                          reconnect_max_s=0.1)
    recorder = Recorder()
    responder = Responder()
    runtime = KioskRuntime(settings, FrameFeed(source, restart_s=0.05),
                           standin_parts(responder=responder,
                                         audit_factory=lambda s: open_kiosk_log(s, tmp_path)),
                           TeeSink(responder, recorder), idle_interval_s=0.05)
    thread = threading.Thread(target=runtime.run, daemon=True)
    thread.start()
    try:
        recorder.wait_for(ev.CameraFailed, where=lambda e: "virtual camera refused" in e.reason)
        time.sleep(seconds)  # the capture thread tries the device again meanwhile
        if before_stop is not None:
            before_stop(recorder)
    finally:
        runtime.stop()
        thread.join(15)
    assert not thread.is_alive()
    return recorder


def refusals(settings, tmp_path):
    with open_kiosk_log(settings, tmp_path, fleet=False) as audit:
        return audit.operator_actions(action="camera_refused", limit=None)


def test_a_virtual_camera_is_recorded_once_while_it_stays_refused(settings, tmp_path, sysfs):
    sysfs.add(0, "OBS Virtual Camera", parent=None)
    tries: list[str] = []
    camera = FakeCamera()
    run_kiosk(settings, tmp_path, sysfs, camera, 1.0, looked=tries)
    assert len(tries) >= 5 and camera.calls == []  # refused again and again, never opened
    found = refusals(settings, tmp_path)
    assert len(found) == 1
    event = found[0]
    assert (event.actor, event.reason, event.scope) == ("kiosk", "virtual camera refused", None)
    assert event.details["device"] == "/dev/video0"
    assert event.details["name"] == "OBS Virtual Camera"
    assert "OBS" in event.details["virtual"]
    assert action_detail(event).startswith("/dev/video0 'OBS Virtual Camera'")
    assert "flagged virtual" in action_detail(event)


def test_another_virtual_device_put_in_its_place_is_recorded_again(settings, tmp_path, sysfs):
    """A second virtual device put in place of the first is a second attempt."""
    sysfs.add(0, "OBS Virtual Camera", parent=None)

    def swap(recorder):
        sysfs.set_name(0, "Dummy video device (0x0000)")
        recorder.wait_for(ev.CameraFailed, where=lambda e: "Dummy video device" in e.reason)
        time.sleep(0.3)

    run_kiosk(settings, tmp_path, sysfs, FakeCamera(), 0.3, before_stop=swap)
    names = [a.details["name"] for a in refusals(settings, tmp_path)]
    assert names == ["Dummy video device (0x0000)", "OBS Virtual Camera"]  # newest first


def test_a_real_webcam_records_no_refusal(settings, tmp_path, sysfs):
    add_usb_webcam(sysfs, 0)
    recorder = Recorder()
    source = DeviceSource(0, capture_factory=FakeCamera().factory, sysfs_root=sysfs.root,
                          querycap=no_querycap, platform="linux")
    responder = Responder()
    runtime = KioskRuntime(settings, FrameFeed(source), standin_parts(
        responder=responder, audit_factory=lambda s: open_kiosk_log(s, tmp_path)),
        TeeSink(responder, recorder), idle_interval_s=0.05)
    thread = threading.Thread(target=runtime.run, daemon=True)
    thread.start()
    try:
        recorder.wait_for(ev.FaceChecked)
    finally:
        runtime.stop()
        thread.join(15)
    assert refusals(settings, tmp_path) == []
