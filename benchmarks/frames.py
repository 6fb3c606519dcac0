"""Frames for the benchmarks: a clip decoded and letterboxed into 640x480 BGR."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def frames_640x480(path: Path, limit: int) -> list[np.ndarray]:
    """Decode up to ``limit`` frames of ``path`` and letterbox each into (480, 640, 3) uint8.

    Exits with a message when nothing decodes (these are scripts, not library code).
    """
    cap = cv2.VideoCapture(str(path))
    out = []
    while len(out) < limit:
        ok, image = cap.read()
        if not ok:
            break
        h, w = image.shape[:2]
        scale = min(640 / w, 480 / h)
        resized = cv2.resize(image, (int(w * scale), int(h * scale)))
        canvas = np.zeros((480, 640, 3), np.uint8)
        y, x = (480 - resized.shape[0]) // 2, (640 - resized.shape[1]) // 2
        canvas[y:y + resized.shape[0], x:x + resized.shape[1]] = resized
        out.append(canvas)
    cap.release()
    if not out:
        sys.exit(f"no frames decoded from {path}")
    return out
