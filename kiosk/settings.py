"""One frozen settings object, validated once from a TOML file and environment overrides.

The schema below is the single source of truth: it validates files and overrides, renders
the README table (``kiosk settings --markdown``) and documents every default.

Environment overrides are ``KIOSK_<SECTION>_<KEY>`` (upper case), plus the two names the seed
deployment used, ``LIVENESS_CONFIDENCE_THRESHOLD`` and ``FACE_SIMILARITY_THRESHOLD``. Only the
composition root reads ``os.environ``; it passes a mapping to :func:`load_settings`.

AWS region and credentials are deliberately absent: boto3's standard chain supplies them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.errors import ConfigError


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

    @property
    def kind(self) -> type:
        return type(self.default)

    @property
    def env_name(self) -> str:
        return f"KIOSK_{self.section}_{self.key}".upper()

    def allowed(self) -> str:
        """Human description of the allowed values."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind is bool:
            return "true or false"
        if self.minimum is not None and self.maximum is not None:
            return f"{self.kind.__name__} from {self.minimum:g} to {self.maximum:g}"
        if self.minimum is not None:
            return f"{self.kind.__name__} >= {self.minimum:g}"
        return self.kind.__name__


SCHEMA: tuple[Option, ...] = (
    # kiosk
    Option("kiosk", "kiosk_id", "kiosk-1", "Name of this kiosk in the audit log."),
    Option("kiosk", "mode", "unattended", "Staffed desk or unattended kiosk; decides the offline "
           "policy default and whether the ID-photo step is shown.",
           choices=("unattended", "staffed")),
    Option("kiosk", "operator_pin", "", "PIN that opens the operator panel (4-12 digits); empty "
           "disables the panel."),
    Option("kiosk", "result_seconds", 6.0, "How long the result stays on screen before idle.",
           minimum=2, maximum=60),
    Option("kiosk", "sound", False, "Play a sound with each prompt."),
    Option("kiosk", "approach_s", 1.0, "A well-placed face held this long starts the kiosk from "
           "the idle screen.", minimum=0.3, maximum=5),
    Option("kiosk", "consent_timeout_s", 60.0, "Inactivity on the consent screen before it "
           "returns to idle.", minimum=10, maximum=600),
    Option("kiosk", "identity_timeout_s", 180.0, "Inactivity on the ID-photo step before it "
           "returns to idle.", minimum=30, maximum=1800),
    # camera
    Option("camera", "device", "0", "Camera index or device path (e.g. /dev/video0)."),
    Option("camera", "width", 640, "Requested frame width in pixels.", minimum=160, maximum=3840),
    Option("camera", "height", 480, "Requested frame height in pixels.", minimum=120, maximum=2160),
    Option("camera", "fps", 30, "Requested frames per second.", minimum=5, maximum=120),
    Option("camera", "allow_virtual", False, "Accept virtual cameras (v4l2loopback, OBS): an "
           "injected stream is an attack, so only for development."),
    Option("camera", "mounted", True, "The camera is rigidly mounted (a kiosk): motion of the "
           "surroundings then means a hand-held picture or screen. Set false for a hand-held "
           "or laptop camera."),
    Option("camera", "reconnect_min_s", 0.5, "First wait before reconnecting after an unplug "
           "(doubles up to reconnect_max_s).", minimum=0.05, maximum=10),
    Option("camera", "reconnect_max_s", 8.0, "Longest wait between reconnection attempts after "
           "an unplug.", minimum=0.5, maximum=300),
    # liveness
    Option("liveness", "confidence_threshold", 90.0, "Liveness score (0-100) needed to pass; also "
           "applied to AWS Face Liveness confidence.", minimum=0, maximum=100,
           legacy_env="LIVENESS_CONFIDENCE_THRESHOLD"),
    Option("liveness", "challenge_count", 3, "Challenges per session.", minimum=2, maximum=6),
    Option("liveness", "response_window_s", 4.0, "Seconds allowed to answer each prompt.",
           minimum=2, maximum=20),
    Option("liveness", "turn_angle_deg", 20.0, "Yaw excursion that counts as a head turn.",
           minimum=10, maximum=45),
    Option("liveness", "pitch_angle_deg", 15.0, "Pitch excursion that counts as a nod or a look "
           "up or down.", minimum=8, maximum=30),
    Option("liveness", "settle_s", 0.5, "Pause after an answered prompt, with the head back "
           "near rest, before the next prompt.", minimum=0, maximum=3),
    Option("liveness", "min_reaction_ms", 150, "Responses sooner than this after a prompt are "
           "not human and fail.", minimum=50, maximum=1000),
    Option("liveness", "baseline_s", 1.0, "Seconds of neutral face measured before the first "
           "prompt.", minimum=0.5, maximum=5),
    # matching
    Option("matching", "similarity_threshold", 95.0, "Face similarity (0-100) needed for a "
           "match (Rekognition SimilarityThreshold and the local matcher's calibrated scale).",
           minimum=0, maximum=100, legacy_env="FACE_SIMILARITY_THRESHOLD"),
    Option("matching", "matcher", "auto", "Face matcher: auto uses Rekognition when AWS is "
           "configured and the local matcher otherwise.",
           choices=("auto", "local", "rekognition")),
    Option("matching", "offline_policy", "auto", "What an offline (local) match may do: pass the "
           "person, or only flag the attempt for review. auto = pass when staffed, review when "
           "unattended.", choices=("auto", "pass", "review")),
    Option("matching", "collection_id", "", "Rekognition collection of enrolled members; empty "
           "disables member check-in."),
    Option("matching", "quality_filter", "AUTO", "Rekognition QualityFilter.",
           choices=("NONE", "AUTO", "LOW", "MEDIUM", "HIGH")),
    Option("matching", "connect_timeout_s", 3.0, "AWS connect timeout.", minimum=0.5, maximum=60),
    Option("matching", "read_timeout_s", 10.0, "AWS read timeout.", minimum=1, maximum=120),
    Option("matching", "max_attempts", 3, "AWS attempts per call (botocore retries).",
           minimum=1, maximum=10),
    # audit
    Option("audit", "db_path", "", "SQLite audit database; empty = kiosk.db in the platform data "
           "folder."),
    Option("audit", "retention_days", 30, "Attempts older than this are purged automatically "
           "(0 keeps everything).", minimum=0, maximum=3650),
    Option("audit", "max_failures", 5, "Failed attempts that trigger a lockout.",
           minimum=1, maximum=100),
    Option("audit", "kiosk_max_failures", 5, "Failed attempts of anyone at this kiosk, within "
           "the window, that lock the whole kiosk.", minimum=1, maximum=1000),
    Option("audit", "failure_window_min", 15.0, "Sliding window for counting failures, minutes.",
           minimum=1, maximum=1440),
    Option("audit", "lockout_min", 30.0, "Lockout length, minutes.", minimum=1, maximum=10080),
    Option("audit", "busy_timeout_s", 5.0, "How long a write waits for a locked database "
           "before the kiosk goes out of service.", minimum=0.1, maximum=60),
    Option("audit", "max_db_mb", 0, "Size cap of the audit database in MB, treated like a full "
           "disk when reached (0 = no cap).", minimum=0, maximum=100000),
    Option("audit", "store_best_frame", False, "Keep the best frame, encrypted, with each "
           "attempt."),
    Option("audit", "key_file", "", "Key file for the subject hash and frame encryption; empty = "
           "the OS keyring."),
)

SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(o.section for o in SCHEMA))
_BY_NAME: dict[tuple[str, str], Option] = {(o.section, o.key): o for o in SCHEMA}


def _section_class(section: str) -> type:
    fields = [(o.key, o.kind, dataclasses.field(default=o.default))
              for o in SCHEMA if o.section == section]
    cls = dataclasses.make_dataclass(f"{section.title()}Settings", fields, frozen=True)
    cls.__module__ = __name__  # so settings pickle (the matcher runs in a child process)
    return cls


KioskSettings = _section_class("kiosk")
CameraSettings = _section_class("camera")
LivenessSettings = _section_class("liveness")
MatchingSettings = _section_class("matching")
AuditSettings = _section_class("audit")


@dataclass(frozen=True)
class Settings:
    """Every setting, by section: ``settings.liveness.challenge_count``."""

    kiosk: Any = dataclasses.field(default_factory=KioskSettings)
    camera: Any = dataclasses.field(default_factory=CameraSettings)
    liveness: Any = dataclasses.field(default_factory=LivenessSettings)
    matching: Any = dataclasses.field(default_factory=MatchingSettings)
    audit: Any = dataclasses.field(default_factory=AuditSettings)
    source: str = "defaults"

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """Every setting as nested plain values (no secrets are kept in settings)."""
        return {s: dataclasses.asdict(getattr(self, s)) for s in SECTIONS}

    def digest(self) -> str:
        """SHA-256 of the canonical settings, recorded with each audit row.

        The operator PIN is excluded so the digest reveals nothing about it.
        """
        values = self.as_dict()
        values["kiosk"] = {k: v for k, v in values["kiosk"].items() if k != "operator_pin"}
        blob = json.dumps(values, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def replace(self, section: str, **changes: Any) -> Settings:
        """A copy with some keys of one section changed, validated like a file."""
        for key, value in changes.items():
            _validate(section, key, value, origin="replace")
        new_section = dataclasses.replace(getattr(self, section), **changes)
        return dataclasses.replace(self, **{section: new_section})


def _coerce(option: Option, raw: str, origin: str) -> Any:
    """Turn an environment string into the option's type."""
    name = f"{option.section}.{option.key}"
    try:
        if option.kind is bool:
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if option.kind is int:
            return int(raw.strip())
        if option.kind is float:
            return float(raw.strip())
    except ValueError:
        raise ConfigError(
            f"{origin}: {name} = {raw!r} is not valid; allowed: {option.allowed()}") from None
    return raw


def _validate(section: str, key: str, value: Any, origin: str) -> Any:
    """Check one value against the schema; return it normalised (ints accepted for floats)."""
    option = _BY_NAME.get((section, key))
    if option is None:
        known = ", ".join(o.key for o in SCHEMA if o.section == section)
        raise ConfigError(f"{origin}: unknown setting {section}.{key}; known keys in "
                          f"[{section}]: {known}")
    name = f"{section}.{key}"
    kind = option.kind
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ConfigError(f"{origin}: {name} = {value!r} has the wrong type; allowed: "
                          f"{option.allowed()}")
    if option.choices is not None and value not in option.choices:
        raise ConfigError(f"{origin}: {name} = {value!r} is not allowed; allowed: "
                          f"{option.allowed()}")
    if option.minimum is not None and value < option.minimum or (
            option.maximum is not None and value > option.maximum):
        raise ConfigError(f"{origin}: {name} = {value!r} is out of range; allowed: "
                          f"{option.allowed()}")
    if name == "kiosk.operator_pin" and value and not (value.isdigit() and 4 <= len(value) <= 12):
        raise ConfigError(f"{origin}: {name} must be 4 to 12 digits (or empty to disable)")
    return value


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"settings file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"settings file {path} cannot be read: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"settings file {path} is not valid TOML: {exc}") from None


