"""``kiosk cameras``: list the video devices and flag virtual cameras."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from kiosk.camera.device import parse_device
from kiosk.camera.v4l2 import SYSFS_ROOT, VideoDevice, list_devices, node_of, query_capability
from kiosk.errors import CameraError

EXIT_OK = 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "cameras", help="list video devices; flag virtual cameras",
        description="List the video devices Linux sees (/sys/class/video4linux) with their "
                    "names and drivers, and flag virtual cameras (v4l2loopback, OBS, ...), "
                    "which the kiosk refuses unless camera.allow_virtual is true.")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list of devices instead of a table")
    # sysfs_root and querycap are not options: tests replace them to use a fake tree.
    parser.set_defaults(func=run, sysfs_root=SYSFS_ROOT, querycap=query_capability)


def _configured_node(device: str) -> str | None:
    try:
        return node_of(parse_device(device))
    except CameraError:
        return None


def _capture_text(device: VideoDevice) -> str:
    return {True: "yes", False: "no", None: "?"}[device.is_capture]


def format_table(devices: list[VideoDevice], configured: str | None) -> str:
    """The devices as an aligned text table; ``*`` marks the configured camera."""
    header = ("", "DEVICE", "NAME", "DRIVER", "BUS", "CAPTURE", "VIRTUAL")
    rows = [header]
    for d in devices:
        mark = "*" if configured == Path(d.path).name else ""
        rows.append((mark, d.path, d.name or "?", d.driver or "?", d.bus or "-",
                     _capture_text(d), "yes" if d.is_virtual else "no"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
             for r in rows]
    if any(r[0] == "*" for r in rows[1:]):
        lines.append("* = the configured camera (camera.device); CAPTURE ? = node not queried "
                     "(no access)")
    for d in devices:
        if d.is_virtual:
            lines.append(f"{d.path} is virtual: {d.why_virtual}")
    return "\n".join(lines)


def run(args: argparse.Namespace, ctx: Any) -> int:
    sysfs_root = Path(args.sysfs_root)
    devices = list_devices(sysfs_root, querycap=args.querycap)
    camera = ctx.settings.camera
    configured = _configured_node(camera.device)
    if args.json:
        ctx.stdout.write(json.dumps([dataclasses.asdict(d) for d in devices], indent=2) + "\n")
        return EXIT_OK
    out = ctx.stdout
    if not devices:
        out.write(f"No video devices: {sysfs_root / 'class' / 'video4linux'} lists none. This "
                  "machine has no camera (or no camera driver is loaded).\n")
        return EXIT_OK
    out.write(format_table(devices, configured) + "\n")
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
    return EXIT_OK
