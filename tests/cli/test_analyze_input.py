"""``kiosk analyze`` and ``kiosk verify`` on input that is not one whole recording."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from kiosk.cli import main
from tests.camera.fakes import write_video


def kiosk(capsys, *argv):
    status = main(list(argv), environ={})
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def mixed_folder(tmp_path: Path) -> Path:
    """Two pictures of different sizes: a.png 40x30, then b.png 30x40."""
    folder = tmp_path / "frames"
    folder.mkdir()
    Image.new("RGB", (40, 30), (120, 90, 80)).save(folder / "a.png")
    Image.new("RGB", (30, 40), (120, 90, 80)).save(folder / "b.png")
    return folder


def refusal(folder: Path) -> str:
    return (f"image {folder / 'b.png'} is 30x40 pixels but the first image (a.png) is 40x30; "
            f"every frame of {folder} must have the same size")


def test_analyze_refuses_a_folder_of_two_sizes(capsys, mixed_folder):
    status, out, err = kiosk(capsys, "analyze", str(mixed_folder), "--json")
    assert status == 2 and out == ""
    assert err == f"kiosk analyze: {refusal(mixed_folder)}\n"


def test_verify_refuses_a_folder_of_two_sizes_and_records_nothing(capsys, mixed_folder,
                                                                  tmp_path):
    db = tmp_path / "audit.db"
    status, out, err = kiosk(capsys, "verify", "--source", str(mixed_folder), "--db", str(db))
    assert status == 2 and out == ""
    # Refused before the attempt is opened: no "attempt N never finished" against anyone.
    assert err == f"kiosk verify: {refusal(mixed_folder)}\n"
    assert not db.exists() and not (tmp_path.parent / f"{tmp_path.name}-keys").exists()


@pytest.fixture
def cut_avi(tmp_path: Path) -> Path:
    """30 frames announced, about 17 decodable: a Motion JPEG AVI cut at 60%."""
    whole = write_video(tmp_path / "whole.avi", fourcc="MJPG")
    cut = tmp_path / "cut.avi"
    cut.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.6)])
    return cut


def test_analyze_says_a_recording_ended_early(capsys, cut_avi):
    status, out, _ = kiosk(capsys, "analyze", str(cut_avi), "--json")
    assert status == 0          # what was read is still judged
    report = json.loads(out)
    assert 5 < report["frames"] < 30
    assert report["truncated"] == {"frames_read": report["frames"], "frames_announced": 30}
    status, out, _ = kiosk(capsys, "analyze", str(cut_avi))
    assert status == 0
    assert (f"  ended early: {report['frames']} of the 30 frames its container announces could "
            "be read (cut or damaged file); only those are analysed\n") in out


def test_analyze_of_a_whole_recording_is_not_truncated(capsys, tmp_path):
    clip = write_video(tmp_path / "whole.avi", fourcc="MJPG")
    status, out, _ = kiosk(capsys, "analyze", str(clip), "--json")
    assert status == 0
    report = json.loads(out)
    assert report["frames"] == 30 and report["truncated"] is None
    status, out, _ = kiosk(capsys, "analyze", str(clip))
    assert "ended early" not in out
