"""Camera choice and live health for the operator: plain text, warnings first."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from kiosk.analysis.capture import MIN_ANALYSIS_FPS, too_slow
from kiosk.camera import CameraHealth, ControlStatus, SourceInfo, VideoDevice, is_device_spec
from kiosk.feed import GREY_MIN_FRAMES
from kiosk.vocabulary import ControlState

SLOW_RATIO = 0.5
"""Measured frame rate below this share of the nominal rate raises a warning."""


@dataclass(frozen=True)
class CameraChoice:
    """One device the operator may pick.

    ``spec`` is what ``camera.device`` is set to; ``warning`` is empty for a physical camera.
    """

    spec: str
    label: str
    is_virtual: bool
    warning: str


@dataclass(frozen=True)
class CameraStatus:
    """Health of the camera in use, as lines of ``(label, value)`` and warnings.

    ``note`` says what a camera chosen now will do when that is not "switch at once" (the
    kiosk plays a recording given at start-up); empty otherwise.
    """

    device: str
    connected: bool
    lines: tuple[tuple[str, str], ...]
    warnings: tuple[str, ...]
    note: str = ""


_STATE_WORDS = {
    ControlState.LOCKED: "locked",
    ControlState.AUTO: "automatic",
    ControlState.MANUAL: "manual",
    ControlState.NOT_SUPPORTED: "cannot be locked",
    ControlState.NOT_APPLICABLE: "not applicable",
    ControlState.UNKNOWN: "unknown",
}


def _value_text(value: float, unit: str) -> str:
    if unit == "100us":
        return f"{value / 10:g} ms"
    return f"{value:g} {unit}".rstrip()


def control_text(status: ControlStatus) -> str:
    """A camera control's state for staff: ``locked at 31.2 ms``, ``automatic``, ..."""
    text = _STATE_WORDS[status.state]
    if status.value is not None and status.state in (ControlState.LOCKED, ControlState.MANUAL):
        text += f" at {_value_text(status.value, status.unit)}"
    return text + (f" ({status.detail})" if status.detail else "")


def light_lock_text(health: CameraHealth) -> str:
    """The light check's request to the camera and whether the camera has applied it."""
    text = {None: "not requested", True: "on (light check)", False: "off"}[health.light_locked]
    return text + (", waiting for the camera" if health.light_pending else "")


def _light_warnings(health: CameraHealth) -> list[str]:
    """Automatic exposure or white balance left off when nobody asked for a lock."""
    if health.light_locked:
        return []
    off = [label for label, status in (("exposure", health.exposure),
                                       ("white balance", health.white_balance))
           if status.state is ControlState.MANUAL]
    if not off:
        return []
    return [f"Automatic {' and '.join(off)} is off although no light check holds it: the "
            "picture will not follow the room's light (another program changed it, or the "
            "camera refused to switch it back on; see the lines below)."]


def _fixed_recording(source: SourceInfo | None) -> bool:
    return source is not None and not source.is_live and not source.switchable


def recording_note(source: SourceInfo) -> str:
    """What choosing a camera does while a recording given at start-up plays: nothing (and
    what the panel applies is not saved: see :func:`kiosk.operator.settings_edit.keep_hint`)."""
    return (f"The kiosk plays the recording {source.description} given at start-up, not a "
            "camera: a camera chosen here is not used while it plays.")


def unlisted_warning(spec: str, source: SourceInfo | None) -> str:
    """The warning for a ``camera.device`` not among the devices listed now.

    The kiosk stays out of service until that camera is connected, unless it plays a
    recording given at start-up: the recording goes on, and the camera is not used.
    """
    text = f"camera.device = {spec!r} is not among the video devices this machine lists now"
    if _fixed_recording(source):
        assert source is not None
        return (f"{text}; the kiosk goes on playing the recording {source.description} "
                "and uses no camera while it plays.")
    return f"{text}: the kiosk stays out of service until it is connected."


def virtual_warning(device: VideoDevice, allow_virtual: bool) -> str:
    """The warning for a virtual camera, empty for a physical one."""
    if not device.is_virtual:
        return ""
    verdict = ("accepted only because camera.allow_virtual is on (development)" if allow_virtual
               else "the kiosk refuses it")
    return (f"{device.path} looks like a VIRTUAL camera ({device.why_virtual}): an injected "
            f"video stream is an attack; {verdict}.")


def find(devices: Sequence[VideoDevice], spec: str) -> VideoDevice | None:
    """The listed device a ``camera.device`` value names (index or path), if any."""
    text = spec.strip()
    for device in devices:
        if text.isdigit() and int(text) == device.index:
            return device
        if text.startswith("/") and os.path.realpath(text) == os.path.realpath(device.path):
            return device
    return None


