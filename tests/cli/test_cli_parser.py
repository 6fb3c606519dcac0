"""Command-line mistakes are named, with the usage of the command they were made in."""

from __future__ import annotations

import pytest

from kiosk.cli import main


def usage_error(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(argv, {})
    assert exit_.value.code == 2
    return capsys.readouterr().err


def test_an_unknown_option_is_named_before_a_missing_command(capsys):
    err = usage_error(["--bogus"], capsys)
    assert err.startswith("usage: kiosk [-h]")
    assert err.rstrip().endswith("kiosk: error: unrecognized arguments: --bogus")


@pytest.mark.parametrize("argv, prog", [
    (["audit", "list", "--bogus"], "kiosk audit list"),
    (["audit", "--bogus"], "kiosk audit"),
    (["track", "x.mp4", "--bogus"], "kiosk track"),
    (["simulate", "print", "a.mp4", "b.avi", "--bogus", "1"], "kiosk simulate print"),
])
def test_an_unknown_option_shows_its_own_commands_usage(argv, prog, capsys):
    err = usage_error(argv, capsys)
    assert err.startswith(f"usage: {prog} [-h]")
    assert err.rstrip().endswith(f"{prog}: error: unrecognized arguments: "
                                 + " ".join(argv[argv.index("--bogus"):]))


@pytest.mark.parametrize("argv, prog, missing", [
    ([], "kiosk", "COMMAND"),
    (["audit"], "kiosk audit", "SUBCOMMAND"),
    (["simulate"], "kiosk simulate", "ATTACK"),
])
def test_a_missing_command_is_still_required(argv, prog, missing, capsys):
    err = usage_error(argv, capsys)
    assert err.startswith(f"usage: {prog} [-h]")
    assert err.rstrip().endswith(f"{prog}: error: the following arguments are required: "
                                 f"{missing}")


def test_an_optional_sub_command_may_be_left_out(tmp_path, capsys):
    assert main(["settings"], {"HOME": str(tmp_path)}) == 0
    assert '"source": "defaults"' in capsys.readouterr().out
