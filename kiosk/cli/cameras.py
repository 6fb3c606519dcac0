"""``kiosk cameras``: list the video devices, flag virtual cameras, and say for each capture
node whether its exposure and white balance can be locked (the light challenge needs them
fixed)."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from kiosk.camera.device import parse_device
from kiosk.camera.v4l2 import SYSFS_ROOT, VideoDevice, list_devices, node_of, query_capability
from kiosk.camera.v4l2_controls import LightSupport, LockSupport, query_light_support
from kiosk.errors import CameraError

EXIT_OK = 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "cameras", help="list video devices; flag virtual cameras; exposure and white-balance "
                        "locks",
        description="List the video devices Linux sees (/sys/class/video4linux) with their "
                    "names and drivers, flag virtual cameras (v4l2loopback, OBS, ...), which "
                    "the kiosk refuses unless camera.allow_virtual is true, and say whether "
                    "each capture node lets the kiosk lock its exposure and white balance "
                    "during the light check (asked of the driver with VIDIOC_QUERYCTRL and "
                    "VIDIOC_G_CTRL; nothing is changed).")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list of devices instead of a table")
    # sysfs_root, querycap and querylight are not options: tests replace them (a fake tree,
    # fake ioctls).
    parser.set_defaults(func=run, sysfs_root=SYSFS_ROOT, querycap=query_capability,
                        querylight=query_light_support)


def _configured_node(device: str) -> str | None:
    try:
        return node_of(parse_device(device))
    except CameraError:
        return None


def _capture_text(device: VideoDevice) -> str:
    return {True: "yes", False: "no", None: "?"}[device.is_capture]


def _lock_cell(device: VideoDevice, support: LightSupport | None, which: str) -> str:
    if device.is_capture is False:
        return "-"
    if support is None:
        return "?"
    return "yes" if getattr(support, which).lockable else "no"


def _unit(value: int, unit: str) -> str:
    return f"{value / 10:g} ms" if unit == "100us" else f"{value} {unit}".rstrip()


def describe_lock(label: str, lock: LockSupport) -> str:
    """One line for staff: ``exposure: auto now; lockable (range ..., reads ...)``."""
    now = {True: "auto now", False: "manual now", None: "mode unknown"}[lock.auto]
    if not lock.lockable:
        return f"{label}: {now}; cannot be locked ({lock.detail})"
    span = ""
    if lock.minimum is not None and lock.maximum is not None:
        span = f"{_unit(lock.minimum, lock.unit)} to {_unit(lock.maximum, lock.unit)}"
    reading = f", reads {_unit(lock.value, lock.unit)}" if lock.value is not None else ""
    return f"{label}: {now}; lockable ({span}{reading})"


def format_table(devices: list[VideoDevice], configured: str | None,
                 light: dict[str, LightSupport | None] | None = None) -> str:
    """The devices as an aligned text table; ``*`` marks the configured camera.

    ``light`` maps a device path to what its driver said about exposure and white balance
    (None: the node could not be opened); absent paths were not asked.
    """
    light = light or {}
    header = ("", "DEVICE", "NAME", "DRIVER", "BUS", "CAPTURE", "VIRTUAL", "EXP-LOCK",
              "WB-LOCK")
    rows = [header]
    for d in devices:
        mark = "*" if configured == Path(d.path).name else ""
        support = light.get(d.path)
        rows.append((mark, d.path, d.name or "?", d.driver or "?", d.bus or "-",
                     _capture_text(d), "yes" if d.is_virtual else "no",
                     _lock_cell(d, support, "exposure"), _lock_cell(d, support, "white_balance")))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
             for r in rows]
    if any(r[0] == "*" for r in rows[1:]):
        lines.append("* = the configured camera (camera.device); CAPTURE ? = node not queried "
                     "(no access)")
    lines.append("EXP-LOCK, WB-LOCK = exposure and white balance can be locked for the light "
                 "check; ? = node not opened (no access), - = not a capture node")
    for d in devices:
        if d.is_virtual:
            lines.append(f"{d.path} is virtual: {d.why_virtual}")
    for d in devices:
        support = light.get(d.path)
        if support is not None:
            lines.append(f"{d.path} {describe_lock('exposure', support.exposure)}")
            lines.append(f"{d.path} {describe_lock('white balance', support.white_balance)}")
    return "\n".join(lines)


def _light(devices: list[VideoDevice], querylight: Any) -> dict[str, LightSupport | None]:
    """Ask each capture node (metadata and codec nodes have no such controls)."""
    return {d.path: querylight(d.path) for d in devices if d.is_capture is not False}


def run(args: argparse.Namespace, ctx: Any) -> int:
    sysfs_root = Path(args.sysfs_root)
    devices = list_devices(sysfs_root, querycap=args.querycap)
    light = _light(devices, args.querylight)
    camera = ctx.settings.camera
    configured = _configured_node(camera.device)
    if args.json:
        rows = []
        for d in devices:
            support = light.get(d.path)
            row = dataclasses.asdict(d)
            row["exposure"] = dataclasses.asdict(support.exposure) if support else None
            row["white_balance"] = dataclasses.asdict(support.white_balance) if support else None
            rows.append(row)
        ctx.stdout.write(json.dumps(rows, indent=2) + "\n")
        return EXIT_OK
    out = ctx.stdout
    if not devices:
        out.write(f"No video devices: {sysfs_root / 'class' / 'video4linux'} lists none. This "
                  "machine has no camera (or no camera driver is loaded).\n")
        return EXIT_OK
    out.write(format_table(devices, configured, light) + "\n")
    chosen = next((d for d in devices if Path(d.path).name == configured), None)
    if chosen is None:
        out.write(f"The configured camera (camera.device = {camera.device!r}) is not among "
                  "them.\n")
    elif chosen.is_virtual and not camera.allow_virtual:
        out.write(f"The configured camera {chosen.path} is virtual and will be refused "
                  "(camera.allow_virtual = false).\n")
    elif chosen.is_virtual:
        out.write(f"Warning: the configured camera {chosen.path} is virtual and accepted "
                  "because camera.allow_virtual = true.\n")
    if chosen is not None:
        support = light.get(chosen.path)
        unlocked = [] if support is None else [
            label for label, lock in (("exposure", support.exposure),
                                      ("white balance", support.white_balance))
            if not lock.lockable]
        if unlocked:
            out.write(f"The configured camera cannot lock its {' or '.join(unlocked)}: it may "
                      "re-expose or re-balance by itself while the light check flashes.\n")
    return EXIT_OK
