"""The staffed desk's identity step: the ID photo from a file, a scanner folder or the camera,
and the check of the badge or ID number typed with it.

No Qt here; the kiosk runs these in its worker thread (decoding a large scan and finding the
face takes a few hundred milliseconds, too long for the UI thread). Every failure is an
:class:`IdPhotoError` whose message is written for the member of staff at the desk.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kiosk.audit import normalize_subject_number
from kiosk.camera import IMAGE_EXTENSIONS
from kiosk.cloud.detect import HogFaceDetector, single_face
from kiosk.cloud.errors import InvalidImage, NoFaceInImage, SeveralFaces
from kiosk.cloud.face_quality import photo_gate
from kiosk.cloud.images import load_photo
from kiosk.cloud.results import FaceBox
from kiosk.errors import InputError
from kiosk.reasons import Reason, describe

log = logging.getLogger(__name__)

# A scan modified more recently than this may still be being written by the scanner.
SCAN_SETTLE_S = 0.5
# Margin around the card's face, in face widths, kept in the reference crop so the matcher's
# own detector finds the face again.
CARD_MARGIN = 0.8
SCAN_MAX_AGE_S = 600.0
"""The oldest scan "Use scan" takes: staff scan the ID and press it within a minute or two,
so a newer scan than this is the person at the desk's, and an older one is someone else's
(the last person's of yesterday, after a restart). Ten minutes leaves room for a desk that
scans at the counter before the person reaches the kiosk."""

FILE, SCAN, CAMERA = "file", "scan", "camera"


def number_problem(number: str) -> str:
    """What is wrong with a typed badge or ID number, for staff; empty when it can be used
    (an empty number too: the number is optional).

    Parameters
    ----------
    number : str
        The number as typed, surrounding spaces already stripped.
    """
    if not number:
        return ""
    try:
        normalize_subject_number(number)
    except ValueError as exc:
        return f"Check the badge or ID number: {exc}."
    return ""


class IdPhotoError(InputError):
    """The ID photo cannot be used; ``str(error)`` tells staff why and what to do.

    ``reasons`` holds the quality gate's codes (``ID_PHOTO_*``) when the photo was refused
    for quality; it is empty for an unreadable file or a wrong number of faces.
    """

    def __init__(self, message: str, reasons: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.reasons = tuple(reasons)


def check_photo_quality(image: np.ndarray, box: FaceBox, detector: HogFaceDetector,
                        what: str) -> None:
    """Refuse a reference photo whose face the quality gate would not compare.

    Uses the detector's 5-point aligner (:attr:`HogFaceDetector.aligner`); a detector without
    one (a stand-in in tests) skips the check. The matcher applies the same gate again.

    Raises
    ------
    IdPhotoError
        Too small, blurred, dark or turned; the message names each problem for staff and
        ``reasons`` holds the codes.
    """
    aligner = getattr(detector, "aligner", None)
    if aligner is None:
        return
    reasons, quality = photo_gate(image, box, aligner)
    if reasons:
        log.info("ID photo refused by the quality gate: %s (eye distance %.0f px)",
                 ", ".join(reasons), quality.interocular)
        problems = " ".join(describe(code).staff for code in reasons)
        raise IdPhotoError(f"{what} cannot be compared reliably: {problems}", reasons)


@dataclass(frozen=True)
class IdPhoto:
    """A checked reference photo.

    Attributes
    ----------
    image : ndarray (H, W, 3) uint8
        BGR pixels, upright; the matcher's reference.
    box : FaceBox
        The one face, in ``image`` pixels.
    origin : str
        ``file``, ``scan`` or ``camera``.
    name : str
        File name (or ``camera``), for the staff's screen.
    scan : tuple of (str, int) or None
        For a scan: its path and modification time (ns), which a check that used it spends
        (:func:`newest_image` refuses it afterwards).
    """

    image: np.ndarray
    box: FaceBox
    origin: str
    name: str
    scan: tuple[str, int] | None = None


def _one_face(image: np.ndarray, detector: HogFaceDetector, what: str,
              ratio: float | None = None) -> FaceBox:
    boxes = detector.detect(image)
    try:
        if ratio is None:
            return single_face(boxes, what)
        return single_face(boxes, what, ratio=ratio)
    except (NoFaceInImage, SeveralFaces) as exc:
        raise IdPhotoError(str(exc)) from None


def load_id_photo(path: str | Path, detector: HogFaceDetector, *, origin: str = FILE) -> IdPhoto:
    """Load an ID photo file and check it shows exactly one face.

    Raises
    ------
    IdPhotoError
        Not a readable JPEG or PNG, no face, several faces, or a face the quality gate would
        not compare (too small, blurred, dark or turned; ``reasons`` says which).
    """
    path = Path(path)
    try:
        image = load_photo(path)
    except InvalidImage as exc:
        raise IdPhotoError(str(exc)) from None
    what = f"the ID photo {path.name}"
    check_upright(image, detector, what)
    box = _one_face(image, detector, what)
    check_photo_quality(image, box, detector, what)
    return IdPhoto(image, box, origin, path.name)


def check_upright(image: np.ndarray, detector: HogFaceDetector, what: str) -> None:
    """Refuse a scan that lies sideways or upside down (EXIF orientation already applied).

    Before, such a photo passed the desk (the 5-point landmarks of an upside-down face look
    upright) and the comparison then failed the genuine person as a mismatch, counted toward
    their lockout. A detector without the check (a stand-in in tests) skips it.

    Raises
    ------
    IdPhotoError
        ``ID_PHOTO_ROTATED``.
    """
    turns = getattr(detector, "upright_turns", None)
    if turns is None:
        return
    k = turns(image)
    if k:
        how = "upside down" if k == 2 else "sideways"
        raise IdPhotoError(f"{what} lies {how}: rescan it upright or rotate the file",
                           (Reason.ID_PHOTO_ROTATED,))


def newest_image(folder: str | Path, *, clock: Callable[[], float] = time.time,
                 settle_s: float = SCAN_SETTLE_S, max_age_s: float = SCAN_MAX_AGE_S,
                 spent: Collection[tuple[str, int]] = ()) -> tuple[Path, int]:
    """The most recently modified image file of a scanner drop folder, and its modification
    time in nanoseconds.

    A scan is someone's ID: the newest one is taken only while it can be the person's at the
    desk, never one a finished check used (``spent``) nor one older than ``max_age_s``, so
    "Use scan" pressed before this person's ID was scanned does not show the last person's.

    Raises
    ------
    IdPhotoError
        The folder is missing or holds no image, or the newest is still being written, was
        used for an earlier check, or is older than ``max_age_s``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise IdPhotoError(f"the scanner folder {folder} does not exist")
    try:
        candidates = [p for p in folder.iterdir()
                      if p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")
                      and p.is_file()]
        newest = max(candidates, key=lambda p: p.stat().st_mtime_ns, default=None)
        mtime_ns = newest.stat().st_mtime_ns if newest is not None else None
    except OSError as exc:
        raise IdPhotoError(f"the scanner folder {folder} cannot be read ({exc.strerror})") \
            from None
    if newest is None or mtime_ns is None:
        raise IdPhotoError(f"no scanned image in {folder} yet; scan the ID and try again")
    age = clock() - mtime_ns / 1e9
    if age < settle_s:
        raise IdPhotoError(f"{newest.name} is still being written; try again in a moment")
    if (str(newest), mtime_ns) in spent:
        raise IdPhotoError(f"the newest scan, {newest.name}, was used for an earlier check: "
                           "scan this person's ID and try again")
    if age > max_age_s:
        raise IdPhotoError(f"the newest scan, {newest.name}, is {_age_text(age)} old: scan "
                           "this person's ID and try again")
    return newest, mtime_ns


def _age_text(seconds: float) -> str:
    """``12 min``, ``3 h``, ``2 days``: an age in its largest whole unit."""
    for unit, size in (("day", 86400), ("h", 3600)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if unit == 'day' and n != 1 else ''}"
    return f"{int(seconds // 60)} min"


def load_newest_scan(folder: str | Path, detector: HogFaceDetector, *,
                     clock: Callable[[], float] = time.time,
                     spent: Collection[tuple[str, int]] = ()) -> IdPhoto:
    """:func:`load_id_photo` on :func:`newest_image` of ``folder``, marked with the scan it
    came from."""
    path, mtime_ns = newest_image(folder, clock=clock, spent=spent)
    photo = load_id_photo(path, detector, origin=SCAN)
    return dataclasses.replace(photo, scan=(str(path), mtime_ns))


def capture_id_card(image: np.ndarray, detector: HogFaceDetector) -> IdPhoto:
    """The ID card's photo from a camera frame, cropped around its face.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8
        The unmirrored camera frame (BGR) with the card held up to the camera.
    detector : HogFaceDetector
        One that upsamples camera frames (small card faces); see :func:`card_detector`.

    Raises
    ------
    IdPhotoError
        No face, or more than one face of any size: the person's own face must not be in
        view, or it could become the reference and the comparison would prove nothing.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be (H, W, 3) uint8, got {image.shape} {image.dtype}")
    try:
        box = _one_face(image, detector, "the camera picture of the ID card", ratio=0.0)
    except IdPhotoError as exc:
        # A card held sideways or upside down shows no face to the detector either.
        raise IdPhotoError(f"{exc}. Hold only the card up to the camera, upright, with "
                           "nobody else in view") from None
    h, w = image.shape[:2]
    margin = CARD_MARGIN * box.width
    x0, y0 = int(max(box.x0 - margin, 0)), int(max(box.y0 - margin, 0))
    x1, y1 = int(min(box.x1 + margin, w)), int(min(box.y1 + margin, h))
    crop = np.ascontiguousarray(image[y0:y1, x0:x1])
    moved = FaceBox(box.x0 - x0, box.y0 - y0, box.x1 - x0, box.y1 - y0)
    check_photo_quality(crop, moved, detector, "the camera picture of the ID card")
    return IdPhoto(crop, moved, CAMERA, CAMERA)


def card_detector() -> HogFaceDetector:
    """A HOG detector that upsamples camera frames, so a card's small face is found."""
    return HogFaceDetector(max_side=640, upsample_below=1000)
