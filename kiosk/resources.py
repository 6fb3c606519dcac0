"""Paths of the files the kiosk ships, and checks that they are the files we shipped."""

from __future__ import annotations

import hashlib
from pathlib import Path

from kiosk.errors import ResourceError

RESOURCES = Path(__file__).resolve().parent.parent / "resources"

# Google MediaPipe Face Landmarker, float16 v1 (see THIRD_PARTY_NOTICES.md).
FACE_LANDMARKER = RESOURCES / "models" / "face_landmarker.task"
FACE_LANDMARKER_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"


def verified_bytes(path: Path, sha256: str) -> bytes:
    """Read a shipped file and check it against its published hash.

    The bytes that were hashed are the bytes returned, so the file cannot change between the
    check and its use.

    Raises
    ------
    ResourceError
        The file is missing, unreadable, or its SHA-256 differs from ``sha256``.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ResourceError(f"model file {path} cannot be read ({exc.strerror}); reinstall "
                            "the kiosk") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise ResourceError(f"model file {path} is corrupt or was replaced: SHA-256 {actual} "
                            f"differs from the shipped {sha256}; reinstall the kiosk")
    return data
