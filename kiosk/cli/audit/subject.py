"""``--subject NUMBER`` and ``--subject-ref REF``: one person named on the command line, as the
log holds them (a keyed reference), for the commands that act on a person (``unlock``) or
look their attempts up (``list``, ``export``)."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from typing import Any

from kiosk.audit import normalize_subject_number
from kiosk.errors import InputError

#: A subject reference as ``audit show`` prints it (``audit list`` shows its first 12).
SUBJECT_REF = re.compile(r"[0-9a-f]{64}")


def add_subject_options(group: Any, *, number_help: str) -> None:
    """``--subject`` and ``--subject-ref`` on ``group`` (a mutually exclusive group)."""
    group.add_argument("--subject", metavar="NUMBER", help=number_help + " ('-' reads it "
                       "from standard input, keeping it out of the shell history)")
    group.add_argument("--subject-ref", metavar="REF", help="a subject reference as shown by "
                       "'audit show' (64 hex digits)")


def subject_number(value: str | None) -> str | None:
    """``--subject`` checked before the log is opened: ``-`` reads it from standard input;
    empty, blank or dashes only is refused alike (it names nobody)."""
    if value is None:
        return None
    if value == "-":
        value = sys.stdin.readline().strip()
    try:
        normalize_subject_number(value)
    except ValueError as exc:
        raise InputError(f"--subject: {exc}") from None
    return value


def subject_ref(value: str | None) -> str | None:
    """``--subject-ref`` as the log holds it (lower case), or InputError naming what to give."""
    if value is None:
        return None
    ref = value.strip().lower()
    if not SUBJECT_REF.fullmatch(ref):
        # Not repeated: what was typed here by mistake is often the badge number itself.
        raise InputError(f"--subject-ref is not a subject reference ({len(value)} characters "
                         "given): give the 64 hex "
                         "digits `kiosk audit show ID` prints as the subject (`audit list` "
                         "shows only the first 12), or name the person by badge or ID number "
                         "with --subject NUMBER (--subject - reads it from standard input)")
    return ref


def given(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """The number and the reference given (at most one), checked before the log is opened
    (no key is needed to refuse a malformed one)."""
    return subject_number(args.subject), subject_ref(args.subject_ref)


def reference(to_ref: Callable[[str], str], number: str | None,
              ref: str | None) -> str | None:
    """The reference the log holds for the person given, or None when nobody is; ``to_ref``
    hashes a number (``AuditLog.subject_ref`` of a log opened with its subject key, or
    ``SubjectHasher.ref``)."""
    if ref is not None or number is None:
        return ref
    try:
        return to_ref(number)
    except ValueError as exc:
        raise InputError(f"--subject: {exc}") from None
