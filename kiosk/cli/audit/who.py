"""``--by`` and ``--reason`` of the commands that record what staff did (unlock, override,
pin-reset, purge, new-log), checked as the operator panel checks its fields, before the log is
opened: empty, too long or holding a character a record cannot hold is an InputError naming
the option, never an unexpected error after the log was opened."""

from __future__ import annotations

from kiosk.operator import check_who


def who(by: str | None, reason: str | None, *, reason_limit: int = 500) -> tuple[str, str]:
    """``(name, reason)`` stripped; ``reason_limit`` is the room the record leaves for the
    reason (less where the command adds words of its own).

    Raises
    ------
    InputError
        See :func:`kiosk.operator.check_who`.
    """
    return check_who(by or "", reason or "", name_field="--by", reason_field="--reason",
                     reason_limit=reason_limit)
