"""``kiosk match`` on careless input: a picture compared with itself is refused, a live
picture with several people says so, and a faceless reference recording is named as the
reference."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.cli import main
from kiosk.cli.match import check_distinct, describe
from kiosk.cloud.results import MatchResult
from kiosk.errors import InputError
from kiosk.reasons import Reason

GREY = np.full((240, 320, 3), 128, np.uint8)


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "photo.jpg"
    cv2.imwrite(str(path), GREY)
    return path


def test_the_same_file_twice_is_refused_however_it_is_spelt(environ, photo, tmp_path, capsys,
                                                            monkeypatch):
    monkeypatch.chdir(tmp_path)
    link = tmp_path / "link.jpg"
    link.symlink_to(photo)
    for b in (photo, link, Path("..") / photo.parent.name / photo.name):
        status = main(["match", str(photo), str(b)], environ)
        err = capsys.readouterr().err
        assert status == 2
        assert err == (f"kiosk match: A and B are the same file ({b}); compare two different "
                       "pictures (or two frame ranges of one recording)\n")


def test_two_segments_of_one_recording_may_be_compared(tmp_path):
    clip = tmp_path / "clip.avi"
    clip.write_bytes(b"")
    check_distinct(str(clip), (0, 32), str(clip), (62, 87))
    check_distinct(str(clip), None, str(tmp_path / "absent.avi"), None)  # reported on reading
    with pytest.raises(InputError, match="same file"):
        check_distinct(str(clip), (0, 32), str(clip), (0, 32))


def test_several_live_faces_are_not_described_as_a_low_similarity():
    result = MatchResult(matched=False, similarity=None, threshold=95.0, matcher="local",
                         offline=True, live_faces=2,
                         reasons=(Reason.MATCH_SEVERAL_FACES_LIVE, Reason.MATCH_OFFLINE))
    first = describe(result, "fail", result.reasons).splitlines()[0]
    assert first == "NO MATCH: 2 faces in the live picture, not one (local matcher, offline)"


def test_a_faceless_reference_recording_is_named_as_the_reference(environ, tmp_path, photo,
                                                                  capsys):
    blank = tmp_path / "blank.avi"
    writer = cv2.VideoWriter(str(blank), cv2.VideoWriter_fourcc(*"MJPG"), 15, (320, 240))
    for _ in range(6):
        writer.write(GREY)
    writer.release()
    status = main(["match", str(blank), str(photo)], environ)
    err = capsys.readouterr().err
    assert status == 2
    assert err == ("kiosk match: the reference (A): no frame of blank.avi shows one sharp, "
                   "frontal face with open eyes (6 frames examined)\n")


@pytest.mark.parametrize("name", ["id.pdf", "notes.txt", "scan"])
def test_a_document_is_neither_a_photo_nor_a_recording(environ, photo, tmp_path, capsys, name):
    """FFmpeg decodes the JPEG inside a PDF: read as a recording, a PDF ID "matched" at 99.3."""
    document = tmp_path / name
    _, jpeg = cv2.imencode(".jpg", GREY)
    document.write_bytes(b"%PDF-1.4\n" + jpeg.tobytes())
    for argv in (["match", str(document), str(photo)], ["match", str(photo), str(document)]):
        status = main(argv, environ)
        err = capsys.readouterr().err
        assert status == 2
        assert err.startswith(f"kiosk match: {document} is neither a photo (JPEG or PNG) nor a "
                              "recording (.3gp, .avi")


@pytest.mark.data
def test_a_sideways_reference_is_named_as_such(environ, shared_data, tmp_path, capsys):
    """As `kiosk verify --id-photo` says it; `kiosk match` said "no face was found"."""
    examples = shared_data / "ageitgey_face_recognition" / "examples"
    turned = tmp_path / "turned.jpg"
    cv2.imwrite(str(turned), np.rot90(cv2.imread(str(examples / "obama.jpg"))).copy())
    status = main(["match", str(turned), str(examples / "obama2.jpg"), "--matcher", "local"],
                  environ)
    err = capsys.readouterr().err
    assert status == 2
    assert "the reference (A) turned.jpg lies sideways: rescan it upright or rotate the file" \
        in err