def default_config_path(environ: Mapping[str, str], platform: str = sys.platform) -> Path:
    """The platform config file: $XDG_CONFIG_HOME/liveness-kiosk/kiosk.toml on Linux."""
    home = Path(environ.get("HOME", "~")).expanduser()
    if platform.startswith("win"):
        base = Path(environ.get("APPDATA", home / "AppData" / "Roaming"))
    elif platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
    return base / "liveness-kiosk" / "kiosk.toml"


def default_data_dir(environ: Mapping[str, str], platform: str = sys.platform) -> Path:
    """The platform data folder: $XDG_DATA_HOME/liveness-kiosk on Linux."""
    home = Path(environ.get("HOME", "~")).expanduser()
    if platform.startswith("win"):
        base = Path(environ.get("LOCALAPPDATA", home / "AppData" / "Local"))
    elif platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / "liveness-kiosk"


def load_settings(path: str | os.PathLike[str] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Load, validate and freeze the settings.

    Parameters
    ----------
    path : path-like, optional
        TOML file given with ``--config``. When None the platform config file is read if it
        exists, and the defaults apply otherwise.
    environ : Mapping[str, str], optional
        Environment to read overrides from (the composition root passes ``os.environ``).

    Raises
    ------
    ConfigError
        Unknown section or key, wrong type, value out of range; the message names the key.
    """
    environ = {} if environ is None else environ
    values: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    source = "defaults"
    file_path = Path(path) if path is not None else default_config_path(environ)
    if path is not None or file_path.is_file():
        data = _read_toml(file_path)
        source = str(file_path)
        for section, table in data.items():
            if section not in SECTIONS:
                raise ConfigError(f"{file_path}: unknown section [{section}]; known sections: "
                                  + ", ".join(SECTIONS))
            if not isinstance(table, dict):
                raise ConfigError(f"{file_path}: {section} must be a table ([{section}])")
            for key, value in table.items():
                values[section][key] = _validate(section, key, value, str(file_path))

    for option in SCHEMA:
        for env_name in filter(None, (option.legacy_env, option.env_name)):
            if env_name in environ:
                raw = _coerce(option, environ[env_name], f"environment {env_name}")
                values[option.section][option.key] = _validate(
                    option.section, option.key, raw, f"environment {env_name}")
    stray = sorted(k for k in environ if k.startswith("KIOSK_")
                   and k not in {o.env_name for o in SCHEMA})
    if stray:
        raise ConfigError(f"environment {stray[0]}: unknown setting; settings are "
                          "KIOSK_<SECTION>_<KEY>, e.g. KIOSK_CAMERA_DEVICE")

    sections = {s: globals()[f"{s.title()}Settings"](**values[s]) for s in SECTIONS}
    return Settings(**sections, source=source)


def markdown_table() -> str:
    """The README's settings table, generated from the schema."""
    lines = ["| setting | default | allowed | environment | meaning |",
             "|---|---|---|---|---|"]
    for o in SCHEMA:
        env = f"`{o.env_name}`" + (f", `{o.legacy_env}`" if o.legacy_env else "")
        default = json.dumps(o.default) if not isinstance(o.default, str) else f'"{o.default}"'
        lines.append(f"| `{o.section}.{o.key}` | `{default}` | {o.allowed()} | {env} | {o.help} |")
    return "\n".join(lines)
