"""``kiosk match``: a live side without a usable face is an outcome (exit 1) for a photo and
for a recording alike; a file that cannot be read stays an error (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.cli import main
from tests.cloud.conftest import OBAMA

GREY = np.full((240, 320, 3), 128, np.uint8)


@pytest.fixture
def blank_video(tmp_path: Path) -> Path:
    path = tmp_path / "blank.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15, (320, 240))
    for _ in range(12):
        writer.write(GREY)
    writer.release()
    return path


@pytest.fixture
def blank_photo(tmp_path: Path) -> Path:
    path = tmp_path / "blank.jpg"
    cv2.imwrite(str(path), GREY)
    return path


def match(capsys, environ, *argv: str) -> tuple[int, str, str]:
    status = main(["match", *argv], environ)
    out, err = capsys.readouterr()
    return status, out, err


def test_a_faceless_photo_and_a_faceless_recording_both_fail_with_exit_1(
        shared_data, environ, blank_photo, blank_video, capsys):
    reference = str(shared_data / OBAMA)
    status, out, _ = match(capsys, environ, "--json", reference, str(blank_photo))
    assert status == 1 and json.loads(out)["outcome_reasons"][0] == "MATCH_NO_FACE_LIVE"
    status, out, err = match(capsys, environ, "--json", reference, str(blank_video))
    payload = json.loads(out)
    assert status == 1 and err == ""
    assert payload["outcome"] == "fail" and payload["outcome_reasons"] == ["NO_USABLE_FRAME"]
    assert payload["matched"] is False and payload["live_faces"] == 0 and payload["frames"] == 0
    assert payload["note"] == ("no frame of blank.avi shows one sharp, frontal face with open "
                               "eyes (12 frames examined)")


def test_a_faceless_recording_fails_at_a_staffed_desk_too(shared_data, environ, blank_video,
                                                          capsys):
    status, out, _ = match(capsys, {**environ, "KIOSK_KIOSK_MODE": "staffed"},
                           str(shared_data / OBAMA), str(blank_video))
    assert status == 1
    assert out.splitlines() == [
        "NO MATCH: no usable live frame (local matcher)",
        "outcome at this kiosk: fail (NO_USABLE_FRAME)",
        "no frame of blank.avi shows one sharp, frontal face with open eyes (12 frames "
        "examined)"]


def test_unreadable_or_faceless_references_stay_errors(shared_data, environ, blank_video,
                                                       tmp_path, capsys):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    status, _, err = match(capsys, environ, str(shared_data / OBAMA), str(broken))
    assert status == 2 and "cannot be decoded" in err
    status, _, err = match(capsys, environ, str(blank_video), str(shared_data / OBAMA))
    assert status == 2 and "no frame of blank.avi" in err