def camera_choices(devices: Sequence[VideoDevice], current: str, allow_virtual: bool,
                   source: SourceInfo | None = None) -> list[CameraChoice]:
    """Capture devices to choose from; the current setting is kept even when not listed.

    ``source`` is what the kiosk reads now: while it plays a recording the setting is not in
    use, and the list says so rather than "not found".
    """
    choices = []
    for d in devices:
        if d.is_capture is False:
            continue  # metadata and codec nodes cannot deliver pictures
        where = ", ".join(filter(None, (d.driver, d.bus)))
        label = f"{d.path}: {d.name}" + (f" ({where})" if where else "")
        warning = virtual_warning(d, allow_virtual)
        choices.append(CameraChoice(d.path, label + (" - VIRTUAL" if d.is_virtual else ""),
                                    d.is_virtual, warning))
    if find(devices, current) is None and is_device_spec(current):
        state = ("not in use while a recording plays" if _fixed_recording(source)
                 else "not found now")
        choices.insert(0, CameraChoice(current, f"{current} (current setting; {state})",
                                       False, ""))
    return choices


def camera_status(health: CameraHealth | None, spec: str, devices: Sequence[VideoDevice],
                  allow_virtual: bool, source: SourceInfo | None = None) -> CameraStatus:
    """What the camera page shows; ``health`` None means no camera is running.

    ``source`` is what the kiosk reads now (None: the camera ``spec`` names). A recording is
    named as such, with "playing" instead of "connected", and a warning: a kiosk in service
    must watch a camera.
    """
    if _fixed_recording(source):
        assert source is not None
        return _recording_status(health, source)
    warnings = []
    device = find(devices, spec)
    if device is not None and device.is_virtual:
        warnings.append(virtual_warning(device, allow_virtual))
    if health is None:
        warnings.append("No camera is running.")
        return CameraStatus(spec, False, (("device", spec),), tuple(warnings))
    if not health.connected:
        warnings.append("The camera is not delivering frames"
                        + (f": {health.last_error}" if health.last_error else "."))
    if health.is_frozen:
        warnings.append(f"The picture has not changed for {health.frozen_run} frames: a frozen "
                        "camera or a still image fed in place of one.")
    if health.frames > 1 and health.nominal_fps > 0 and \
            health.fps < SLOW_RATIO * health.nominal_fps:
        warnings.append(f"The camera runs at {health.fps:.1f} fps of the "
                        f"{health.nominal_fps:.0f} asked for.")
    warnings += _rate_warnings(health)
    warnings += _colour_warnings(health)
    warnings += _light_warnings(health)
    lines = (
        ("device", spec + (f" ({device.name})" if device else "")),
        ("connected", "yes" if health.connected else "no"),
        ("frame rate", f"{health.fps:.1f} fps (asked {health.nominal_fps:.0f})"),
        ("frames", str(health.frames)),
        ("dropped", str(health.dropped)),
        ("frozen", f"{health.frozen} in total, {health.frozen_run} in a row now"),
        ("colour", colour_text(health)),
        ("corrupt", str(health.corrupt)),
        ("reconnections", str(health.reconnects)),
        ("exposure", control_text(health.exposure)),
        ("white balance", control_text(health.white_balance)),
        ("light lock", light_lock_text(health)),
        ("last error", health.last_error or "none"),
    )
    return CameraStatus(spec, health.connected, lines, tuple(warnings))


def _rate_warnings(health: CameraHealth) -> list[str]:
    """A camera or recording too slow for the liveness check (the kiosk goes out of service
    and a session that still runs fails with CAPTURE_TOO_SLOW)."""
    if health.frames > 1 and health.fps > 0 and too_slow(health.fps):
        return [f"At {health.fps:.1f} fps liveness is not judged: it needs at least "
                f"{MIN_ANALYSIS_FPS:.0f} frames a second, so the kiosk is out of service and "
                "a check that still runs fails with CAPTURE_TOO_SLOW (more light often brings "
                "a webcam's rate back)."]
    return []


def colour_text(health: CameraHealth) -> str:
    """Whether the picture has colour, for the health lines."""
    return f"none for {health.grey_run} frames" if health.grey_run else "yes"


def _colour_warnings(health: CameraHealth) -> list[str]:
    """A picture without colour (the kiosk goes out of service: see kiosk.feed)."""
    if health.grey_run >= GREY_MIN_FRAMES:
        return [f"The picture has had no colour for {health.grey_run} frames: an infrared or "
                "night mode, or a face-login sensor rather than the camera. The kiosk is out "
                "of service: the light check and the colour cues need colour."]
    return []


def _recording_status(health: CameraHealth | None, source: SourceInfo) -> CameraStatus:
    warnings = [f"The kiosk is not watching a camera: it plays the recording "
                f"{source.description} (tests and demonstrations only)."]
    note = recording_note(source)
    if health is None:
        return CameraStatus(source.description, False, (("recording", source.description),),
                            tuple(warnings), note)
    if not health.connected:
        warnings.append("The recording is not delivering frames"
                        + (f": {health.last_error}" if health.last_error else "."))
    warnings += _rate_warnings(health)
    warnings += _colour_warnings(health)
    lines = (
        ("recording", source.description),
        ("playing", "yes" if health.connected else "no"),
        ("frame rate", f"{health.fps:.1f} fps (file {health.nominal_fps:.0f})"),
        ("frames", str(health.frames)),
        ("dropped", str(health.dropped)),
        ("corrupt", str(health.corrupt)),
        ("exposure", control_text(health.exposure)),
        ("white balance", control_text(health.white_balance)),
        ("last error", health.last_error or "none"),
    )
    return CameraStatus(source.description, health.connected, lines, tuple(warnings), note)
