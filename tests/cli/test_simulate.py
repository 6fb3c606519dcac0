"""``kiosk simulate print|replay``: round trips, looping, plain errors, a real clip."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.cli import main
from tests.lab.test_simulate import FPS, textured_still


def write_clip(path: Path, frames: list[np.ndarray], fps: float = FPS) -> None:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (w, h))
    for f in frames:
        writer.write(f)
    writer.release()


def read_clip(path: Path) -> tuple[list[np.ndarray], float]:
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    cap.release()
    return frames, fps


@pytest.fixture(scope="module")
def clip_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("simulate") / "live.avi"
    frames = [cv2.resize(textured_still(seed=i % 2), (128, 96)) for i in range(8)]
    write_clip(path, frames)
    return path


@pytest.mark.parametrize("attack", ["print", "replay"])
def test_cli_round_trip(attack, clip_path, tmp_path, capsys):
    out = tmp_path / f"{attack}.avi"
    extra = ["--frame", "3"] if attack == "print" else ["--device", "phone"]
    argv = ["simulate", attack, str(clip_path), str(out), "--seed", "11", *extra]
    assert main(argv, environ={}) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{attack} attack: 8 frames 128x96 at 10 fps")
    assert "seed 11" in line and len(line.splitlines()) == 1
    frames, fps = read_clip(out)
    assert len(frames) == 8 and frames[0].shape == (96, 128, 3) and fps == pytest.approx(10)
    # Same seed, same video.
    again = tmp_path / f"{attack}2.avi"
    assert main(argv[:3] + [str(again)] + argv[4:], environ={}) == 0
    assert all(np.array_equal(a, b) for a, b in zip(frames, read_clip(again)[0], strict=True))


def test_cli_seconds_loops_a_replay_and_writes_mp4(clip_path, tmp_path, capsys):
    out = tmp_path / "long.mp4"
    argv = ["simulate", "replay", str(clip_path), str(out), "--seconds", "1.2", "--seed", "1",
            "--pitch", "1.0", "--banding", "0.05"]
    assert main(argv, environ={}) == 0
    assert "12 frames" in capsys.readouterr().out
    frames, fps = read_clip(out)
    assert len(frames) == 12 and fps == pytest.approx(10)


@pytest.mark.parametrize("case, message", [
    ("missing", "does not exist"),
    ("corrupt", "cannot be decoded"),
    ("no-folder", "does not exist"),
    ("extension", ".mp4 or .avi"),
    ("same", "is SRC"),
])
def test_cli_errors_are_plain(case, message, clip_path, tmp_path, capsys):
    src, out = str(clip_path), str(tmp_path / "out.avi")
    if case == "missing":
        src = str(tmp_path / "nothing.mp4")
    elif case == "corrupt":
        bad = tmp_path / "bad.mp4"
        bad.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, np.uint8).tobytes())
        src = str(bad)
    elif case == "no-folder":
        out = str(tmp_path / "no" / "such" / "out.avi")
    elif case == "extension":
        out = str(tmp_path / "out.gif")
    else:
        out = src
    status = main(["simulate", "print", src, out, "--frame", "0", "--seed", "0"], environ={})
    err = capsys.readouterr().err
    assert status == 2
    assert message in err and "Traceback" not in err
    assert not Path(out).exists() or out == src


def test_cli_frame_out_of_range(clip_path, tmp_path, capsys):
    status = main(["simulate", "print", str(clip_path), str(tmp_path / "o.avi"), "--frame", "8"],
                  environ={})
    assert status == 2
    assert "has 8 frames" in capsys.readouterr().err


@pytest.mark.data
def test_cli_on_a_real_clip(shared_data, tmp_path, capsys):
    src = shared_data / "KwaiVGI_LivePortrait/assets/examples/driving/d5.mp4"
    lines = {}
    for attack in ("print", "replay"):
        out = tmp_path / f"{attack}.mp4"
        argv = ["simulate", attack, str(src), str(out), "--seconds", "0.3", "--seed", "2"]
        assert main(argv, environ={}) == 0
        lines[attack] = capsys.readouterr().out
        assert f"{attack} attack: 9 frames 480x480 at 30 fps" in lines[attack]
        frames, fps = read_clip(out)
        assert len(frames) == 9 and frames[0].shape == (480, 480, 3) and fps == 30
    # The still was chosen by the face tracker among the clip's 148 frames.
    chosen = re.search(r"\(frame (\d+),", lines["print"])
    assert chosen is not None and 0 <= int(chosen.group(1)) < 148


# -- an existing OUT, a photo without --seconds ----------------------------------------------

@pytest.mark.parametrize("attack", ["print", "replay", "light"])
def test_an_existing_out_is_kept_without_force(attack, clip_path, tmp_path, capsys):
    out = tmp_path / "taken.avi"
    out.write_bytes(b"a real capture")
    extra = ["--sequence", str(tmp_path / "s.json")] if attack == "light" else []
    assert main(["simulate", attack, str(clip_path), str(out), *extra], environ={}) == 2
    err = capsys.readouterr().err
    assert f"{out} exists; choose another OUT, or give --force to replace it" in err
    assert out.read_bytes() == b"a real capture"


def test_force_replaces_an_existing_out(clip_path, tmp_path, capsys):
    out = tmp_path / "taken.avi"
    out.write_bytes(b"an old render")
    argv = ["simulate", "replay", str(clip_path), str(out), "--seed", "3", "--force"]
    assert main(argv, environ={}) == 0
    assert "replay attack: 8 frames" in capsys.readouterr().out
    assert len(read_clip(out)[0]) == 8
    assert [p.name for p in tmp_path.iterdir()] == ["taken.avi"]  # no partial file left


def test_a_failed_render_leaves_an_existing_out_as_it_was(tmp_path):
    from kiosk.cli.simulate import _VideoOut

    out = tmp_path / "taken.avi"
    out.write_bytes(b"an old render")
    with pytest.raises(RuntimeError), _VideoOut(out, "MJPG", 10.0, (64, 48)) as video:
        video.write(np.zeros((48, 64, 3), np.uint8))
        raise RuntimeError("render failed")
    assert out.read_bytes() == b"an old render"
    assert [p.name for p in tmp_path.iterdir()] == ["taken.avi"]


@pytest.mark.parametrize("attack", ["print", "replay"])
def test_a_photo_needs_seconds(attack, tmp_path, capsys):
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), cv2.resize(textured_still(seed=1), (128, 96)))
    out = tmp_path / "out.avi"
    argv = ["simulate", attack, str(photo), str(out), "--seed", "4"]
    assert main(argv, environ={}) == 2
    err = capsys.readouterr().err
    assert f"{photo} is a photo (a single frame)" in err and "give --seconds" in err
    assert not out.exists()
    assert main([*argv, "--seconds", "0.4", "--fps", "10"], environ={}) == 0
    assert f"{attack} attack: 4 frames 128x96 at 10 fps" in capsys.readouterr().out
    assert len(read_clip(out)[0]) == 4


def test_the_help_says_a_photo_needs_seconds(capsys):
    with pytest.raises(SystemExit):
        main(["simulate", "print", "--help"], {})
    help_text = " ".join(capsys.readouterr().out.split())
    assert "required when SRC is a photo" in help_text
    assert "--force replace OUT if it exists" in help_text
