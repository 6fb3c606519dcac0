"""``kiosk match`` on careless input: a picture compared with itself or with a copy of itself
is refused, a live picture with several people says so, and a faceless reference recording is
named as the reference."""

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


def test_a_copy_of_the_picture_is_refused_as_the_picture_is(environ, photo, tmp_path, capsys):
    """A byte-identical copy under another name was compared: "MATCH: similarity 100.0"."""
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(photo.read_bytes())
    status = main(["match", str(photo), str(copy)], environ)
    err = capsys.readouterr().err
    assert status == 2
    assert err == (f"kiosk match: A and B are copies of one file ({photo} and {copy} hold the "
                   "same bytes); compare two different pictures (or two frame ranges of one "
                   "recording)\n")


def test_a_different_picture_of_the_same_size_is_compared(tmp_path):
    a, b, c = tmp_path / "a.avi", tmp_path / "b.avi", tmp_path / "c.avi"
    a.write_bytes(b"\0" * 70_000)
    b.write_bytes(b"\0" * 69_999 + b"\1")  # one size, a difference past the first chunks
    c.write_bytes(b"\0" * 70_000)
    check_distinct(str(a), None, str(b), None)
    check_distinct(str(a), (0, 32), str(c), (62, 87))  # two segments of one recording
    with pytest.raises(InputError, match="copies of one file"):
        check_distinct(str(a), (0, 32), str(c), (0, 32))


def test_two_folders_of_the_same_frames_are_copies(tmp_path):
    """The frames' bytes in the order played count, not the names they are stored under."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    for i in range(3):
        cv2.imwrite(str(a / f"{i}.png"), GREY + i)
        cv2.imwrite(str(b / f"frame_{i:03d}.png"), GREY + i)
    (b / "notes.txt").write_text("not a frame")
    with pytest.raises(InputError, match=r"copies of one folder of frames \(.* the same "
                                         r"images in the same order\)"):
        check_distinct(str(a), None, str(b), None)
    check_distinct(str(a), (0, 1), str(b), (1, 2))
    (b / "frame_003.png").write_bytes((a / "2.png").read_bytes())  # one frame more
    check_distinct(str(a), None, str(b), None)
    check_distinct(str(a / "0.png"), None, str(a), None)  # a photo and a folder


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


@pytest.mark.data
def test_a_copy_does_not_pass_at_a_staffed_desk(environ, shared_data, tmp_path, capsys):
    """The audit's case: a copy of obama.jpg matched at distance 0.000 and passed (exit 0)."""
    examples = shared_data / "ageitgey_face_recognition" / "examples"
    copy = tmp_path / "copy.jpg"
    copy.write_bytes((examples / "obama.jpg").read_bytes())
    staffed = {**environ, "KIOSK_KIOSK_MODE": "staffed"}
    status = main(["match", str(examples / "obama.jpg"), str(copy), "--matcher", "local"],
                  staffed)
    captured = capsys.readouterr()
    assert status == 2
    assert "A and B are copies of one file" in captured.err
    assert captured.out == ""
    main(["match", str(examples / "obama.jpg"), str(examples / "obama2.jpg"), "--matcher",
          "local"], staffed)
    assert capsys.readouterr().out.startswith("MATCH: similarity ")
