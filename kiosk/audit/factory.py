"""Opening the kiosk's audit log from the settings, with its keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.audit.config import AuditConfig, resolve_db_path
from kiosk.audit.keys import KeyStore
from kiosk.audit.log import AuditLog
from kiosk.audit.timeutil import Clock, utc_now


def key_store(settings: Any, db_path: str | Path, *, keyring_backend: Any = None) -> KeyStore:
    """The key store for a database: ``settings.audit.key_file``, the file beside the database,
    or the OS keyring (see :mod:`kiosk.audit.keys`)."""
    fallback = None if str(db_path) == ":memory:" else Path(db_path).expanduser().absolute().parent
    return KeyStore(key_file=settings.audit.key_file or None, fallback_dir=fallback,
                    keyring_backend=keyring_backend)


def open_kiosk_log(settings: Any, data_dir: str | Path, *, clock: Clock = utc_now,
                   keyring_backend: Any = None, **config_overrides: Any) -> AuditLog:
    """The audit log as the running kiosk uses it.

    Opens (creating or upgrading) the database at :func:`resolve_db_path`, loads the subject
    key and, when ``settings.audit.store_best_frame``, the frame key; purges by retention; and
    closes any attempt a previous run left open as ``INTERRUPTED``.

    Parameters
    ----------
    settings : kiosk.settings.Settings
    data_dir : path-like
        ``kiosk.settings.default_data_dir(environ)``, computed by the composition root.
    clock : callable, optional
        Aware-UTC clock (tests inject one).
    keyring_backend : object, optional
        A ``keyring`` backend; the system default when omitted.
    **config_overrides :
        Fields of :class:`AuditConfig` not in the settings (``busy_timeout_s``,
        ``max_db_bytes``, ``limits`` ...).

    Raises
    ------
    AuditUnavailable
        The database or a key cannot be used; ``str(error)`` says why (show it, stay out of
        service).
    """
    path = resolve_db_path(settings, data_dir)
    config = AuditConfig.from_settings(settings, **config_overrides)
    keys = key_store(settings, path, keyring_backend=keyring_backend)
    cipher = keys.frame_cipher() if config.store_best_frame else None
    audit = AuditLog.open(path, config, clock=clock, subject_hasher=keys.subject_hasher(),
                          frame_cipher=cipher, auto_purge=True)
    try:
        audit.recover_interrupted()
    except BaseException:
        audit.close()
        raise
    return audit
