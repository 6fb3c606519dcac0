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


WORD = 'unexpected word (not shown): quote a value that holds a space, e.g. --subject "AB 4711"'


@pytest.mark.parametrize("argv, prog, error", [
    (["audit", "list", "--bogus"], "kiosk audit list", "unrecognized arguments: --bogus"),
    (["audit", "--bogus"], "kiosk audit", "unrecognized arguments: --bogus"),
    (["track", "x.mp4", "--bogus"], "kiosk track", "unrecognized arguments: --bogus"),
    (["simulate", "print", "a.mp4", "b.avi", "--bogus", "1"], "kiosk simulate print",
     f"unrecognized arguments: --bogus; 1 {WORD}"),
])
def test_an_unknown_option_shows_its_own_commands_usage(argv, prog, error, capsys):
    err = usage_error(argv, capsys)
    assert err.startswith(f"usage: {prog} [-h]")
    assert err.rstrip().endswith(f"{prog}: error: {error}")


def test_the_rest_of_an_unquoted_badge_number_is_counted_not_echoed(capsys):
    """``--subject AB 4711``: the shell splits the number, and an error that repeated "4711"
    would print part of it on the screen."""
    err = usage_error(["verify", "--source", "x.mp4", "--subject", "AB", "4711", "C9"], capsys)
    assert err.rstrip().endswith("kiosk verify: error: 2 unexpected words (not shown): quote a "
                                 'value that holds a space, e.g. --subject "AB 4711"')
    assert "C9" not in err and err.count("4711") == 1  # only in the example


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
