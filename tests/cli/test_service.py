"""``kiosk service unit``: the systemd user unit of an unattended kiosk, and the exit status
that unit relies on, through the kiosk's real entry point."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.ui.instance import EXIT_ALREADY_RUNNING, LOCK_NAME, InstanceLock

ROOT = Path(__file__).resolve().parents[2]


def unit_of(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(text)
    return parser


def print_unit(argv: list[str], env: dict[str, str], capsys) -> tuple[int, str, str]:
    code = main(argv, env)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_unit_restarts_a_crashed_kiosk_but_never_a_second_one(tmp_path, capsys):
    code, out, err = print_unit(["service", "unit"], {"HOME": str(tmp_path)}, capsys)
    assert code == 0 and err == ""
    service = unit_of(out)["Service"]
    assert service["ExecStart"] == f"{sys.executable} -m kiosk.ui --supervised"
    assert service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"] == str(EXIT_ALREADY_RUNNING) == "3"
    assert service["KillMode"] == "mixed"
    unit = unit_of(out)
    assert unit["Unit"]["StartLimitIntervalSec"] == "0"
    assert unit["Unit"]["PartOf"] == unit["Install"]["WantedBy"] == "graphical-session.target"
    assert unit["Unit"]["Description"] == "Liveness kiosk kiosk-1"


def test_the_unit_passes_the_settings_file_and_id_folder_as_absolute_paths(
        tmp_path, monkeypatch, capsys):
    folder = tmp_path / "site files"
    folder.mkdir()
    (folder / "kiosk.toml").write_text('[kiosk]\nkiosk_id = "east 100%"\n')
    (folder / "scans").mkdir()
    monkeypatch.chdir(folder)
    code, out, _ = print_unit(["--config", "kiosk.toml", "service", "unit",
                               "--id-folder", "scans"], {"HOME": str(tmp_path)}, capsys)
    assert code == 0
    unit = unit_of(out)
    assert unit["Service"]["ExecStart"] == (
        f'{sys.executable} -m kiosk.ui --supervised --config "{folder}/kiosk.toml" '
        f'--id-folder "{folder}/scans"')
    # % starts a systemd specifier: written twice, it is a plain percent sign.
    assert unit["Unit"]["Description"] == "Liveness kiosk east 100%%"


def test_a_dollar_in_a_path_stays_a_dollar(tmp_path, monkeypatch, capsys):
    """systemd expands $NAME in a command line: the settings file in 'd$HOME' was looked for
    in the folder d/root instead."""
    folder = tmp_path / "d$HOME"
    folder.mkdir()
    (folder / "kiosk.toml").write_text("")
    (folder / "kiosk.toml").chmod(0o600)
    monkeypatch.chdir(folder)
    code, out, _ = print_unit(["--config", "kiosk.toml", "service", "unit"],
                              {"HOME": str(tmp_path)}, capsys)
    assert code == 0
    assert f"--config {tmp_path}/d$$HOME/kiosk.toml" in unit_of(out)["Service"]["ExecStart"]


def test_the_unit_keeps_the_settings_file_and_data_folder_this_shell_uses(tmp_path, capsys):
    """Without --config the platform file is named when it exists, and a moved XDG_DATA_HOME
    goes into the unit: the kiosk it starts keeps the same log and lockouts."""
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "conf"),
           "XDG_DATA_HOME": str(tmp_path / "data")}
    code, out, _ = print_unit(["service", "unit"], env, capsys)
    service = unit_of(out)["Service"]
    assert code == 0 and service["ExecStart"] == f"{sys.executable} -m kiosk.ui --supervised"
    assert service["Environment"] == f"XDG_DATA_HOME={tmp_path / 'data'}"
    config = tmp_path / "conf" / "liveness-kiosk" / "kiosk.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[camera]\nfps = 30\n")
    code, out, _ = print_unit(["service", "unit"], env, capsys)
    assert unit_of(out)["Service"]["ExecStart"] == f"{sys.executable} -m kiosk.ui --supervised --config {config}"
    code, out, _ = print_unit(["service", "unit"], {"HOME": str(tmp_path)}, capsys)
    assert "Environment" not in unit_of(out)["Service"]


def test_a_missing_id_folder_or_settings_file_prints_no_unit(tmp_path, capsys):
    env = {"HOME": str(tmp_path)}
    code, out, err = print_unit(["service", "unit", "--id-folder", str(tmp_path / "no")],
                                env, capsys)
    assert (code, out) == (2, "") and f"no folder at {tmp_path / 'no'}" in err
    code, out, err = print_unit(["--config", str(tmp_path / "none.toml"), "service", "unit"],
                                env, capsys)
    assert (code, out) == (2, "") and "does not exist" in err


def test_settings_made_in_the_shell_are_named_as_lost(tmp_path, capsys):
    env = {"HOME": str(tmp_path), "KIOSK_CAMERA_FPS": "30", "FACE_SIMILARITY_THRESHOLD": "96",
           "KIOSK_KIOSK_OPERATOR_PIN": "4711"}
    code, out, err = print_unit(["service", "unit"], env, capsys)
    assert code == 0 and "ExecStart=" in out
    assert ("warning: FACE_SIMILARITY_THRESHOLD, KIOSK_CAMERA_FPS, KIOSK_KIOSK_OPERATOR_PIN "
            "set here will not reach the kiosk") in err
    assert "4711" not in out + err


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed (Debian package systemd)")
def test_systemd_accepts_the_unit(tmp_path, capsys):
    code, out, _ = print_unit(["service", "unit"], {"HOME": str(tmp_path)}, capsys)
    assert code == 0
    unit = tmp_path / "liveness-kiosk.service"
    unit.write_text(out)
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    result = subprocess.run(["systemd-analyze", "--user", "verify", str(unit)],
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "XDG_RUNTIME_DIR": str(runtime),
                                 "HOME": str(tmp_path)})
    # Only the unit's own lines matter: the machine's other units are not this test's.
    own = [line for line in result.stderr.splitlines() if "liveness-kiosk" in line]
    assert own == [], result.stderr
    assert result.returncode == 0, result.stderr


def test_the_units_command_exits_3_when_another_kiosk_runs(tmp_path):
    """``python -m kiosk.ui`` is what the unit starts: a second kiosk on the same data folder
    exits with the status the unit never restarts."""
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen",
           "HOME": str(tmp_path)}
    with InstanceLock(tmp_path / "liveness-kiosk" / LOCK_NAME):
        result = subprocess.run([sys.executable, "-m", "kiosk.ui"], capture_output=True,
                                text=True, timeout=120, env=env, cwd=tmp_path)
    assert result.returncode == EXIT_ALREADY_RUNNING
    assert "the kiosk is already running" in result.stderr


def test_output_writes_the_unit_whole_and_prints_nothing(tmp_path, capsys):
    target = tmp_path / "liveness-kiosk.service"
    code, printed, _ = print_unit(["service", "unit"], {"HOME": str(tmp_path)}, capsys)
    code, out, err = print_unit(["service", "unit", "--output", str(target)],
                                {"HOME": str(tmp_path)}, capsys)
    assert (code, out) == (0, "")
    assert target.read_text(encoding="utf-8") == printed
    assert f"wrote {target}" in err and "daemon-reload" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]  # no temporary left


def test_a_failing_command_leaves_the_unit_in_place(tmp_path, capsys):
    """`kiosk service unit > FILE` emptied a working unit when the command failed: the shell
    truncates FILE before the command runs."""
    target = tmp_path / "liveness-kiosk.service"
    target.write_text("[Service]\nExecStart=/working/kiosk\n")
    env = {"HOME": str(tmp_path)}
    code, out, err = print_unit(["service", "unit", "--id-folder", str(tmp_path / "no"),
                                 "--output", str(target)], env, capsys)
    assert (code, out) == (2, "") and "no folder at" in err
    code, _, err = print_unit(["--config", str(tmp_path / "none.toml"), "service", "unit",
                               "--output", str(target)], env, capsys)
    assert code == 2 and "does not exist" in err
    assert target.read_text() == "[Service]\nExecStart=/working/kiosk\n"
    # A folder that refuses the file: a plain error, nothing written.
    code, _, err = print_unit(["service", "unit", "--output", str(tmp_path / "no" / "u")],
                              env, capsys)
    assert code == 2 and f"{tmp_path / 'no' / 'u'} cannot be written" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_database_and_aws_variables_are_named_as_lost_never_shown(tmp_path, capsys):
    env = {"HOME": str(tmp_path), "PGPASSWORD": "pg-secret", "PGPASSFILE": "/p/pgpass",
           "AWS_SECRET_ACCESS_KEY": "aws-secret", "AWS_PROFILE": "kiosk", "PAGER": "less"}
    code, out, err = print_unit(["service", "unit"], env, capsys)
    assert code == 0 and "ExecStart=" in out
    assert ("warning: AWS_PROFILE, AWS_SECRET_ACCESS_KEY, PGPASSFILE, PGPASSWORD set here "
            "will not reach the kiosk the unit starts") in err
    assert "PAGER" not in err and "only in a drop-in" not in err
    assert not any(secret in out + err for secret in ("pg-secret", "aws-secret", "/p/pgpass"))


def test_a_variable_with_no_file_of_its_own_is_sent_to_a_drop_in(tmp_path, capsys):
    # botocore reads AWS_EC2_METADATA_DISABLED from the environment only: ~/.aws/ cannot
    # carry it, so a kiosk started by the unit would probe the instance metadata service.
    env = {"HOME": str(tmp_path), "AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "kiosk"}
    code, _, err = print_unit(["service", "unit"], env, capsys)
    assert code == 0
    assert "AWS_EC2_METADATA_DISABLED only in a drop-in" in err
    assert "AWS_PROFILE only" not in err


def test_the_service_help_says_it_prints_a_unit(capsys):
    with pytest.raises(SystemExit):
        main(["--help"], {})
    line = next(line for line in capsys.readouterr().out.splitlines()
                if line.strip().startswith("service"))
    assert "print the systemd user unit" in line and "run the kiosk" not in line
