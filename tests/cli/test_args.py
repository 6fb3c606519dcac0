"""The commands' shared argument types."""

from __future__ import annotations

import argparse

import pytest

from kiosk.cli.args import FRACTION, POSITIVE_NUMBER, WHOLE_NUMBER, number, parsed, whole_number


@pytest.mark.parametrize("text", ["-1", "x", "1.5", ""])
def test_whole_number_refuses(text):
    with pytest.raises(argparse.ArgumentTypeError, match=r"is not a whole number >= 0"):
        WHOLE_NUMBER(text)


def test_whole_number_accepts_its_minimum():
    assert WHOLE_NUMBER("0") == 0 and whole_number(3)("3") == 3


@pytest.mark.parametrize("text", ["0", "-2", "nan", "inf", "x"])
def test_positive_number_refuses(text):
    with pytest.raises(argparse.ArgumentTypeError, match=r"is not a number > 0"):
        POSITIVE_NUMBER(text)


def test_fraction_is_half_open():
    assert FRACTION("0") == 0.0 and FRACTION("0.99") == 0.99
    with pytest.raises(argparse.ArgumentTypeError, match=r"is not a number >= 0 and < 1"):
        FRACTION("1")
    assert number(above=1, below=2)("1.5") == 1.5


def test_parsed_turns_value_errors_into_argument_errors():
    def even(text: str) -> int:
        if int(text) % 2:
            raise ValueError(f"{text} is odd")
        return int(text)

    assert parsed(even)("4") == 4
    with pytest.raises(argparse.ArgumentTypeError, match="3 is odd"):
        parsed(even)("3")
