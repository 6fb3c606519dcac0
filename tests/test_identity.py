"""The staffed desk's ID photo: files, the scanner folder, the card held to the camera."""

from __future__ import annotations

import os
import time

import cv2
import numpy as np
import pytest

from kiosk.cloud.detect import HogFaceDetector
from kiosk.identity import (
    CAMERA,
    SCAN,
    SCAN_MAX_AGE_S,
    IdPhotoError,
    capture_id_card,
    card_detector,
    load_id_photo,
    load_newest_scan,
    newest_image,
)
from kiosk.reasons import Reason

EXAMPLES = "ageitgey_face_recognition/examples"


@pytest.fixture(scope="module")
def detector():
    return HogFaceDetector()


def face(shared_data, name, height):
    image = cv2.imread(str(shared_data / EXAMPLES / name))
    scale = height / image.shape[0]
    return cv2.resize(image, (int(image.shape[1] * scale), height), interpolation=cv2.INTER_AREA)


def test_a_real_id_photo_loads_with_its_one_face(shared_data, detector):
    photo = load_id_photo(shared_data / EXAMPLES / "obama.jpg", detector)
    assert photo.image.shape == (1137, 910, 3) and photo.origin == "file"
    assert photo.name == "obama.jpg"
    cx, cy = photo.box.center
    assert 200 < cx < 700 and 150 < cy < 700 and photo.box.width > 150


def test_a_file_that_is_not_an_image_is_explained(tmp_path, detector):
    path = tmp_path / "notes.jpg"
    path.write_text("not a picture")
    with pytest.raises(IdPhotoError, match="not an image"):
        load_id_photo(path, detector)


def test_a_photo_without_a_face_is_explained(tmp_path, detector):
    path = tmp_path / "wall.png"
    cv2.imwrite(str(path), np.random.default_rng(0).integers(0, 255, (300, 300, 3), np.uint8))
    with pytest.raises(IdPhotoError, match="no face was found in the ID photo wall.png"):
        load_id_photo(path, detector)


def test_a_photo_with_two_faces_is_explained(shared_data, tmp_path, detector):
    both = np.hstack([face(shared_data, "obama.jpg", 500), face(shared_data, "obama2.jpg", 500)])
    path = tmp_path / "two.png"
    cv2.imwrite(str(path), both)
    with pytest.raises(IdPhotoError, match="shows 2 faces"):
        load_id_photo(path, detector)


def touch(path, mtime):
    path.write_bytes(b"x")
    os.utime(path, (mtime, mtime))


def test_the_newest_scan_wins(tmp_path):
    touch(tmp_path / "a.jpg", 1000)
    touch(tmp_path / "b.png", 3000)
    touch(tmp_path / ".hidden.jpg", 5000)
    touch(tmp_path / "notes.txt", 6000)
    (tmp_path / "folder.jpg").mkdir()
    path, mtime_ns = newest_image(tmp_path, clock=lambda: 3100.0)
    assert path.name == "b.png" and mtime_ns == 3000 * 10**9


def test_a_scan_still_being_written_waits(tmp_path):
    touch(tmp_path / "a.jpg", 1000)
    with pytest.raises(IdPhotoError, match="still being written"):
        newest_image(tmp_path, clock=lambda: 1000.2)


def test_an_empty_or_missing_scanner_folder_is_explained(tmp_path):
    with pytest.raises(IdPhotoError, match="no scanned image"):
        newest_image(tmp_path)
    with pytest.raises(IdPhotoError, match="does not exist"):
        newest_image(tmp_path / "missing")


def test_a_scan_a_check_used_or_an_old_one_is_not_taken(tmp_path):
    """"Use scan" pressed before this person's ID was scanned took the last person's, and
    showed their ID photo to whoever stood at the desk."""
    touch(tmp_path / "ana.jpg", 1000)
    spent = {(str(tmp_path / "ana.jpg"), 1000 * 10**9)}
    with pytest.raises(IdPhotoError, match="the newest scan, ana.jpg, was used for an earlier "
                                           "check: scan this person's ID and try again"):
        newest_image(tmp_path, clock=lambda: 1030.0, spent=spent)
    touch(tmp_path / "ben.jpg", 1040)  # the next person's scan
    assert newest_image(tmp_path, clock=lambda: 1050.0, spent=spent)[0].name == "ben.jpg"
    # A scan rewritten under the same name is a new scan.
    touch(tmp_path / "ana.jpg", 1060)
    assert newest_image(tmp_path, clock=lambda: 1070.0, spent=spent)[0].name == "ana.jpg"
    for now, said in [(1060 + SCAN_MAX_AGE_S + 1, "is 10 min old"),
                      (1060 + 3 * 3600, "is 3 h old"), (1060 + 2 * 86400, "is 2 days old")]:
        with pytest.raises(IdPhotoError, match=f"the newest scan, ana.jpg, {said}: scan this "
                                               "person's ID"):
            newest_image(tmp_path, clock=lambda now=now: now, spent=spent)


