"""``kiosk verify`` refuses input it cannot run a session on before it records anything."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from kiosk.cli import main


def kiosk(capsys, *argv):
    status = main(list(argv), environ={})
    out, err = capsys.readouterr()
    return status, out, err


def write_noise_video(path: Path, frames: int = 30, fps: float = 15.0) -> Path:
    """A small MPEG-4 video of random frames (no face): ``frames / fps`` seconds."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (160, 120))
    rng = np.random.default_rng(0)
    for _ in range(frames):
        writer.write(rng.integers(0, 255, (120, 160, 3), np.uint8))
    writer.release()
    return path


def test_a_video_whose_frames_cannot_be_decoded_records_no_attempt(capsys, tmp_path):
    # The container opens, every frame's data is damaged: before, the session opened the
    # attempt first and left it INTERRUPTED, a failure counted toward the subject's lockout,
    # so five runs on a bad file locked the badge number out.
    data = bytearray(write_noise_video(tmp_path / "good.mp4").read_bytes())
    for k in range(data.find(b"mdat") + 8, data.find(b"moov"), 7):
        data[k] ^= 0xFF
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(bytes(data))
    db = tmp_path / "audit.db"
    for _ in range(2):
        status, out, err = kiosk(capsys, "verify", "--source", str(bad), "--db", str(db),
                                 "--subject", "B-1")
        assert status == 2 and out == "" and "has no decodable frames" in err
    # Refused before the log opens: no database, reserve or key is made for it either.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.mp4", "good.mp4"]


def test_a_still_image_is_refused_as_a_source(capsys, tmp_path):
    photo = tmp_path / "face.png"
    cv2.imwrite(str(photo), np.full((120, 160, 3), 128, np.uint8))
    db = tmp_path / "audit.db"
    status, out, err = kiosk(capsys, "verify", "--source", str(photo), "--db", str(db))
    assert status == 2 and out == ""
    assert "is a single image, and a single image cannot be checked for liveness" in err
    assert not db.exists()


def test_a_single_frame_in_disguise_is_refused_before_anything_is_recorded(capsys, tmp_path):
    """A photo named .mp4, a one-frame clip and a folder of one image were judged as
    sessions: liveness failed, recorded, and five such runs locked the badge number out."""
    image = np.full((120, 160, 3), 128, np.uint8)
    named = tmp_path / "photo.mp4"
    ok, jpeg = cv2.imencode(".jpg", image)
    named.write_bytes(jpeg.tobytes())
    folder = tmp_path / "one"
    folder.mkdir()
    cv2.imwrite(str(folder / "1.png"), image)
    one_frame = write_noise_video(tmp_path / "one_frame.mp4", frames=1)
    db = tmp_path / "audit.db"
    for source in (named, folder, one_frame):
        status, out, err = kiosk(capsys, "verify", "--source", str(source), "--db", str(db),
                                 "--subject", "B-1")
        assert status == 2 and out == "", (source, err)
        assert "holds a single frame, and a single image cannot be checked" in err
    assert not db.exists()
    status, out, _ = kiosk(capsys, "analyze", str(named))
    assert status == 0 and "liveness not judged: SINGLE_IMAGE" in out


def test_a_scripted_prompt_after_the_recording_ends_is_refused(capsys, tmp_path):
    video = write_noise_video(tmp_path / "two_seconds.mp4")
    db = tmp_path / "audit.db"
    status, out, err = kiosk(capsys, "verify", "--source", str(video), "--db", str(db),
                             "--script", "blink@0.5,smile@100")
    assert status == 2 and out == ""
    assert "--script smile@100: " in err and "is only 2.00 s long" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["two_seconds.mp4"]
    # A prompt inside the recording runs the session (which fails: no face) and records it.
    status, out, _ = kiosk(capsys, "verify", "--source", str(video), "--db", str(db),
                           "--script", "blink@1.5")
    assert status == 1 and ": FAIL (attempt 1, a scripted evaluation run" in out.splitlines()[0]


def test_a_negative_script_time_is_named(capsys, tmp_path):
    status, _, err = kiosk(capsys, "verify", "--source", str(tmp_path / "x.mp4"),
                           "--script", "blink@-1.0")
    assert status == 2
    assert "'blink@-1.0': times are media seconds from the recording's start, 0 or more" in err


def test_a_database_in_a_missing_folder_is_refused(capsys, tmp_path):
    # A mistyped --db must not start a new, empty log that knows none of the lockouts.
    video = write_noise_video(tmp_path / "clip.mp4")
    db = tmp_path / "typo" / "audit.db"
    status, out, err = kiosk(capsys, "verify", "--source", str(video), "--db", str(db))
    assert status == 2 and out == ""
    assert f"the folder {db.parent} does not exist" in err and not db.parent.exists()


