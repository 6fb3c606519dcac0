"""What an attempt's audit row records about the camera or recording its frames came from.

Staff investigating an injected stream need to know which device served an attempt: an HDMI
grabber or a USB gadget that claims another vendor id passes the virtual-camera check, and
afterwards only this record says it was there. A recording is named by its kind and base name
only, never by its path (which may name a person's home folder); no image is ever recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.camera import DeviceSource, FrameSource, ImageFolderSource, VideoFileSource

__all__ = ["camera_record"]


def camera_record(source: FrameSource) -> dict[str, Any] | None:
    """The ``camera`` of the audit row of an attempt that reads ``source``.

    Parameters
    ----------
    source : FrameSource
        The session's source; a camera is described as its last connection found it.

    Returns
    -------
    dict or None
        ``{"kind": "camera", "device": "/dev/video0", "name": "HD Webcam C615", "driver":
        "uvcvideo", "bus": "usb", "usb": "046d:0825"}`` (empty values left out), plus
        ``virtual`` (the rules ``kiosk cameras`` flags it by) and ``allow_virtual`` (True)
        when they apply; ``{"kind": "video file" | "image folder", "name": base name}`` for
        a recording; None for any other source. See :func:`kiosk.audit.records.check_camera`.
    """
    if isinstance(source, DeviceSource):
        return _live(source)
    if isinstance(source, VideoFileSource):
        return {"kind": "video file", "name": _base_name(source.path)}
    if isinstance(source, ImageFolderSource):
        return {"kind": "image folder", "name": _base_name(source.folder)}
    return None


def _live(source: DeviceSource) -> dict[str, Any]:
    info = source.device_info  # None before the first connection, and off Linux
    record: dict[str, Any] = {"kind": "camera",
                              "device": info.path if info else str(source.device)}
    if info is not None:
        found = {"name": info.name, "driver": info.driver, "bus": info.bus,
                 "usb": info.usb_id, "virtual": info.why_virtual}
        record.update({key: _printable(text) for key, text in found.items() if text})
    if source.allow_virtual:
        record["allow_virtual"] = True
    return record


def _base_name(path: Path) -> str:
    """The last part of ``path`` (of the folder itself for ``.``)."""
    return _printable(path.resolve().name)


def _printable(text: str) -> str:
    """``text`` with unprintable characters replaced: a device may name itself with control
    characters, which the log refuses and a terminal would run."""
    return "".join(c if c.isprintable() else "\ufffd" for c in text)
