"""The settings schema, derived from the section dataclasses: validation, environment names,
the README table.

Environment overrides are ``KIOSK_<SECTION>_<KEY>`` (upper case), plus the two names the seed
deployment used, ``LIVENESS_CONFIDENCE_THRESHOLD`` and ``FACE_SIMILARITY_THRESHOLD``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.errors import ConfigError
from kiosk.settings.fleeturl import fleet_url_problem
from kiosk.settings.pinhash import is_pin, is_pin_hash
from kiosk.settings.sections import SECTIONS

KIOSK_ID_MAX = 64
#: One line of the consent notice (kiosk.privacy_contact) at the notice's type size.
PRIVACY_CONTACT_MAX = 160
_COLLECTION_ID = re.compile(r"^[a-zA-Z0-9_.\-]{0,255}$")

#: Settings that name a file: relative, they would follow whichever folder a command or the
#: service starts in, and each folder would get a new, empty log and key.
ABSOLUTE_PATHS = ("audit.db_path", "audit.key_file")


def is_device_spec(spec: str | os.PathLike[str]) -> bool:
    """True for a camera index (``"0"``) or a device path (``/dev/video0``)."""
    text = os.fspath(spec).strip()
    return bool(re.fullmatch(r"\d+", text)) or text.startswith("/dev/")


@dataclass(frozen=True)
class Option:
    """The schema of one setting."""

    section: str
    key: str
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    legacy_env: str | None = None
    at_most: str | None = None

    @property
    def kind(self) -> type:
        return type(self.default)

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"

    @property
    def env_name(self) -> str:
        return f"KIOSK_{self.section}_{self.key}".upper()

    def allowed(self) -> str:
        """Human description of the allowed values."""
        if self.at_most is not None:
            return f"{self._range()}, at most {self.section}.{self.at_most}"
        return self._range()

    def _range(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind is bool:
            return "true or false"
        if self.minimum is not None and self.maximum is not None:
            return f"{self.kind.__name__} from {self.minimum:g} to {self.maximum:g}"
        if self.minimum is not None:
            return f"{self.kind.__name__} >= {self.minimum:g}"
        return self.kind.__name__


def _options(section: str, cls: type) -> tuple[Option, ...]:
    return tuple(Option(section, f.name, f.default, help=f.metadata["help"],
                        minimum=f.metadata["minimum"], maximum=f.metadata["maximum"],
                        choices=f.metadata["choices"], legacy_env=f.metadata["legacy_env"],
                        at_most=f.metadata["at_most"])
                 for f in dataclasses.fields(cls))


SCHEMA: tuple[Option, ...] = tuple(o for s, cls in SECTIONS.items() for o in _options(s, cls))
_BY_NAME: dict[tuple[str, str], Option] = {(o.section, o.key): o for o in SCHEMA}

#: Settings whose value is a secret (the PIN; a fleet URL may hold a password): a message about
#: them names the setting, never its value, since settings errors reach the console, the log
#: and the out-of-service screen that anyone at the kiosk can read.
SECRET_SETTINGS = frozenset({"kiosk.operator_pin", "fleet.url"})


def _named(name: str, value: Any) -> str:
    """``name = value`` for a message, or just ``name`` for a secret setting."""
    return name if name in SECRET_SETTINGS else f"{name} = {value!r}"


def _plain_number(raw: str) -> str:
    """``raw`` stripped, refused when int() or float() would read more than plain digits.

    Both take full-width and other Unicode digits, and underscores between digits (``6_40``
    is 640): a typo in an environment variable must not become a different number.
    """
    text = raw.strip()
    if not text.isascii() or "_" in text:
        raise ValueError(raw)
    return text


def coerce(option: Option, raw: str, origin: str) -> Any:
    """Turn an environment string into the option's type."""
    try:
        if option.kind is bool:
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if option.kind is int:
            return int(_plain_number(raw))
        if option.kind is float:
            return float(_plain_number(raw))
    except ValueError:
        raise ConfigError(f"{origin}: {_named(option.name, raw)} is not valid; allowed: "
                          f"{option.allowed()}") from None
    return raw


