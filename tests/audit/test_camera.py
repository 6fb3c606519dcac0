"""The camera an attempt's frames came from (``attempts.camera``, schema 8): recorded as
canonical JSON, covered by the row's and the open row's MAC, kept by an attempt cut short,
exported, shown to staff, and refused when it could carry a path or an unknown field."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest

from kiosk.audit import AuditError, AuditLog, camera_text
from kiosk.audit.export import write_export
from kiosk.operator.attempts import attempt_detail
from tests.audit.conftest import FakeClock, make_record
from tests.audit.test_tamper import tamper

WEBCAM = {"kind": "camera", "device": "/dev/video0", "name": "HD Webcam C615",
          "driver": "uvcvideo", "bus": "usb", "usb": "046d:0825"}
GRABBER = {"kind": "camera", "device": "/dev/video2", "name": "Cam Link 4K",
           "driver": "uvcvideo", "bus": "usb", "usb": "0fd9:0066",
           "virtual": "USB 0fd9:0066 is a video capture device (Elgato Cam Link 4K)",
           "allow_virtual": True}
CLIP = {"kind": "video file", "name": "clip.mp4"}


def opened(audit: AuditLog, clock: FakeClock, camera) -> int:
    return audit.open_attempt(started_at=clock.now, subject_ref=None, app_version="0.1.0",
                              settings_digest="ab" * 32, camera=camera)


def run(audit: AuditLog, clock: FakeClock, camera, **record):
    attempt = opened(audit, clock, camera)
    clock.advance(seconds=10)
    return audit.finish_attempt(attempt, make_record(clock, camera=camera, **record))


def test_the_camera_is_recorded_as_canonical_json(keyed_log, clock, db_path: Path) -> None:
    results = [run(keyed_log, clock, camera) for camera in (WEBCAM, CLIP, None)]
    stored = [keyed_log.get_attempt(r.attempt_id) for r in results]
    assert [a.camera for a in stored] == [WEBCAM, CLIP, None]
    assert [a.record.camera for a in stored if a.record is not None] == [WEBCAM, CLIP, None]
    assert keyed_log.verify().ok
    raw = sqlite3.connect(db_path)
    texts = [t for (t,) in raw.execute("SELECT camera FROM attempts ORDER BY id")]
    raw.close()
    assert texts == ['{"bus":"usb","device":"/dev/video0","driver":"uvcvideo",'
                     '"kind":"camera","name":"HD Webcam C615","usb":"046d:0825"}',
                     '{"kind":"video file","name":"clip.mp4"}', None]


@pytest.mark.parametrize("camera, edit", [
    (WEBCAM, """'{"device":"/dev/video1","kind":"camera"}'"""),  # another device named
    (GRABBER, "NULL"),                                           # the grabber hidden
    (None, """'{"kind":"video file","name":"clip.mp4"}'"""),     # a camera made up
])
def test_the_camera_is_covered_by_the_row_mac(keyed_log, clock, db_path: Path, hasher,
                                              chain_key, camera, edit: str) -> None:
    run(keyed_log, clock, WEBCAM)
    edited = run(keyed_log, clock, camera)
    assert keyed_log.verify().ok
    keyed_log.close()
    tamper(db_path, f"UPDATE attempts SET camera = {edit} WHERE id = {edited.attempt_id}")
    with AuditLog.open(db_path, keyed_log.config, clock=clock, subject_hasher=hasher,
                       chain_key=chain_key, read_only=True) as reopened:
        report = reopened.verify()
    assert not report.ok and report.first_break is not None
    assert report.first_break.seq == edited.seq


def test_the_open_row_mac_covers_the_camera(keyed_log, clock, db_path: Path) -> None:
    attempt = opened(keyed_log, clock, GRABBER)
    raw = sqlite3.connect(db_path)
    raw.execute("UPDATE attempts SET camera = ? WHERE id = ?",
                [json.dumps(WEBCAM, sort_keys=True, separators=(",", ":")), attempt])
    raw.commit()
    raw.close()
    with pytest.raises(AuditError, match="not opened by this kiosk"):
        keyed_log.finish_attempt(attempt, make_record(clock, camera=WEBCAM))


def test_a_record_must_be_finished_with_the_camera_it_was_opened_with(keyed_log,
                                                                      clock) -> None:
    attempt = opened(keyed_log, clock, GRABBER)
    with pytest.raises(ValueError, match="record.camera differs"):
        keyed_log.finish_attempt(attempt, make_record(clock, camera=WEBCAM))


def test_an_attempt_cut_short_keeps_its_camera(keyed_log, clock) -> None:
    attempt = opened(keyed_log, clock, GRABBER)
    keyed_log.abandon_attempt(attempt)
    stored = keyed_log.get_attempt(attempt)
    assert stored.record is not None and stored.record.reasons == ("INTERRUPTED",)
    assert stored.camera == stored.record.camera == GRABBER
    assert keyed_log.verify().ok


@pytest.mark.parametrize("camera, message", [
    ({"kind": "video file", "name": "/home/ana/clips/clip.mp4"}, "base name, never a path"),
    ({"kind": "image folder", "name": "frames", "device": "/dev/video0"}, "unknown keys"),
    ({"kind": "camera", "name": "HD Webcam C615"}, "lacks keys"),
    ({"kind": "screen"}, "kind is one of"),
    ({**WEBCAM, "allow_virtual": False}, "recorded only when true"),
    ({**WEBCAM, "name": "HD\x1b[2JWebcam"}, r"U\+001B \(a control character\)"),
    ({**WEBCAM, "frame": b"\xff\xd8"}, "unknown keys"),
])
def test_a_camera_that_could_carry_more_than_its_identity_is_refused(keyed_log, clock, camera,
                                                                     message: str) -> None:
    with pytest.raises(ValueError, match=message):
        opened(keyed_log, clock, camera)
    with pytest.raises(ValueError, match=message):
        make_record(clock, camera=camera)
    assert keyed_log.list_attempts() == []


def test_staff_read_where_the_frames_came_from(keyed_log, clock) -> None:
    assert camera_text(WEBCAM) == "/dev/video0 'HD Webcam C615' uvcvideo usb 046d:0825"
    assert camera_text(GRABBER) == (
        "/dev/video2 'Cam Link 4K' uvcvideo usb 0fd9:0066; flagged virtual: USB 0fd9:0066 is a "
        "video capture device (Elgato Cam Link 4K); let through by camera.allow_virtual")
    assert camera_text({"kind": "camera", "device": "0", "allow_virtual": True}) == \
        "0; camera.allow_virtual was on"
    assert camera_text(CLIP) == "video file clip.mp4"
    assert camera_text(None) == "not recorded"
    stored = keyed_log.get_attempt(run(keyed_log, clock, GRABBER).attempt_id)
    assert attempt_detail(stored, ()).camera == camera_text(GRABBER)


def test_exports_carry_the_camera(keyed_log, clock) -> None:
    run(keyed_log, clock, WEBCAM)
    run(keyed_log, clock, None)
    out = io.StringIO()
    write_export(keyed_log.iter_attempts(), out, "jsonl")
    assert sorted((json.loads(line)["camera"] for line in out.getvalue().splitlines()),
                  key=str) == [None, WEBCAM]
    out = io.StringIO()
    write_export(keyed_log.iter_attempts(), out, "csv")
    header, *rows = list(csv.reader(io.StringIO(out.getvalue())))
    column = header.index("camera")
    assert sorted(r[column] for r in rows) == ["", json.dumps(WEBCAM, sort_keys=True)]

