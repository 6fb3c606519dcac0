"""Paths of the files the kiosk ships, and checks that they are the files we shipped."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from kiosk.errors import ResourceError

RESOURCES = Path(__file__).resolve().parent.parent / "resources"

# Google MediaPipe Face Landmarker, float16 v1 (see THIRD_PARTY_NOTICES.md).
FACE_LANDMARKER = RESOURCES / "models" / "face_landmarker.task"
FACE_LANDMARKER_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"

# The project's own trained files (scripts/train_fusion.py, scripts/train_texture.py): they
# decide what passes as much as the code does, so a file edited in place (weights set to 0
# made a replay score 100) is refused like a replaced landmarker. The training scripts write
# these pins with the files (see :func:`pin`).
FUSION_MODEL = RESOURCES / "models" / "fusion.json"
FUSION_MODEL_SHA256 = "75161056f73d08539e30ff93735f56236fcd961955d0ccc79c4f1f01f973f174"
TEXTURE_REFERENCE = RESOURCES / "models" / "texture_reference.json"
TEXTURE_REFERENCE_SHA256 = "ae5f046b16318fff3e072eddbb82695ecd055576b9db8a5f4759f4bed3eb8b62"

_PINS = {FUSION_MODEL: "FUSION_MODEL_SHA256", TEXTURE_REFERENCE: "TEXTURE_REFERENCE_SHA256"}


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


def shipped_text(path: Path, shipped: Path, sha256: str) -> str:
    """The text of a trained file: checked against its pin when ``path`` is the shipped
    file, read as it is when it is another (a lab's candidate model).

    Raises
    ------
    ResourceError
        The shipped file is missing, unreadable, changed, or not UTF-8.
    OSError, UnicodeDecodeError
        Another file cannot be read (the caller words it).
    """
    if Path(path).resolve() != shipped.resolve():
        return Path(path).read_text(encoding="utf-8")
    try:
        return verified_bytes(shipped, sha256).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ResourceError(f"model file {shipped} is not UTF-8 ({exc})") from None


def pin(path: Path, source: Path = Path(__file__)) -> str:
    """Record ``path``'s SHA-256 as its pin in this module's source; return the hash.

    For the training scripts, right after they write a shipped file.
    """
    name = _PINS[path]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    text = source.read_text(encoding="utf-8")
    new, count = re.subn(rf'^{name} = "[0-9a-f]{{64}}"$', f'{name} = "{digest}"', text,
                         flags=re.MULTILINE)
    if count != 1:
        raise ResourceError(f"{source} has no single {name} line to pin {path.name} in")
    source.write_text(new, encoding="utf-8")
    globals()[name] = digest  # this process loads the file it has just written
    return digest
