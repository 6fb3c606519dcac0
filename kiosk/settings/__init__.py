"""One frozen settings object, validated once from a TOML file and environment overrides.

The section dataclasses (:mod:`.sections`) are the single source of truth: the schema
(:mod:`.schema`) derived from them validates files and overrides, renders the README table
(``kiosk settings --markdown``) and documents every default.

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
import stat
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.errors import ConfigError
from kiosk.settings.pinhash import hash_pin, is_pin_hash, pin_matches
from kiosk.settings.schema import (
    SCHEMA,
    Option,
    check_order,
    coerce,
    markdown_table,
    validate,
)
from kiosk.settings.sections import (
    SECTIONS,
    AuditSettings,
    CameraSettings,
    FleetSettings,
    KioskSettings,
    LivenessSettings,
    MatchingSettings,
)

__all__ = [
    "SCHEMA", "SECTIONS", "AuditSettings", "CameraSettings", "FleetSettings", "KioskSettings",
    "LivenessSettings", "MatchingSettings", "Option", "Settings", "default_config_path",
    "default_data_dir", "hash_pin", "is_pin_hash", "load_settings", "markdown_table",
    "pin_matches", "settings_file",
]


@dataclass(frozen=True)
class Settings:
    """Every setting, by section: ``settings.liveness.challenge_count``."""

    kiosk: KioskSettings = dataclasses.field(default_factory=KioskSettings)
    camera: CameraSettings = dataclasses.field(default_factory=CameraSettings)
    liveness: LivenessSettings = dataclasses.field(default_factory=LivenessSettings)
    matching: MatchingSettings = dataclasses.field(default_factory=MatchingSettings)
    audit: AuditSettings = dataclasses.field(default_factory=AuditSettings)
    fleet: FleetSettings = dataclasses.field(default_factory=FleetSettings)
    #: The layers that made these settings: "defaults", the file's path and the environment
    #: variables read (names only), joined by " + ".
    source: str = "defaults"
    #: The settings file read, None when none was (the operator panel names it: its changes
    #: last until a restart, the file's stay).
    file: str | None = None

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
        """A copy with some keys of one section changed, validated like a file.

        Raises
        ------
        ConfigError
            A bad value, or a minimum now above its maximum (see :func:`check_order`).
        """
        for key, value in changes.items():
            validate(section, key, value, origin="replace")
        new_section = dataclasses.replace(getattr(self, section), **changes)
        new = dataclasses.replace(self, **{section: new_section})
        check_order(new.as_dict(), {f"{section}.{key}": "replace" for key in changes})
        return new


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        link = f" (a link to {os.readlink(path)}, which is missing)" if path.is_symlink() else ""
        raise ConfigError(f"settings file {path} does not exist{link}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"settings file {path} cannot be read: {exc}") from None
    try:
        # A byte order mark (Notepad's UTF-8) is no setting: TOML itself refuses it.
        return tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"settings file {path} is not valid TOML: {exc}") from None


def _check_writers(path: Path) -> None:
    """Refuse a settings file that other users can change: it sets the thresholds, the PIN's
    hash and whether virtual cameras are allowed. A group that is the owner's own private
    group (Debian's default umask 002 gives files 664) is no other user."""
    if os.name != "posix":
        return
    info = path.stat()
    mode = stat.S_IMODE(info.st_mode)
    if not stat.S_ISREG(info.st_mode):
        return  # /dev/null: the defaults
    if mode & 0o002 or (mode & 0o020 and not _private_group(info.st_uid, info.st_gid)):
        raise ConfigError(f"settings file {path} can be changed by other users (mode "
                          f"{mode:04o}); run `chmod go-w {path}`")


def _private_group(uid: int, gid: int) -> bool:
    """The group is the owner's primary group and has no other listed member."""
    import grp
    import pwd

    try:
        owner, group = pwd.getpwuid(uid), grp.getgrgid(gid)
    except KeyError:
        return False
    return owner.pw_gid == gid and set(group.gr_mem) <= {owner.pw_name}


def _check_plain_pin(path: Path, pin: str) -> None:
    """Refuse a settings file that holds the plain operator PIN and others can read."""
    if not pin or is_pin_hash(pin) or os.name != "posix":
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o044:
        raise ConfigError(f"{path}: kiosk.operator_pin is a plain PIN in a file other users can "
                          f"read (mode {mode:04o}); run `chmod 600 {path}`, or better store its "
                          "hash: `kiosk settings hash-pin`")


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


def settings_file(path: str | os.PathLike[str] | None, environ: Mapping[str, str]) -> Path:
    """The settings file read: ``path`` (``--config``) when given, else the platform file
    (:func:`default_config_path`), which is read only when it exists."""
    if path is not None and not os.fspath(path).strip():
        raise ConfigError("--config: no settings file named (an empty path)")
    return Path(path) if path is not None else default_config_path(environ)


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

    Returns
    -------
    Settings
        Its ``source`` names every layer that contributed (see :func:`_describe_sources`).

    Raises
    ------
    ConfigError
        Unknown section or key, wrong type, value out of range, a minimum above its maximum;
        the message names the key.
    """
    environ = {} if environ is None else environ
    values: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    # Where each value came from, by "section.key": for the source line and for messages
    # about a pair of keys, whose two values may come from different layers.
    origins: dict[str, str] = {}
    file_path = settings_file(path, environ)
    # Anything at the platform path is read, so a dangling link or a folder there is an
    # error rather than a kiosk that quietly runs on the defaults (no PIN, kiosk-1).
    read_file = path is not None or os.path.lexists(file_path)
    if read_file:
        _apply_file(file_path, values, origins)
    env_names = _apply_environment(environ, values, origins)
    check_order(_with_defaults(values), origins)
    return Settings(kiosk=KioskSettings(**values["kiosk"]),
                    camera=CameraSettings(**values["camera"]),
                    liveness=LivenessSettings(**values["liveness"]),
                    matching=MatchingSettings(**values["matching"]),
                    fleet=FleetSettings(**values["fleet"]),
                    audit=AuditSettings(**values["audit"]),
                    source=_describe_sources(len(origins) < len(SCHEMA),
                                             file_path if read_file else None, env_names),
                    file=str(file_path) if read_file else None)


def _apply_file(file_path: Path, values: dict[str, dict[str, Any]],
                origins: dict[str, str]) -> None:
    """Validate the settings file into ``values``."""
    data = _read_toml(file_path)
    for section, table in data.items():
        home = [s for s in SECTIONS if section in {o.key for o in SCHEMA if o.section == s}]
        if home and not isinstance(table, dict):
            raise ConfigError(f"{file_path}: {section} is outside any section; write it under "
                              f"[{home[0]}]")
        if section not in SECTIONS:
            raise ConfigError(f"{file_path}: unknown section [{section}]; known sections: "
                              + ", ".join(SECTIONS))
        if not isinstance(table, dict):
            raise ConfigError(f"{file_path}: {section} must be a table ([{section}])")
        for key, value in table.items():
            values[section][key] = validate(section, key, value, str(file_path))
            origins[f"{section}.{key}"] = str(file_path)
    _check_writers(file_path)
    _check_plain_pin(file_path, values["kiosk"].get("operator_pin", ""))


def _apply_environment(environ: Mapping[str, str], values: dict[str, dict[str, Any]],
                       origins: dict[str, str]) -> list[str]:
    """Validate the environment overrides into ``values``; return the variables read."""
    used: list[str] = []
    for option in SCHEMA:
        # The seed deployment's name first, so KIOSK_<SECTION>_<KEY> wins when both are set.
        for env_name in filter(None, (option.legacy_env, option.env_name)):
            if env_name in environ:
                origin = f"environment {env_name}"
                raw = coerce(option, environ[env_name], origin)
                values[option.section][option.key] = validate(
                    option.section, option.key, raw, origin)
                origins[option.name] = origin
                used.append(env_name)
    stray = sorted(k for k in environ if k.startswith("KIOSK_")
                   and k not in {o.env_name for o in SCHEMA})
    if stray:
        raise ConfigError(f"environment {stray[0]}: unknown setting; settings are "
                          "KIOSK_<SECTION>_<KEY>, e.g. KIOSK_CAMERA_DEVICE")
    return used


def _with_defaults(values: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every setting: the defaults with ``values`` (section to {key: value}) over them."""
    return {s: {**{f.name: f.default for f in dataclasses.fields(cls)}, **values.get(s, {})}
            for s, cls in SECTIONS.items()}


def _describe_sources(defaults: bool, file_path: Path | None, env_names: list[str]) -> str:
    """The layers that made the settings, e.g.
    ``defaults + /etc/kiosk.toml + environment: KIOSK_CAMERA_FPS``.

    Environment variables are named, never their values (one may hold the operator PIN).
    """
    layers = ["defaults"] if defaults else []
    if file_path is not None:
        layers.append(str(file_path))
    if env_names:
        layers.append("environment: " + ", ".join(env_names))
    return " + ".join(layers)
