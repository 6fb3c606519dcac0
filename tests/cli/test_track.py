"""``kiosk track``: one record per frame, JSON lines or CSV, with clear errors."""

from __future__ import annotations

import csv
import io
import json

import cv2
import numpy as np
import pytest

from kiosk.cli import main

D7 = "KwaiVGI_LivePortrait/assets/examples/driving/d7.mp4"
KEYS = {"frame", "t", "faces", "yaw", "pitch", "roll", "ear_left", "ear_right", "blink_left",
        "blink_right", "smile", "sharpness", "brightness"}


def kiosk(capsys, *argv):
    status = main(list(argv), environ={})
    out, err = capsys.readouterr()
    return status, out, err


def test_json_lines_for_a_video(capsys, shared_data):
    status, out, _ = kiosk(capsys, "track", str(shared_data / D7), "--json", "--every", "20")
    assert status == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["frame"] for r in rows] == list(range(0, 178, 20))
    assert set(rows[0]) >= KEYS
    assert rows[1]["t"] == pytest.approx(20 / 30, abs=0.002)
    assert all(r["faces"] == 1 and 0.2 < r["ear_left"] < 0.5 for r in rows[:2])
    # d7 frame 80 (2.67 s) is inside the 2.3-2.8 s closure: both eyes shut.
    shut = next(r for r in rows if r["frame"] == 80)
    assert shut["ear_left"] < 0.1 and shut["blink_left"] > 0.5


def test_csv_for_an_image_folder_with_nulls_for_no_face(capsys, tmp_path, shared_data):
    cap = cv2.VideoCapture(str(shared_data / D7))
    ok, face = cap.read()
    cap.release()
    assert ok
    cv2.imwrite(str(tmp_path / "001.png"), face)
    # The same size as the first: a folder is one recording (pictures of two sizes are refused).
    cv2.imwrite(str(tmp_path / "002.png"), np.full(face.shape, 80, np.uint8))
    status, out, _ = kiosk(capsys, "track", str(tmp_path), "--csv")
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 2
    assert rows[0]["faces"] == "1" and float(rows[0]["sharpness"]) > 0
    assert rows[1]["faces"] == "0" and rows[1]["yaw"] == ""


def test_missing_and_corrupt_files_are_clear_errors(capsys, tmp_path):
    status, _, err = kiosk(capsys, "track", str(tmp_path / "none.mp4"))
    assert status == 2 and "none.mp4" in err and "Traceback" not in err
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    status, _, err = kiosk(capsys, "track", str(bad), "--json")
    assert status == 2 and "bad.mp4" in err


def test_every_must_be_positive(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["track", str(tmp_path), "--every", "0"], environ={})
    assert exc.value.code == 2
    assert "is not a whole number >= 1" in capsys.readouterr().err
