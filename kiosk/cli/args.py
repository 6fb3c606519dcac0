"""Argument types shared by the commands: numbers with their allowed range, parsed values.

Each returns the value or raises ``argparse.ArgumentTypeError`` with a message naming the
text and what is allowed, which argparse prints as ``kiosk CMD: error: argument ...``.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def whole_number(minimum: int) -> Callable[[str], int]:
    """An integer of at least ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= {minimum}")
        return value
    return parse


def number(*, above: float | None = None, below: float | None = None,
           at_least: float | None = None) -> Callable[[str], float]:
    """A finite float with ``value > above``, ``value >= at_least`` and ``value < below``
    (each bound when given)."""
    bounds = [f"{op} {bound:g}" for op, bound in ((">", above), (">=", at_least), ("<", below))
              if bound is not None]

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or (above is not None and value <= above) or (
                at_least is not None and value < at_least) or (
                below is not None and value >= below):
            raise argparse.ArgumentTypeError(f"{text!r} is not a number "
                                             + " and ".join(bounds))
        return value
    return parse


def parsed(parse: Callable[[str], T]) -> Callable[[str], T]:
    """Turn a parser that raises ValueError into an argparse type."""
    def wrapper(text: str) -> T:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    wrapper.__name__ = getattr(parse, "__name__", "value")
    return wrapper


WHOLE_NUMBER = whole_number(0)
POSITIVE_WHOLE_NUMBER = whole_number(1)
POSITIVE_NUMBER = number(above=0)
FRACTION = number(at_least=0, below=1)
