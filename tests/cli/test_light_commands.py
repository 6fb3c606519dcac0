"""``kiosk analyze --light`` and ``kiosk simulate light``: the real entry points."""

from __future__ import annotations

import json
import random

import cv2
import pytest

from kiosk.analysis.light import draw_sequence
from kiosk.cli import main
from kiosk.cli.verify import NO_LIGHT
from tests.cli.test_simulate import write_clip
from tests.lab.test_simulate import textured_still

D9 = "KwaiVGI_LivePortrait/assets/examples/driving/d9.mp4"


def run(capsys, *argv) -> tuple[int, str, str]:
    status = main(list(argv), environ={})
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def faceless(tmp_path_factory):
    path = tmp_path_factory.mktemp("light") / "faceless.avi"
    write_clip(path, [cv2.resize(textured_still(seed=i % 2), (128, 96)) for i in range(12)])
    return path


def test_analyze_without_light_adds_nothing_and_with_random_says_why(capsys, faceless):
    status, out, _ = run(capsys, "analyze", str(faceless), "--json")
    assert status == 0 and "light" not in json.loads(out)
    status, out, _ = run(capsys, "analyze", str(faceless), "--json", "--light", "random",
                         "--light-offset", "0.2")
    light = json.loads(out)["light"]
    assert status == 0 and light["responded"] is False and light["confidence"] == 0
    assert light["why"].startswith("no face") and light["sequence_source"] == "random"
    assert light["offset_s"] == 0.2 and light["sequence"]["segments"][0]["start"] == 0.2
    status, out, _ = run(capsys, "analyze", str(faceless), "--light", "random")
    assert status == 0 and "  light not judged: no face in 12 frames" in out


def test_a_bad_sequence_file_is_a_plain_error(capsys, faceless, tmp_path):
    status, _, err = run(capsys, "analyze", str(faceless), "--light", str(tmp_path / "no.json"))
    assert status == 2 and "no such file" in err
    bad = tmp_path / "bad.json"
    bad.write_text('{"segments": []}')
    status, _, err = run(capsys, "analyze", str(faceless), "--light", str(bad))
    assert status == 2 and "at least 4 segments" in err
    with pytest.raises(SystemExit):
        main(["analyze", str(faceless), "--light", "random", "--light-offset", "-1"],
             environ={})


@pytest.fixture(scope="module")
def short_d9(shared_data, tmp_path_factory):
    """The first 4.7 s of d9 at 15 fps, 256 pixels wide, and a sequence from 0.6 s."""
    tmp_path = tmp_path_factory.mktemp("d9")
    cap = cv2.VideoCapture(str(shared_data / D9))
    frames = []
    while len(frames) < 141:
        ok, image = cap.read()
        if not ok:
            break
        frames.append(cv2.resize(image, (256, 240), interpolation=cv2.INTER_AREA))
    cap.release()
    src = tmp_path / "src.avi"
    write_clip(src, frames[::2], fps=15.0)
    seq = tmp_path / "seq.json"
    seq.write_text(draw_sequence(random.Random(7)).shifted(0.6).to_json())
    return src, seq


@pytest.mark.data
def test_simulate_then_analyze_a_live_face_and_a_print(capsys, short_d9, tmp_path):
    src, seq = short_d9
    live = tmp_path / "live.avi"
    status, out, _ = run(capsys, "simulate", "light", str(src), str(live), "--sequence",
                         str(seq), "--seed", "3")
    assert status == 0 and out.startswith("light (none): 71 frames 256x240 at 15 fps")
    assert "seed 3" in out and "delay 90 ms" in out
    status, out, _ = run(capsys, "analyze", str(live), "--json", "--light", str(seq))
    light = json.loads(out)["light"]
    assert status == 0 and light["responded"] is True, light
    assert light["sequence_source"] == "file" and light["ratio"] > 5
    status, out, _ = run(capsys, "analyze", str(live), "--light", "random")
    assert status == 0 and "  light not answered: LIGHT_NOT_REFLECTED" in out
    printed = tmp_path / "print.avi"
    status, out, _ = run(capsys, "simulate", "light", str(src), str(printed), "--sequence",
                         str(seq), "--attack", "print", "--seed", "3")
    assert status == 0
    status, out, _ = run(capsys, "analyze", str(printed), "--light", str(seq))
    assert status == 0 and "  light not answered: LIGHT_FLAT" in out
    # A sequence beyond the clip, and --fps above the source's, are plain errors.
    late = tmp_path / "late.json"
    late.write_text(draw_sequence(random.Random(7)).shifted(3.0).to_json())
    status, _, err = run(capsys, "simulate", "light", str(src), str(tmp_path / "x.avi"),
                         "--sequence", str(late))
    assert status == 2 and "the sequence ends at" in err
    status, _, err = run(capsys, "simulate", "light", str(src), str(tmp_path / "x.avi"),
                         "--sequence", str(seq), "--fps", "30")
    assert status == 2 and "above SRC's 15 fps" in err


