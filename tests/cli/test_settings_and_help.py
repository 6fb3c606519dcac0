"""``kiosk settings`` and ``kiosk --help`` as a new user reads them."""

from __future__ import annotations

import json
import os

import pytest

from kiosk.cli import main


def test_settings_show_the_database_actually_used(tmp_path, capsys):
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")}
    assert main(["settings"], env) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["audit"]["db_path"] == str(tmp_path / "data" / "liveness-kiosk" / "kiosk.db")
    assert main(["settings"], {**env, "KIOSK_AUDIT_DB_PATH": str(tmp_path / "k.db")}) == 0
    assert json.loads(capsys.readouterr().out)["audit"]["db_path"] == str(tmp_path / "k.db")


def test_settings_warn_of_a_database_folder_that_does_not_exist(tmp_path, capsys):
    # Accepted in silence before; the kiosk then refused the log at its start.
    env = {"HOME": str(tmp_path), "KIOSK_AUDIT_DB_PATH": str(tmp_path / "no" / "k.db")}
    assert main(["settings"], env) == 0
    err = capsys.readouterr().err
    assert f"warning: audit.db_path {tmp_path / 'no' / 'k.db'}: the folder" in err
    assert "does not exist" in err
    (tmp_path / "no").mkdir()
    assert main(["settings"], env) == 0 and capsys.readouterr().err == ""


def test_settings_never_show_the_pin(tmp_path, capsys):
    assert main(["settings"], {"HOME": str(tmp_path), "KIOSK_KIOSK_OPERATOR_PIN": "4711"}) == 0
    out = capsys.readouterr().out
    assert "4711" not in out and json.loads(out)["kiosk"]["operator_pin"] == "(set)"


def test_help_reads_as_plain_text(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"], {})
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "``" not in out and ":class:" not in out and ":func:" not in out
    assert "headless" in out


def test_settings_name_every_layer_without_a_secret(tmp_path, capsys):
    config = tmp_path / "kiosk.toml"
    config.write_text("[camera]\nfps = 15\n")
    env = {"HOME": str(tmp_path), "KIOSK_KIOSK_OPERATOR_PIN": "4711",
           "KIOSK_CAMERA_WIDTH": "800"}
    assert main(["--config", str(config), "settings"], env) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["source"] == (f"defaults + {config} + environment: "
                                         "KIOSK_KIOSK_OPERATOR_PIN, KIOSK_CAMERA_WIDTH")
    assert "4711" not in out
    assert json.loads(out)["config_file"] == str(config)


def test_settings_say_where_the_file_would_be_read(tmp_path, capsys):
    assert main(["settings"], {"HOME": str(tmp_path)}) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["source"] == "defaults"
    assert shown["config_file"] == str(tmp_path / ".config" / "liveness-kiosk" / "kiosk.toml")
    assert shown["config_file_exists"] is False


def test_settings_refuse_a_reconnect_minimum_above_the_maximum(tmp_path, capsys):
    env = {"HOME": str(tmp_path), "KIOSK_CAMERA_RECONNECT_MIN_S": "9"}
    assert main(["settings"], env) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "camera.reconnect_min_s = 9.0" in captured.err
    assert "camera.reconnect_max_s = 8.0" in captured.err


def test_settings_print_text_as_written(tmp_path, capsys):
    """"Kiosk Zürich Hbf" was printed as "Kiosk Z\\u00fcrich Hbf" (locale audit, 11)."""
    folder = tmp_path / "Données 😀"
    folder.mkdir()
    config = folder / "kiosk.toml"
    config.write_text('[kiosk]\nkiosk_id = "Kiosk Zürich Hbf"\n', encoding="utf-8")
    assert main(["--config", str(config), "settings"], {"HOME": str(tmp_path)}) == 0
    out = capsys.readouterr().out
    assert '"kiosk_id": "Kiosk Zürich Hbf"' in out and "Données 😀/kiosk.toml" in out
    assert "\\u" not in out


def test_settings_escape_a_path_that_is_not_text(tmp_path, capsys):
    """A file name's bytes that are not UTF-8 cannot be written as text: escaped, still JSON."""
    folder = tmp_path / os.fsdecode(b"caf\xe9")
    folder.mkdir()
    config = folder / "kiosk.toml"
    config.write_text('[kiosk]\nkiosk_id = "Zürich"\n', encoding="utf-8")
    assert main(["--config", str(config), "settings"], {"HOME": str(tmp_path)}) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["config_file"] == str(config) and shown["kiosk"]["kiosk_id"] == "Zürich"
