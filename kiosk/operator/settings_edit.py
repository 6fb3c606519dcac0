"""The settings an operator may change at the kiosk, parsed and validated like a file."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.errors import ConfigError
from kiosk.settings import SCHEMA, Option, Settings

EDITABLE: tuple[str, ...] = (
    "liveness.confidence_threshold",
    "matching.similarity_threshold",
    "liveness.challenge_count",
    "liveness.response_window_s",
    "matching.offline_policy",
    "camera.device",
)
"""``section.key`` names the panel edits. The PIN, the audit database and the keys are not
among them: those are changed in the settings file by whoever administers the kiosk."""

LABELS: dict[str, str] = {
    "liveness.confidence_threshold": "Liveness threshold",
    "matching.similarity_threshold": "Face similarity threshold",
    "liveness.challenge_count": "Challenges per session",
    "liveness.response_window_s": "Seconds to answer each prompt",
    "matching.offline_policy": "Offline match policy",
    "camera.device": "Camera device",
}

_OPTIONS: dict[str, Option] = {f"{o.section}.{o.key}": o for o in SCHEMA}


@dataclass(frozen=True)
class SettingField:
    """One editable setting as the form shows it."""

    name: str
    label: str
    value: Any
    text: str
    allowed: str
    choices: tuple[str, ...] | None
    help: str


def keep_hint(settings: Settings) -> str:
    """What a change made in the panel lasts, and where to make it to keep it: the panel
    writes no file, so the settings file's values are back after a restart."""
    where = (f"the settings file {settings.file}" if settings.file is not None else
             "a settings file (none was read at start; `kiosk settings` shows where the kiosk "
             "looks for it)")
    return ("A change made here applies at once and only until the kiosk restarts: nothing "
            f"is saved. To keep it, make it in {where}.")


def value_text(value: Any) -> str:
    """How a value is written in the form (``90`` rather than ``90.0``)."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def setting_fields(settings: Settings) -> list[SettingField]:
    """The editable settings with their current values, in :data:`EDITABLE` order."""
    fields = []
    for name in EDITABLE:
        option = _OPTIONS[name]
        value = getattr(getattr(settings, option.section), option.key)
        fields.append(SettingField(name, LABELS[name], value, value_text(value),
                                   option.allowed(), option.choices, option.help))
    return fields


def parse_value(name: str, raw: Any) -> Any:
    """Turn form text into the setting's type; numbers and choices pass through.

    Raises
    ------
    ConfigError
        Not an editable setting, or text that is not a number of the right kind; the message
        names the key and the allowed values.
    """
    option = _OPTIONS.get(name)
    if option is None or name not in EDITABLE:
        raise ConfigError(f"{name} cannot be changed from the operator panel; editable: "
                          + ", ".join(EDITABLE))
    if not isinstance(raw, str) or option.kind is str:
        return raw.strip() if isinstance(raw, str) else raw
    text = raw.strip()
    kind = "a whole number" if option.kind is int else "a number"
    try:
        if not text.isascii():  # int() and float() take full-width and other digits
            raise ValueError(text)
        value = int(text) if option.kind is int else float(text)
    except ValueError:
        raise ConfigError(f"{name} = {text!r} is not {kind}{_comma_hint(text, option.kind)}; "
                          f"allowed: {option.allowed()}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{name} = {text!r} is not a finite number; allowed: "
                          f"{option.allowed()}")
    return value


def _comma_hint(text: str, kind: type) -> str:
    """How to write a decimal comma (``92,5``), as many desks do: refused, since a comma also
    groups thousands (``1,000``, which gets no hint), but named so that staff see what to
    type."""
    if kind is not float or text.count(",") != 1 or not text.isascii():
        return ""
    if len(text.partition(",")[2]) == 3:  # thousands, or too unclear to rewrite
        return ""
    try:
        float(dotted := text.replace(",", "."))
    except ValueError:
        return ""
    return f" (write the decimal point as a dot: {dotted})"


def propose(settings: Settings, changes: Mapping[str, Any]) -> tuple[Settings, dict[str, tuple]]:
    """The settings with ``changes`` applied, validated by :meth:`Settings.replace`.

    Parameters
    ----------
    changes : mapping of ``section.key`` to text or value
        Unchanged values may be included; they are left out of the returned difference.

    Returns
    -------
    (Settings, dict)
        The new settings and ``{name: (old, new)}`` for the values that differ.

    Raises
    ------
    ConfigError
        The first bad value; the message names the key and its allowed range or choices.
    """
    parsed = {name: parse_value(name, raw) for name, raw in changes.items()}
    by_section: dict[str, dict[str, Any]] = {}
    for name, value in parsed.items():
        section, key = name.split(".", 1)
        by_section.setdefault(section, {})[key] = value
    new = settings
    for section, values in by_section.items():
        try:
            new = new.replace(section, **values)
        except ConfigError as exc:
            raise ConfigError(str(exc).removeprefix("replace: ")) from None
    diff = {}
    for name in parsed:
        section, key = name.split(".", 1)
        old, value = getattr(getattr(settings, section), key), getattr(getattr(new, section), key)
        if old != value:
            diff[name] = (old, value)
    return new, diff
