"""Settings: defaults, TOML file, environment overrides, and clear rejections."""

from __future__ import annotations

import dataclasses
import re

import pytest

from kiosk.errors import ConfigError
from kiosk.settings import SCHEMA, default_config_path, load_settings, markdown_table


def write(tmp_path, text: str):
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_match_the_seed_deployment():
    s = load_settings(None, {})
    assert s.liveness.confidence_threshold == 90.0
    assert s.matching.similarity_threshold == 95.0
    assert s.liveness.challenge_count == 3 and s.liveness.response_window_s == 4.0
    assert s.audit.max_failures == 5 and s.audit.failure_window_min == 15.0
    assert s.audit.lockout_min == 30.0
    assert s.source == "defaults"


def test_settings_are_frozen():
    s = load_settings(None, {})
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.liveness.challenge_count = 4


def test_file_values_apply(tmp_path):
    path = write(tmp_path, '[liveness]\nchallenge_count = 4\nresponse_window_s = 8\n'
                           '[kiosk]\nmode = "staffed"\n')
    s = load_settings(path, {})
    assert s.liveness.challenge_count == 4
    assert s.liveness.response_window_s == 8.0 and isinstance(s.liveness.response_window_s, float)
    assert s.kiosk.mode == "staffed" and s.source == f"defaults + {path}"


def test_platform_config_file_is_read_when_present(tmp_path):
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    path = default_config_path(env, platform="linux")
    assert path == tmp_path / "cfg" / "liveness-kiosk" / "kiosk.toml"
    path.parent.mkdir(parents=True)
    path.write_text("[camera]\nfps = 15\n")
    assert load_settings(None, env).camera.fps == 15


def test_legacy_environment_names_still_work():
    s = load_settings(None, {"LIVENESS_CONFIDENCE_THRESHOLD": "80",
                             "FACE_SIMILARITY_THRESHOLD": "97.5"})
    assert s.liveness.confidence_threshold == 80.0
    assert s.matching.similarity_threshold == 97.5


def test_environment_overrides_the_file(tmp_path):
    path = write(tmp_path, "[camera]\nfps = 15\nallow_virtual = true\n")
    s = load_settings(path, {"KIOSK_CAMERA_FPS": "25", "KIOSK_CAMERA_ALLOW_VIRTUAL": "no"})
    assert s.camera.fps == 25 and s.camera.allow_virtual is False


