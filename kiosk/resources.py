"""Paths of the files the kiosk ships, and checks that they are the files we shipped."""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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
FUSION_MODEL_SHA256 = "f5592acade94c3ca1f9ab26e84446935e741c3f64e63d347ef9af9e056c3483e"
TEXTURE_REFERENCE = RESOURCES / "models" / "texture_reference.json"
TEXTURE_REFERENCE_SHA256 = "ae5f046b16318fff3e072eddbb82695ecd055576b9db8a5f4759f4bed3eb8b62"

_PINS = {FUSION_MODEL: "FUSION_MODEL_SHA256", TEXTURE_REFERENCE: "TEXTURE_REFERENCE_SHA256"}

# dlib's models, installed by face-recognition-models 0.3.0 (pinned in pyproject.toml; see
# THIRD_PARTY_NOTICES.md), not shipped here: the descriptor decides who matches whom, so a
# file replaced in the virtualenv is refused like a replaced landmarker. The hashes are the
# package's own (its RECORD).
DLIB_DESCRIPTOR_SHA256 = "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"
"""``dlib_face_recognition_resnet_model_v1.dat``, 22,466,066 bytes."""
DLIB_SHAPE_5_SHA256 = "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888"
"""``shape_predictor_5_face_landmarks.dat``, 9,150,489 bytes."""
DLIB_MMOD_SHA256 = "4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6"
"""``mmod_human_face_detector.dat``, 729,940 bytes."""
DLIB_REMEDY = ("reinstall face-recognition-models (.venv/bin/python -m pip install "
               "--force-reinstall face-recognition-models==0.3.0)")


def verified_bytes(path: Path, sha256: str, remedy: str = "reinstall the kiosk") -> bytes:
    """Read a shipped file and check it against its published hash.

    The bytes that were hashed are the bytes returned, so the file cannot change between the
    check and its use. ``remedy`` ends the error's message.

    Raises
    ------
    ResourceError
        The file is missing, unreadable, or its SHA-256 differs from ``sha256``.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ResourceError(f"model file {path} cannot be read ({exc.strerror}); "
                            f"{remedy}") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise ResourceError(f"model file {path} is corrupt or was replaced: SHA-256 {actual} "
                            f"differs from the shipped {sha256}; {remedy}")
    return data


@contextmanager
def verified_copy(path: Path, sha256: str, remedy: str = DLIB_REMEDY) -> Iterator[Path]:
    """A private copy of a checked file (see :func:`verified_bytes`), for loaders that only
    take a path (dlib's): the bytes checked are the bytes loaded. Removed on leaving.

    Raises
    ------
    ResourceError
        As :func:`verified_bytes`.
    """
    data = verified_bytes(path, sha256, remedy)
    with tempfile.TemporaryDirectory(prefix="kiosk-model-") as folder:  # mode 0700
        copy = Path(folder) / path.name
        copy.write_bytes(data)
        yield copy


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