def test_scripted_runs_are_marked_in_the_log_and_lock_nobody(capsys, tmp_path):
    # An evaluation run with prompts given in advance is not a verification: before, its
    # pass looked like one in the operator's list, and its failures counted toward the
    # lockout of the real badge number it was run with.
    video = write_noise_video(tmp_path / "clip.mp4", frames=45)
    db = tmp_path / "audit.db"
    for _ in range(6):  # one more than the subject's limit
        status, out, err = kiosk(capsys, "verify", "--source", str(video), "--db", str(db),
                                 "--subject", "B-2", "--script", "blink@0.5")
        assert status == 1 and "RATE_LIMITED" not in out, out + err
    status, out, err = kiosk(capsys, "audit", "list", "--db", str(db))
    lines = out.strip().splitlines()
    assert status == 0 and lines[-2] == "6 attempt(s), newest first"
    assert all(" fail (scripted) " in line for line in lines[1:7])
    assert lines[-1].startswith("(scripted): a scripted evaluation run")
    status, out, err = kiosk(capsys, "audit", "show", "1", "--db", str(db))
    assert "decision:         fail: a scripted evaluation run (kiosk verify --script)" in out
    status, out, err = kiosk(capsys, "audit", "stats", "--db", str(db))
    assert out.startswith("attempts: 0 (pass 0, fail 0, review 0)")
    assert "scripted evaluation runs, not counted above: 6" in out
    # The same clip run as the kiosk runs it counts: the fifth failure locks the number.
    for n in range(1, 7):
        status, out, err = kiosk(capsys, "verify", "--source", str(video), "--db", str(db),
                                 "--subject", "B-2")
        assert ("RATE_LIMITED" in out) == (n == 6), (n, out)


def test_a_member_check_in_needs_the_members_collection(capsys, tmp_path):
    video = write_noise_video(tmp_path / "clip.mp4")
    db = tmp_path / "audit.db"
    status, out, err = kiosk(capsys, "verify", "--source", str(video), "--db", str(db),
                             "--member")
    assert status == 2 and out == ""
    assert "--member needs matching.collection_id" in err
    assert not db.exists()


def test_a_member_check_in_takes_no_id_photo(capsys, tmp_path):
    import pytest

    video = write_noise_video(tmp_path / "clip.mp4")
    with pytest.raises(SystemExit) as refused:
        main(["verify", "--source", str(video), "--member", "--id-photo", str(video)],
             environ={})
    assert refused.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_a_camera_is_refused_as_a_source_and_a_file_named_like_one_is_the_file(
        capsys, tmp_path, monkeypatch):
    """A headless session on a camera shows its prompts to nobody; and a recording named
    ``0`` in the working folder was opened as camera 0 ("no such video device")."""
    db = tmp_path / "audit.db"
    for camera in ("0", "/dev/video0"):
        status, out, err = kiosk(capsys, "verify", "--source", camera, "--db", str(db))
        assert status == 2 and out == ""
        assert f"--source {camera} names a camera: --source takes a video file" in err
    assert not db.exists()
    monkeypatch.chdir(tmp_path)
    write_noise_video(tmp_path / "noise.avi").rename(tmp_path / "0")
    status, out, err = kiosk(capsys, "verify", "--source", "0", "--db", str(db),
                             "--subject", "B-1")
    assert status == 1 and out.startswith("0: FAIL (attempt 1)"), err  # judged, as a file
    assert "camera" not in err


def test_the_recording_is_named_in_the_row_by_its_kind_and_base_name(capsys, tmp_path):
    # Staff see what an attempt's frames came from; a path, which may name someone's home
    # folder, never reaches the log.
    folder = tmp_path / "home" / "ana" / "takes"
    folder.mkdir(parents=True)
    video = write_noise_video(folder / "clip.mp4")
    frames = folder / "frames"
    frames.mkdir()
    rng = np.random.default_rng(1)
    for i in range(3):
        cv2.imwrite(str(frames / f"{i}.png"), rng.integers(0, 255, (120, 160, 3), np.uint8))
    db = tmp_path / "audit.db"
    for source in (video, frames):
        status, out, err = kiosk(capsys, "verify", "--source", str(source), "--db", str(db))
        assert status == 1, out + err
    shown = [kiosk(capsys, "audit", "show", str(n), "--db", str(db))[1] for n in (1, 2)]
    assert "camera:           video file clip.mp4\n" in shown[0]
    assert "camera:           image folder frames\n" in shown[1]
    assert not any(str(folder) in out for out in shown)
