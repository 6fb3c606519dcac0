"""Every command validates the settings before it does anything (README: "An unknown key or a
bad value stops the kiosk")."""

from __future__ import annotations

import io

import pytest

from kiosk.cli import build_parser, main

# One invocation per command, with arguments that would fail or do work only after the
# settings check: the settings error must come first, and nothing else may run.
COMMANDS = {
    "analyze": ["analyze", "nothing.mp4"],
    "audit": ["audit", "list"],
    "cameras": ["cameras"],
    "enroll": ["enroll", "member-1", "nothing.jpg"],
    "evaluate": ["evaluate", "nothing.csv", "--out", "nowhere"],
    "fleet": ["fleet", "status"],
    "match": ["match", "a.jpg", "b.jpg"],
    "record": ["record", "nowhere"],
    "service": ["service", "unit"],
    "settings": ["settings"],
    "simulate print": ["simulate", "print", "nothing.mp4", "out.avi"],
    "simulate replay": ["simulate", "replay", "nothing.mp4", "out.avi"],
    "simulate light": ["simulate", "light", "nothing.mp4", "out.avi", "--sequence", "s.json"],
    "track": ["track", "nothing.mp4"],
    "verify": ["verify", "--source", "nothing.mp4"],
}


@pytest.fixture
def bad_config(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text("[camera]\nwidht = 640\n")  # the misspelt key of tests/test_settings.py
    return path


def test_the_table_covers_every_command():
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert {name.split()[0] for name in COMMANDS} == set(commands)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_bad_key_stops_every_command(name, bad_config, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["--config", str(bad_config), *COMMANDS[name]]
    assert main(argv, {"HOME": str(tmp_path)}) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"kiosk {name.split()[0]}: {bad_config}: unknown setting "
                                   "camera.widht")
    assert captured.out == "" and not (tmp_path / "out.avi").exists()


@pytest.mark.parametrize("name", ["track", "simulate print"])
def test_a_missing_settings_file_stops_the_command(name, tmp_path, capsys):
    argv = ["--config", str(tmp_path / "none.toml"), *COMMANDS[name]]
    assert main(argv, {"HOME": str(tmp_path)}) == 2
    assert f"settings file {tmp_path / 'none.toml'} does not exist" in capsys.readouterr().err


def test_a_bad_environment_value_stops_a_command_that_reads_no_settings(tmp_path, capsys):
    env = {"HOME": str(tmp_path), "KIOSK_CAMERA_RECONNECT_MIN_S": "9"}
    assert main(COMMANDS["track"], env) == 2
    assert "camera.reconnect_max_s" in capsys.readouterr().err


def test_hash_pin_runs_with_settings_it_would_repair(tmp_path, monkeypatch, capsys):
    # The error for a plain PIN in a readable file says to run `kiosk settings hash-pin`.
    config = tmp_path / "kiosk.toml"
    config.write_text('[kiosk]\noperator_pin = "482913"\n')
    config.chmod(0o644)
    assert main(["--config", str(config), "settings"], {"HOME": str(tmp_path)}) == 2
    assert "kiosk settings hash-pin" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("482913\n"))
    assert main(["--config", str(config), "settings", "hash-pin"], {"HOME": str(tmp_path)}) == 0
    assert capsys.readouterr().out.startswith('operator_pin = "scrypt$')