def validate(section: str, key: str, raw: Any, origin: str) -> Any:
    """Check one value against the schema; return it normalised (ints accepted for floats)."""
    option = _BY_NAME.get((section, key))
    if option is None:
        known = ", ".join(o.key for o in SCHEMA if o.section == section)
        raise ConfigError(f"{origin}: unknown setting {section}.{key}; known keys in "
                          f"[{section}]: {known}")
    name = option.name
    kind: type[Any] = option.kind
    value: Any = raw
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if name == "kiosk.operator_pin" and isinstance(value, int) and not isinstance(value, bool):
        raise ConfigError(f"{origin}: {name} must be written in quotes, as text "
                          '(operator_pin = "0000" style): as a number it would lose its '
                          "leading zeros")
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ConfigError(f"{origin}: {_named(name, value)} has the wrong type; allowed: "
                          f"{option.allowed()}")
    if kind is float and not math.isfinite(value):
        raise ConfigError(f"{origin}: {_named(name, value)} is not a finite number; allowed: "
                          f"{option.allowed()}")
    if kind is str:
        _check_text(name, value, origin)
    if option.choices is not None and value not in option.choices:
        raise ConfigError(f"{origin}: {_named(name, value)} is not allowed; allowed: "
                          f"{option.allowed()}")
    if option.minimum is not None and value < option.minimum or (
            option.maximum is not None and value > option.maximum):
        raise ConfigError(f"{origin}: {_named(name, value)} is out of range; allowed: "
                          f"{option.allowed()}")
    if name == "kiosk.operator_pin" and value and not (is_pin(value) or is_pin_hash(value)):
        raise ConfigError(f"{origin}: {name} must be 4 to 12 digits 0-9, or the hash printed by "
                          "`kiosk settings hash-pin` (or empty to disable the panel)")
    return value


def check_order(values: Mapping[str, Mapping[str, Any]],
                origins: Mapping[str, str]) -> None:
    """Check every min/max pair of the schema (``Option.at_most``) on complete settings.

    Each bound of a pair is valid alone, so only the merged result of every layer (defaults,
    file, environment) can show a minimum above its maximum.

    Parameters
    ----------
    values : mapping of section to {key: value}
        Every setting, defaults included.
    origins : mapping of ``section.key`` to where its value came from
        Keys not listed are defaults.

    Raises
    ------
    ConfigError
        A value above the one it must not exceed; the message names both keys, their values
        and where each came from.
    """
    for option in SCHEMA:
        if option.at_most is None:
            continue
        upper = _BY_NAME[(option.section, option.at_most)]
        low, high = values[option.section][option.key], values[upper.section][upper.key]
        if low > high:
            raise ConfigError(
                f"{option.name} = {low!r} ({origins.get(option.name, 'default')}) is above "
                f"{upper.name} = {high!r} ({origins.get(upper.name, 'default')}); allowed: "
                f"{option.name} at most {upper.name}")


def _check_text(name: str, value: str, origin: str) -> None:
    """Strings that would fail later (in the audit log, a path, an AWS call) fail here."""
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise ConfigError(f"{origin}: {name} contains a control character or bytes that are "
                          "not text; allowed: printable text")
    if name == "kiosk.kiosk_id" and (not value.strip() or value != value.strip()
                                     or len(value) > KIOSK_ID_MAX or not value.isprintable()):
        raise ConfigError(f"{origin}: {name} = {value[:80]!r} is not allowed; allowed: 1 to "
                          f"{KIOSK_ID_MAX} printable characters, no leading or trailing "
                          "spaces (it names this kiosk in the audit log)")
    if name == "kiosk.privacy_contact" and (len(value) > PRIVACY_CONTACT_MAX
                                            or not value.isprintable()):
        raise ConfigError(f"{origin}: {name} = {value[:80]!r} is not allowed; allowed: up to "
                          f"{PRIVACY_CONTACT_MAX} printable characters (one line of the "
                          "consent notice)")
    if name == "fleet.url" and value:
        problem = fleet_url_problem(value)
        if problem is not None:
            raise ConfigError(f"{origin}: {name} is not allowed: {problem}")
    if name in ABSOLUTE_PATHS and value and not os.path.isabs(os.path.expanduser(value)):
        raise ConfigError(f"{origin}: {name} = {value[:200]!r} is not allowed; allowed: an "
                          "absolute path (or one starting with ~): a relative one would follow "
                          "the folder each command starts in, each with its own log")
    if name == "camera.device" and not is_device_spec(value):
        raise ConfigError(f"{origin}: {name} = {value[:80]!r} is not a camera; allowed: an "
                          "index (0, 1, ...) or a device path (/dev/video0); a recording is "
                          "given with --source")
    if name == "matching.collection_id" and not _COLLECTION_ID.match(value):
        raise ConfigError(f"{origin}: {name} = {value[:80]!r} is not allowed; allowed: up to "
                          "255 letters, digits and _ . - (Rekognition's rule)")


def markdown_table() -> str:
    """The README's settings table, generated from the schema."""
    lines = ["| setting | default | allowed | environment | meaning |",
             "|---|---|---|---|---|"]
    for o in SCHEMA:
        env = f"`{o.env_name}`" + (f", `{o.legacy_env}`" if o.legacy_env else "")
        default = json.dumps(o.default) if not isinstance(o.default, str) else f'"{o.default}"'
        lines.append(f"| `{o.name}` | `{default}` | {o.allowed()} | {env} | {o.help} |")
    return "\n".join(lines)
