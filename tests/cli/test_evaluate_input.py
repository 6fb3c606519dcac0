"""``kiosk evaluate`` on careless input: every mistake in the manifest, the pairs file or the
output folder is one plain error (exit 2) found before any presentation is analysed, and a
failed write leaves no partial output behind."""

from __future__ import annotations

import errno
from pathlib import Path

import cv2
import numpy as np
import pytest

import kiosk.cli.evaluate as evaluate_cli
import kiosk.lab.media
from kiosk.cli import main
from kiosk.errors import InputError

HEADER = "path,media,label,species,frames,events,subject,notes\n"


@pytest.fixture
def analysed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths handed to the analysis; each row fails at once (no media is decoded)."""
    calls: list[str] = []

    def refuse(path, row, **_kwargs):
        calls.append(str(path))
        raise InputError(f"{path} was not analysed (test)")

    monkeypatch.setattr(kiosk.lab.media, "analyse_file", refuse)
    return calls


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "face.jpg"
    cv2.imwrite(str(path), np.full((48, 48, 3), 128, np.uint8))
    return path


def evaluate(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(["evaluate", *argv], environ={})
    out, err = capsys.readouterr()
    return status, out, err


def manifest(tmp_path: Path, body: bytes | str, name: str = "m.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(body if isinstance(body, bytes) else body.encode())
    return path


@pytest.mark.parametrize(("body", "message"), [
    (b"", "is empty; expected the header path,media,label"),
    (HEADER.encode() + b"face.jpg,image,bona_fide,,,,ob\xe9ma,\n",
     "line 2 is not UTF-8 text (byte 0xe9)"),
    (HEADER + "face.jpg,image,bona_fide,,,,s,\nface.jpg,image,bona_fide,,,,s,\n",
     "line 3 repeats line 2 (face.jpg)"),
    (HEADER + "clip.mp4,video,bona_fide,,0-20,blink@x-y,s,\n",
     "line 2: event 'blink@x-y' is not of the form action@start-end"),
    (HEADER + "face.jpg,video,bona_fide,,0-5,,s,\n",
     "line 2: media is 'video' but face.jpg is a .jpg file (media 'image')"),
    (HEADER + "clip.mp4,image,bona_fide,,,,s,\n",
     "line 2: media is 'image' but clip.mp4 is a .mp4 file (media 'video')"),
    (HEADER + "face.jpg,image,bona_fide,,0-0,,s,\n",
     "line 2: a frame range belongs to a video or GIF"),
    (HEADER + "face.jpg,image,bona_fide,,,,s,portrait, official\n",
     "line 2 has more fields than the header; quote a value that holds a comma"),
    (HEADER + 'face.jpg,image,bona_fide,,,,s,"unterminated\n',
     "line 2 is not valid CSV"),
])
def test_a_bad_manifest_is_refused_before_any_analysis(capsys, tmp_path, analysed, body,
                                                       message):
    path = manifest(tmp_path, body)
    status, out, err = evaluate(capsys, str(path), "--out", str(tmp_path / "out"))
    assert status == 2 and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert analysed == [] and not (tmp_path / "out").exists()


def test_an_empty_out_is_refused_instead_of_writing_into_the_current_folder(
        capsys, tmp_path, photo, analysed, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = manifest(tmp_path, HEADER + "face.jpg,image,bona_fide,,,,s,\n")
    status, _, err = evaluate(capsys, str(path), "--out", "")
    assert status == 2 and err == "kiosk evaluate: --out is empty: name the output folder\n"
    assert analysed == [] and sorted(p.name for p in tmp_path.iterdir()) == ["face.jpg", "m.csv"]


def test_an_out_folder_that_refuses_files_is_found_before_any_analysis(
        capsys, tmp_path, photo, analysed, monkeypatch):
    # os.access says yes to root and on read-only mounts; only a real write can tell.
    def read_only(*_args, **_kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(evaluate_cli.tempfile, "NamedTemporaryFile", read_only)
    path = manifest(tmp_path, HEADER + "face.jpg,image,bona_fide,,,,s,\n")
    status, _, err = evaluate(capsys, str(path), "--out", str(tmp_path / "out"))
    assert status == 2 and analysed == []
    assert err == (f"kiosk evaluate: --out {tmp_path / 'out'} is not writable (Read-only file "
                   "system)\n")


@pytest.mark.parametrize(("pairs", "message"), [
    ("a,b,same,notes\nx.jpg,y.jpg,yes,\n", "line 2: same must be 1, 0 or ?, got 'yes'"),
    ("a,b\nx.jpg,y.jpg\n", "lacks the column(s) same"),
])
def test_a_bad_pairs_file_is_refused_before_any_analysis(capsys, tmp_path, photo, analysed,
                                                         pairs, message):
    path = manifest(tmp_path, HEADER + "face.jpg,image,bona_fide,,,,s,\n")
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "pairs.csv").write_text(pairs)
    status, _, err = evaluate(capsys, str(path), "--pairs", str(tmp_path / "p" / "pairs.csv"),
                              "--out", str(tmp_path / "out"))
    assert status == 2 and message in err
    assert analysed == []


def test_a_failed_write_leaves_no_partial_output(capsys, tmp_path, photo, analysed,
                                                 monkeypatch):
    import kiosk.lab.det_plot

    def disk_full(path, *_args, **_kwargs):
        Path(path).write_bytes(b"\x89PNG half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(kiosk.lab.det_plot, "plot_det", disk_full)
    path = manifest(tmp_path, HEADER + "face.jpg,image,bona_fide,,,,s,\n")
    out = tmp_path / "out"
    status, _, err = evaluate(capsys, str(path), "--out", str(out))
    assert status == 2 and "Traceback" not in err
    assert err.endswith(f"\nkiosk evaluate: {out / 'det.png'} cannot be written (No space "
                        "left on device)\n")
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json"]  # complete, not half a PNG


def test_an_event_name_the_kiosk_does_not_detect_is_a_non_action_with_a_warning(
        tmp_path, caplog):
    # Another data set's label (or a typo) neither stops a run of minutes nor counts as a
    # missed detection of an action no detector has.
    from kiosk.lab.events_eval import evaluate_events, row_key
    from kiosk.lab.manifest import read_manifest

    path = manifest(tmp_path, HEADER + "clip.mp4,video,bona_fide,,,look_left@0.1-0.9;"
                    "blink@1.0-1.1,s,\nscan.heic,image,bona_fide,,,,s,\n")
    with caplog.at_level("WARNING"):
        rows = read_manifest(path)
    assert [r.path for r in rows] == ["clip.mp4", "scan.heic"]  # an unknown ending: as said
    assert "line 2: event action(s) look_left are not ones the kiosk detects" in caplog.text
    row = {"path": "clip.mp4", "media": "video", "label": "bona_fide", "frames": "",
           "events": rows[0].events, "notes": ""}
    report = evaluate_events([row], {row_key(row): []})
    assert list(report["per_action"]) == ["blink"]
    assert report["per_action"]["blink"]["labelled"] == 1


def test_log_messages_print_on_their_own_line_above_the_progress_bar(capsys):
    import logging
    import sys

    from kiosk.cli.evaluate import progress_bar

    console = logging.StreamHandler(sys.stderr)  # as `kiosk` sets up its log (basicConfig)
    logging.getLogger().addHandler(console)
    try:
        with progress_bar(sys.stderr, total=2, desc="evaluate") as bar:
            bar.update(1)
            logging.getLogger("kiosk.test").warning("a row failed")
            bar.update(1)
    finally:
        logging.getLogger().removeHandler(console)
    err = capsys.readouterr().err
    assert "\ra row failed\n" in err  # the bar's line is cleared first, not written after


def test_the_vocabulary_columns_are_read_whatever_their_case(tmp_path):
    """A manifest written by hand or by a spreadsheet says "Video" or "Bona fide": the same
    names, read as such (a typo is still refused)."""
    from kiosk.lab.manifest import read_manifest

    path = manifest(tmp_path, HEADER + "clip.mp4,Video,Bona fide,,,,s,\n"
                                       "other.mp4,VIDEO,Attack,Replay,,,s,\n")
    rows = read_manifest(path)
    assert [(r.media, r.label, r.species) for r in rows] == [
        ("video", "bona_fide", ""), ("video", "attack", "replay")]
    with pytest.raises(InputError, match="label must be bona_fide or attack, got 'bonafied'"):
        read_manifest(manifest(tmp_path, HEADER + "clip.mp4,video,bonafied,,,,s,\n", "n.csv"))