def test_the_newest_scan_is_loaded_and_checked(shared_data, tmp_path, detector):
    cv2.imwrite(str(tmp_path / "scan1.jpg"), face(shared_data, "obama2.jpg", 600))
    photo = load_newest_scan(tmp_path, detector, clock=lambda: time.time() + 1)
    assert photo.origin == SCAN and photo.name == "scan1.jpg"
    assert photo.scan == (str(tmp_path / "scan1.jpg"), (tmp_path / "scan1.jpg").stat().st_mtime_ns)


def card_frame(shared_data, *, with_person: bool, height: int = 220) -> np.ndarray:
    """A 640x480 camera frame with an ID-card photo ``height`` pixels high (and maybe the
    person); at 220 px the card's eyes are about 20 px apart, at 130 px about 12."""
    frame = np.full((480, 640, 3), 90, np.uint8)
    card = face(shared_data, "obama.jpg", height)
    frame[470 - height:470, 420:420 + card.shape[1]] = card
    if with_person:
        person = face(shared_data, "biden.jpg", 420)
        frame[30:450, 40:40 + person.shape[1]] = person
    return frame


def test_the_card_photo_is_cropped_from_the_camera_frame(shared_data):
    photo = capture_id_card(card_frame(shared_data, with_person=False), card_detector())
    assert photo.origin == CAMERA
    h, w = photo.image.shape[:2]
    assert 60 < w <= 320 and 60 < h <= 320
    assert 0 <= photo.box.x0 < photo.box.x1 <= w and 0 <= photo.box.y0 < photo.box.y1 <= h


def test_a_card_too_far_from_the_camera_is_refused_by_the_quality_gate(shared_data):
    with pytest.raises(IdPhotoError, match="too small to compare") as info:
        capture_id_card(card_frame(shared_data, with_person=False, height=130), card_detector())
    assert info.value.reasons == (Reason.ID_PHOTO_TOO_SMALL,)


def test_a_blurred_or_dark_id_photo_is_refused_with_its_reasons(shared_data, tmp_path, detector):
    image = cv2.imread(str(shared_data / EXAMPLES / "obama.jpg"))
    blurred = tmp_path / "blurred.png"
    cv2.imwrite(str(blurred), cv2.GaussianBlur(image, (0, 0), 6))  # 6% of the eye distance
    with pytest.raises(IdPhotoError, match="too blurred to compare") as info:
        load_id_photo(blurred, detector)
    assert info.value.reasons == (Reason.ID_PHOTO_BLURRED,)
    dark = tmp_path / "dark.png"
    cv2.imwrite(str(dark), (image * 0.12).astype(np.uint8))
    with pytest.raises(IdPhotoError, match="too dark to compare") as info:
        load_id_photo(dark, detector)
    assert Reason.ID_PHOTO_DARK in info.value.reasons


def test_the_person_in_view_makes_the_card_capture_fail(shared_data):
    # Otherwise the live face could become the reference and the match would prove nothing.
    with pytest.raises(IdPhotoError, match="Hold only the card up to the camera"):
        capture_id_card(card_frame(shared_data, with_person=True), card_detector())


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_a_card_held_sideways_or_upside_down_is_never_the_reference(shared_data, turns):
    """Unlike a scan (refused as rotated), a turned card shows the camera no face: the desk
    asks for it upright rather than comparing the person with a face no one could match."""
    frame = np.full((480, 640, 3), 90, np.uint8)
    card = np.ascontiguousarray(np.rot90(face(shared_data, "obama.jpg", 220), turns))
    frame[470 - card.shape[0]:470, 400:400 + card.shape[1]] = card
    with pytest.raises(IdPhotoError, match="no face was found .* Hold only the card up to the "
                                           "camera, upright"):
        capture_id_card(frame, card_detector())


def test_capture_checks_the_frame():
    with pytest.raises(ValueError, match="uint8"):
        capture_id_card(np.zeros((10, 10), np.uint8), card_detector())


@pytest.mark.parametrize(("turns", "says"), [(2, "upside down"), (1, "sideways"),
                                             (3, "sideways")])
def test_a_scan_lying_sideways_or_upside_down_is_refused(shared_data, tmp_path, detector,
                                                         turns, says):
    """Before: an upside-down scan passed the desk (its 5-point landmarks look upright) and
    the comparison failed the genuine person as a mismatch, counted toward their lockout."""
    image = cv2.imread(str(shared_data / EXAMPLES / "obama.jpg"))
    turned = tmp_path / "turned.png"
    cv2.imwrite(str(turned), np.rot90(image, turns))
    with pytest.raises(IdPhotoError, match=f"lies {says}: rescan it upright") as info:
        load_id_photo(turned, detector)
    assert info.value.reasons == (Reason.ID_PHOTO_ROTATED,)
    assert detector.upright_turns(np.ascontiguousarray(np.rot90(image, turns))) == 4 - turns


def test_every_upright_photo_of_the_data_set_stays_upright(shared_data, detector):
    import csv

    from kiosk.cloud.images import load_photo

    with (shared_data / "pairs.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    photos = sorted({p for r in rows for p in (r["a"], r["b"])
                     if p.lower().endswith((".jpg", ".jpeg", ".png"))})
    assert len(photos) >= 15
    turned = [p for p in photos if detector.upright_turns(load_photo(shared_data / p))]
    assert turned == []
