"""Camera layer costs: the per-frame health check (frozen frames), decoding, the slot.

Usage: python benchmarks/camera.py [VIDEO] [--frames N]

Figures, per 640x480 BGR frame on this machine:

- ``observe``: HealthMonitor.observe on live-like frames (sensor noise: the strided sample
  differs, the usual case), and on frozen frames (identical copies: the sample matches and the
  whole image is compared);
- the same question answered other ways, for comparison: a whole-frame ``np.array_equal``
  and a CRC-32 of the whole frame;
- decoding VIDEO unpaced through VideoFileSource (default: d7.mp4 from ../shared/data, or a
  synthetic 640x480 clip when it is absent);
- one ``put`` + ``get`` through the LatestFrameSlot.

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from kiosk.camera.health import HealthMonitor
from kiosk.camera.slot import LatestFrameSlot
from kiosk.camera.video import VideoFileSource
from kiosk.model import Frame

DEFAULT = (Path(__file__).resolve().parent.parent.parent / "shared" / "data"
           / "KwaiVGI_LivePortrait" / "assets" / "examples" / "driving" / "d7.mp4")


def timed_us(fn: Callable[[int], object], n: int) -> list[float]:
    """Microseconds per call of ``fn(i)`` for i in range(n)."""
    out = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - start) * 1e6)
    return out


def stats(values: list[float]) -> tuple[float, float]:
    return float(np.percentile(values, 50)), float(np.percentile(values, 90))


def live_frames(n: int) -> list[np.ndarray]:
    """A static scene with sensor noise (sigma 2 grey levels), 640x480."""
    rng = np.random.default_rng(0)
    base = rng.integers(40, 200, size=(480, 640, 3)).astype(np.float32)
    return [np.clip(base + rng.normal(0, 2, base.shape), 0, 255).astype(np.uint8)
            for _ in range(n)]


def synthetic_clip(folder: Path, n: int) -> Path:
    path = folder / "synthetic.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (640, 480))
    for image in live_frames(n):
        writer.write(image)
    writer.release()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--frames", type=int, default=200)
    args = parser.parse_args()
    n = args.frames

    images = live_frames(n)
    monitor = HealthMonitor()
    frames = [Frame(image=im, seq=i, t=i / 30, media_t=i / 30) for i, im in enumerate(images)]
    monitor.observe(frames[0])
    live = timed_us(lambda i: monitor.observe(frames[i + 1]), n - 1)
    assert monitor.snapshot().frozen == 0

    still = images[0]
    copies = [Frame(image=still.copy(), seq=i, t=i / 30, media_t=i / 30) for i in range(n)]
    frozen_monitor = HealthMonitor()
    frozen = timed_us(lambda i: frozen_monitor.observe(copies[i]), n)
    assert frozen_monitor.snapshot().frozen == n - 1

    full_equal = timed_us(lambda i: np.array_equal(images[i], images[i - 1]), n)
    crc = timed_us(lambda i: zlib.crc32(images[i]), n)

    with tempfile.TemporaryDirectory() as tmp:
        video = args.video if args.video.is_file() else synthetic_clip(Path(tmp), n)
        with VideoFileSource(video) as source:
            shape = None
            decode = []
            while True:
                start = time.perf_counter()
                frame = source.read()
                if frame is None:
                    break
                decode.append((time.perf_counter() - start) * 1e3)
                shape = frame.image.shape

    slot = LatestFrameSlot()
    slot_us = timed_us(lambda i: (slot.put(frames[i]), slot.get(timeout=0)), n)

    rows = [
        ("observe, live frame (sample differs)", stats(live), "us"),
        ("observe, frozen frame (whole compare)", stats(frozen), "us"),
        ("np.array_equal whole frame", stats(full_equal), "us"),
        ("zlib.crc32 whole frame", stats(crc), "us"),
        (f"decode {video.name} {shape}", stats(decode), "ms"),
        ("slot put + get", stats(slot_us), "us"),
    ]
    print(f"{'measure':45s} {'p50':>9s} {'p90':>9s}")
    for name, (p50, p90), unit in rows:
        print(f"{name:45s} {p50:8.1f}{unit} {p90:8.1f}{unit}")
    print(json.dumps({
        "frames": n,
        "observe_us_p50": round(stats(live)[0], 1),
        "observe_us_p90": round(stats(live)[1], 1),
        "observe_frozen_us_p50": round(stats(frozen)[0], 1),
        "observe_frozen_us_p90": round(stats(frozen)[1], 1),
        "array_equal_us_p50": round(stats(full_equal)[0], 1),
        "crc32_us_p50": round(stats(crc)[0], 1),
        "decode_ms_p50": round(stats(decode)[0], 3),
        "decode_video": video.name,
        "slot_us_p50": round(stats(slot_us)[0], 1),
    }))


if __name__ == "__main__":
    main()