@pytest.mark.parametrize("text, message", [
    ("[camera]\nwidht = 640\n", "unknown setting camera.widht"),
    ("[cameras]\nfps = 10\n", r"unknown section \[cameras\]"),
    ("[liveness]\nchallenge_count = 7\n", r"liveness.challenge_count = 7 is out of range; "
                                         r"allowed: int from 2 to 6"),
    ("[liveness]\nchallenge_count = 3.5\n", "liveness.challenge_count = 3.5 has the wrong type"),
    ("[camera]\nallow_virtual = 1\n", "camera.allow_virtual = 1 has the wrong type"),
    # A camera asked for 10 frames a second would sit at the rate liveness needs.
    ("[camera]\nfps = 10\n", r"camera.fps = 10 is out of range; allowed: int from 15 to 120"),
    ('[matching]\nmatcher = "cloud"\n', "matching.matcher = 'cloud' is not allowed; allowed: "
                                        "one of 'auto', 'local', 'rekognition'"),
    ('[kiosk]\noperator_pin = "12ab"\n', "kiosk.operator_pin must be 4 to 12 digits"),
    ("[kiosk]\noperator_pin = 947261\n", "kiosk.operator_pin must be written in quotes"),
    ("camera = 3\n", "camera must be a table"),
    ('kiosk_id = "east-1"\n', r"kiosk_id is outside any section; write it under \[kiosk\]"),
    # A relative path would follow whichever folder each command starts in: a new, empty
    # log and key in each.
    ('[audit]\ndb_path = "kiosk.db"\n', r"audit.db_path = 'kiosk.db' is not allowed; allowed: "
                                        r"an absolute path"),
    ('[audit]\nkey_file = "keys/k.key"\n', "audit.key_file = 'keys/k.key' is not allowed"),
    # A typo that no reconnection would ever heal.
    ('[camera]\ndevice = "usb-cam-front"\n', "camera.device = 'usb-cam-front' is not a camera"),
    # Below these a check is switched off: a replay passed at 0 (liveness 0.73).
    ("[liveness]\nconfidence_threshold = 0\n", r"out of range; allowed: float from 50 to 100"),
    ("[matching]\nsimilarity_threshold = 50\n", r"out of range; allowed: float from 80 to 100"),
    ("[camera\n", "not valid TOML"),
])
def test_bad_files_name_the_key_and_range(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(write(tmp_path, text), {})


@pytest.mark.parametrize("env, message", [
    ({"LIVENESS_CONFIDENCE_THRESHOLD": "120"}, "from 50 to 100"),
    ({"FACE_SIMILARITY_THRESHOLD": "high"}, "FACE_SIMILARITY_THRESHOLD"),
    ({"KIOSK_CAMERA_WIDHT": "640"}, "KIOSK_CAMERA_WIDHT: unknown setting"),
    ({"KIOSK_CAMERA_ALLOW_VIRTUAL": "maybe"}, "true or false"),
])
def test_bad_environment_is_rejected(env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(None, env)


def test_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", {})


def test_digest_changes_with_settings_but_not_with_the_pin():
    base = load_settings(None, {})
    assert base.digest() == load_settings(None, {}).digest()
    assert base.replace("liveness", challenge_count=4).digest() != base.digest()
    assert base.replace("kiosk", operator_pin="123456").digest() == base.digest()


def test_replace_validates():
    with pytest.raises(ConfigError, match="out of range"):
        load_settings(None, {}).replace("liveness", response_window_s=100.0)


def test_readme_lists_every_setting_with_its_default():
    from pathlib import Path
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    table = markdown_table()
    assert table in readme, "README.md settings table is stale: paste `kiosk settings --markdown`"
    for option in SCHEMA:
        assert f"`{option.section}.{option.key}`" in table


def test_settings_pickle_for_the_matcher_process():
    import pickle

    s = load_settings(None, {"KIOSK_CAMERA_FPS": "15"})
    assert pickle.loads(pickle.dumps(s)) == s


def test_each_section_field_is_typed_as_its_default():
    import typing

    from kiosk.settings import SECTIONS, Settings

    for section, cls in SECTIONS.items():
        hints = typing.get_type_hints(cls)
        for field in dataclasses.fields(cls):
            assert hints[field.name] is type(field.default), f"{section}.{field.name}"
    hints = typing.get_type_hints(Settings)
    assert {name: hints[name] for name in SECTIONS} == SECTIONS


def test_the_schema_is_derived_from_the_sections():
    from kiosk.settings import SECTIONS

    assert [(o.section, o.key) for o in SCHEMA] == [
        (s, f.name) for s, cls in SECTIONS.items() for f in dataclasses.fields(cls)]
    pin = next(o for o in SCHEMA if o.name == "kiosk.operator_pin")
    assert pin.kind is str and pin.env_name == "KIOSK_KIOSK_OPERATOR_PIN"



# -- issue 13: values that used to pass validation and fail later ----------------------------

FLOATS = [o for o in SCHEMA if o.kind is float]


@pytest.mark.parametrize("option", FLOATS, ids=lambda o: o.name)
@pytest.mark.parametrize("text", ["nan", "inf", "-inf"])
def test_nan_and_infinity_are_refused_everywhere(tmp_path, option, text):
    with pytest.raises(ConfigError, match=f"{option.name} = .* is not a finite number"):
        load_settings(write(tmp_path, f"[{option.section}]\n{option.key} = {text}\n"), {})
    with pytest.raises(ConfigError, match="is not a finite number"):
        load_settings(None, {option.env_name: text})
    with pytest.raises(ConfigError, match="is not a finite number"):
        load_settings(None, {}).replace(option.section, **{option.key: float(text)})


def test_the_seed_variables_refuse_nan_too():
    for name in ("FACE_SIMILARITY_THRESHOLD", "LIVENESS_CONFIDENCE_THRESHOLD"):
        with pytest.raises(ConfigError, match=f"environment {name}: .* not a finite number"):
            load_settings(None, {name: "nan"})


@pytest.mark.parametrize("kiosk_id, message", [
    ("lobby\x07", "contains a control character"),
    ("x" * 5000, "1 to 64 printable characters"),
    ("   ", "1 to 64 printable characters"),
    (" lobby", "no leading or trailing spaces"),
    ("lobby\u202e", "1 to 64 printable characters"),
])
def test_a_kiosk_id_the_audit_log_would_refuse_is_refused_at_load(kiosk_id, message):
    with pytest.raises(ConfigError, match=f"kiosk.kiosk_id.*{message}"):
        load_settings(None, {"KIOSK_KIOSK_KIOSK_ID": kiosk_id})
    assert load_settings(None, {"KIOSK_KIOSK_KIOSK_ID": "Lobby 2 (east)"}).kiosk.kiosk_id


@pytest.mark.parametrize("env", [
    {"KIOSK_CAMERA_FPS": "\uff13\uff10"},        # full-width "30"
    {"KIOSK_CAMERA_WIDTH": "6_40"},               # int() reads it as 640
    {"KIOSK_LIVENESS_RESPONSE_WINDOW_S": "4_0"},  # float() reads it as 40.0
])
def test_numbers_are_plain_digits_in_the_environment(env):
    (name,) = env
    with pytest.raises(ConfigError, match=f"{name}.* is not valid"):
        load_settings(None, env)


def test_the_accessible_check_asks_no_more_challenges_than_the_ordinary_one():
    assert "liveness.accessible_challenge_count" in {o.name for o in PAIRS}
    with pytest.raises(ConfigError, match="accessible_challenge_count = 4 .* is above "
                                          "liveness.challenge_count = 3"):
        load_settings(None, {"KIOSK_LIVENESS_ACCESSIBLE_CHALLENGE_COUNT": "4"})


@pytest.mark.parametrize("pin", ["\uff11\uff12\uff13\uff14", "12\u0663\u0664", "123", "1234a"])
def test_operator_pins_are_ascii_digits(pin):
    with pytest.raises(ConfigError, match="kiosk.operator_pin must be 4 to 12 digits 0-9"):
        load_settings(None, {"KIOSK_KIOSK_OPERATOR_PIN": pin})


def test_a_hashed_pin_is_accepted_and_matches_only_its_pin(tmp_path, capsys, monkeypatch):
    import io

    from kiosk.cli import main
    from kiosk.settings import pin_matches

    monkeypatch.setattr("sys.stdin", io.StringIO("482913\n"))
    assert main(["settings", "hash-pin"], environ={}) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith('operator_pin = "scrypt$') and "482913" not in line
    path = write(tmp_path, "[kiosk]\n" + line + "\n")
    path.chmod(0o644)  # a hash may be readable
    stored = load_settings(path, {}).kiosk.operator_pin
    assert pin_matches("482913", stored)
    assert not pin_matches("482914", stored)
    # The same digits in another script (full-width, an Arabic keyboard's) are the same PIN:
    # before, they were wrong entries, and five of them locked staff out of the panel.
    assert pin_matches("\uff14\uff18\uff12\uff19\uff11\uff13", stored)
    assert pin_matches("\u0664\u0668\u0662\u0669\u0661\u0663", stored)
    assert pin_matches("\u06f4\u06f8\u06f2\u06f9\u06f1\u06f3", stored)
    assert not pin_matches("\u0664\u0668\u0662\u0669\u0661\u0664", stored)
    assert not pin_matches("48291\u00b3", stored)  # a superscript is no decimal digit
    monkeypatch.setattr("sys.stdin", io.StringIO("12ab\n"))
    assert main(["settings", "hash-pin"], environ={}) == 2


def test_a_byte_order_mark_is_no_setting(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_bytes("\ufeff[liveness]\nchallenge_count = 4\n".encode())
    assert load_settings(path, {}).liveness.challenge_count == 4


def test_an_empty_config_path_is_named_not_read_as_a_folder():
    with pytest.raises(ConfigError, match="--config: no settings file named"):
        load_settings("", {})


def test_paths_may_start_at_home_and_devices_be_paths():
    env = {"KIOSK_AUDIT_DB_PATH": "~/kiosk/kiosk.db", "KIOSK_CAMERA_DEVICE": "/dev/video2"}
    settings = load_settings(None, env)
    assert (settings.audit.db_path, settings.camera.device) == ("~/kiosk/kiosk.db", "/dev/video2")


@pytest.mark.parametrize("mode", [0o666, 0o602])
def test_a_settings_file_others_can_change_is_refused(tmp_path, mode):
    # It sets the thresholds, the PIN's hash and whether virtual cameras are allowed.
    path = write(tmp_path, "[liveness]\nchallenge_count = 4\n")
    path.chmod(mode)
    with pytest.raises(ConfigError, match=f"can be changed by other users \\(mode {mode:04o}\\); "
                                          "run `chmod go-w"):
        load_settings(path, {})
    path.chmod(0o644)
    assert load_settings(path, {}).liveness.challenge_count == 4


def test_a_group_write_bit_is_refused_unless_the_group_is_the_owners_own(tmp_path):
    import grp
    import os
    import pwd

    path = write(tmp_path, "[liveness]\nchallenge_count = 4\n")
    path.chmod(0o664)
    owner = pwd.getpwuid(os.getuid())
    private = set(grp.getgrgid(owner.pw_gid).gr_mem) <= {owner.pw_name}
    if private:  # Debian's umask 002 for a user's own group: nobody else can write it
        assert load_settings(path, {}).liveness.challenge_count == 4
    else:
        with pytest.raises(ConfigError, match="can be changed by other users"):
            load_settings(path, {})


@pytest.mark.parametrize("make", ["dangling link", "folder"])
def test_something_unreadable_at_the_platform_path_is_an_error_not_the_defaults(tmp_path, make):
    """Before, a dangling link or a folder there was skipped: the kiosk ran on the defaults
    (no operator PIN, kiosk-1, the default log) without a word."""
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    path = default_config_path(env, platform="linux")
    path.parent.mkdir(parents=True)
    if make == "folder":
        path.mkdir()
    else:
        path.symlink_to(tmp_path / "etc" / "kiosk.toml")
    with pytest.raises(ConfigError, match=f"settings file {path} "):
        load_settings(None, env)


def test_a_plain_pin_in_a_file_others_can_read_is_refused(tmp_path):
    path = write(tmp_path, '[kiosk]\noperator_pin = "482913"\n')
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="plain PIN in a file other users can read .*0644"):
        load_settings(path, {})
    path.chmod(0o600)
    assert load_settings(path, {}).kiosk.operator_pin == "482913"


def test_the_kiosk_lockout_default_is_sized_for_a_busy_kiosk():
    s = load_settings(None, {})
    assert (s.audit.max_failures, s.audit.kiosk_max_failures) == (5, 15)


# -- the source names every layer; min/max pairs -----------------------------------------------

def test_the_source_names_every_layer_and_never_a_value(tmp_path):
    path = write(tmp_path, "[camera]\nfps = 15\n")
    s = load_settings(path, {"KIOSK_KIOSK_OPERATOR_PIN": "4711", "KIOSK_CAMERA_FPS": "25",
                             "FACE_SIMILARITY_THRESHOLD": "97", "HOME": "/nowhere"})
    assert s.source == (f"defaults + {path} + environment: KIOSK_KIOSK_OPERATOR_PIN, "
                        "KIOSK_CAMERA_FPS, FACE_SIMILARITY_THRESHOLD")
    # The file's own path is pytest's temporary folder, whose name may hold any digits.
    named = s.source.replace(str(path), "PATH")
    assert "4711" not in named and "25" not in named
    assert load_settings(None, {"KIOSK_CAMERA_FPS": "25"}).source == (
        "defaults + environment: KIOSK_CAMERA_FPS")


def test_the_source_leaves_out_the_defaults_when_every_key_is_set():
    env = {o.env_name: str(o.default).lower() if o.kind is bool else str(o.default)
           for o in SCHEMA}
    assert load_settings(None, env).source.startswith("environment: KIOSK_KIOSK_KIOSK_ID")


PAIRS = [o for o in SCHEMA if o.at_most is not None]


def test_every_minimum_names_a_maximum_of_its_section_with_room_for_its_default():
    names = {o.name: o for o in SCHEMA}
    assert "camera.reconnect_min_s" in {o.name for o in PAIRS}
    for option in PAIRS:
        upper = names[f"{option.section}.{option.at_most}"]
        assert upper.kind is option.kind and option.default <= upper.default
        assert f"at most {upper.name}" in option.allowed()


@pytest.mark.parametrize("option", PAIRS, ids=lambda o: o.name)
def test_a_minimum_above_its_maximum_is_refused_from_every_layer(tmp_path, option):
    upper = f"{option.section}.{option.at_most}"
    # Both values are valid alone: above the maximum's lower bound, within the minimum's range.
    low, high = option.kind(option.maximum), option.kind(option.maximum - 1)
    message = (rf"{option.name} = {re.escape(repr(low))} \((?P<o1>[^)]*)\) is above {upper} = "
               rf"{re.escape(repr(high))} \((?P<o2>[^)]*)\); allowed: {option.name} at most "
               rf"{upper}")
    text = f"[{option.section}]\n{option.key} = {low}\n{option.at_most} = {high}\n"
    with pytest.raises(ConfigError, match=message):
        load_settings(write(tmp_path, text), {})
    env = {option.env_name: str(low), f"KIOSK_{upper.replace('.', '_').upper()}": str(high)}
    with pytest.raises(ConfigError, match=rf"\(environment {option.env_name}\)"):
        load_settings(None, env)
    with pytest.raises(ConfigError, match=message):
        load_settings(None, {}).replace(option.section, **{option.key: low,
                                                           option.at_most: high})
    equal = {option.env_name: str(high), f"KIOSK_{upper.replace('.', '_').upper()}": str(high)}
    assert getattr(getattr(load_settings(None, equal), option.section), option.key) == high


def test_reconnect_min_above_the_default_max_names_both_keys():
    with pytest.raises(ConfigError) as err:
        load_settings(None, {"KIOSK_CAMERA_RECONNECT_MIN_S": "9"})
    assert str(err.value) == (
        "camera.reconnect_min_s = 9.0 (environment KIOSK_CAMERA_RECONNECT_MIN_S) is above "
        "camera.reconnect_max_s = 8.0 (default); allowed: camera.reconnect_min_s at most "
        "camera.reconnect_max_s")


@pytest.mark.parametrize("text", [
    "[kiosk]\noperator_pin = 947261\n",                  # a PIN written as a number
    "[kiosk]\noperator_pin = 9472.61\n",
    "[fleet]\nurl = 947261\n",
    "[fleet]\nurl = [\"postgresql://k:947261@db/site\"]\n",
])
def test_a_secret_setting_is_named_never_shown(tmp_path, text):
    """Settings errors reach the console, the log and the out-of-service screen."""
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text), {})
    assert "947261" not in str(info.value) and "9472" not in str(info.value)
    assert "kiosk.operator_pin" in str(info.value) or "fleet.url" in str(info.value)


@pytest.mark.parametrize("contact", ["x" * 161, "Acme\u202eLtd", "line one\u2028line two"])
def test_a_privacy_contact_that_is_not_one_printable_line_is_refused(contact):
    with pytest.raises(ConfigError, match=r"kiosk.privacy_contact .* up to 160 printable"):
        load_settings(None, {"KIOSK_KIOSK_PRIVACY_CONTACT": contact})
    given = "Acme GmbH, Datenschutz: privacy@acme.example (Tel. +49 30 1234)"
    assert load_settings(None, {"KIOSK_KIOSK_PRIVACY_CONTACT": given}).kiosk.privacy_contact \
        == given