@pytest.mark.data
def test_verify_runs_the_light_step_only_when_asked(capsys, short_d9, tmp_path):
    src, seq = short_d9
    live = tmp_path / "live.avi"
    assert run(capsys, "simulate", "light", str(src), str(live), "--sequence", str(seq),
               "--seed", "3")[0] == 0
    db = str(tmp_path / "k.db")
    # Judged against the sequence filmed with it: answered (the prompts still fail: a
    # recording cannot answer them).
    status, out, _ = run(capsys, "verify", "--source", str(live), "--light", str(seq),
                         "--db", db, "--json")
    report = json.loads(out)
    assert status == 1 and report["light"]["run"] is True
    assert report["light"]["responded"] is True and report["light"]["reasons"] == []
    assert "LIGHT_NOT_REFLECTED" not in report["reasons"]
    # The audit row keeps the sequence as shown (hundredths of a second from its start).
    assert report["signals"]["light"]["details"]["sequence"].startswith("000000@0+")
    # Judged against a sequence drawn now, the same clip does not answer.
    status, out, _ = run(capsys, "verify", "--source", str(live), "--light", "random",
                         "--db", db)
    assert status == 1 and "  light not answered: LIGHT_NOT_REFLECTED" in out
    assert "LIGHT_NOT_REFLECTED: " in out
    # Without --light a file runs no light step, and says so.
    status, out, _ = run(capsys, "verify", "--source", str(live), "--db", db, "--json")
    report = json.loads(out)
    assert report["light"] == {"run": False, "why": NO_LIGHT} and "light" not in report["signals"]
    status, _, err = run(capsys, "verify", "--source", str(live), "--light",
                         str(tmp_path / "none.json"), "--db", db)
    assert status == 2 and "no such file" in err


def test_record_checks_what_it_is_told_before_opening_a_window(capsys, tmp_path):
    status, _, err = run(capsys, "record", str(tmp_path / "rec"), "--label", "attack")
    assert status == 2 and "--species is needed" in err
    assert not (tmp_path / "rec").exists()
    # A folder that cannot be made: one line, not a window out of service.
    (tmp_path / "file").write_text("x")
    status, _, err = run(capsys, "record", str(tmp_path / "file" / "rec"))
    assert status == 2 and "cannot create the recording folder" in err


@pytest.mark.data
def test_evaluate_judges_rows_with_their_sequence_files(capsys, short_d9, tmp_path):
    src, seq = short_d9
    for name, attack in (("live.avi", "none"), ("print.avi", "print")):
        assert run(capsys, "simulate", "light", str(src), str(tmp_path / name), "--sequence",
                   str(seq), "--attack", attack, "--seed", "3")[0] == 0
    (tmp_path / "seq.json").write_text(seq.read_text())
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "path,media,label,species,frames,events,subject,notes,sequence\n"
        "live.avi,video,bona_fide,,,,d9,,seq.json\n"
        "print.avi,video,attack,print,,,d9,,seq.json\n")
    status, out, _ = run(capsys, "evaluate", str(manifest), "--out", str(tmp_path / "out"))
    assert status == 0, out
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    light = metrics["light"]
    assert (light["bona_fide"]["judged"], light["bona_fide"]["responded"]) == (1, 1)
    assert (light["attack"]["judged"], light["attack"]["responded"]) == (1, 0)
    assert light["attack"]["reasons"] == ["LIGHT_FLAT"]
    assert "light challenge: bona_fide 1 of 1 judged answered; attack 0 of 1" in out
    # A sequence on a still, or a missing sequence file, is a clear error.
    manifest.write_text("path,media,label,species,frames,events,subject,notes,sequence\n"
                        "live.avi,image,bona_fide,,,,d9,,seq.json\n")
    status, _, err = run(capsys, "evaluate", str(manifest), "--out", str(tmp_path / "o2"))
    assert status == 2 and "a light sequence belongs to a video" in err
