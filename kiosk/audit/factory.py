"""Opening the kiosk's audit log from the settings, with its keys."""

from __future__ import annotations

import dataclasses
import logging
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.audit import errors as e
from kiosk.audit.config import AuditConfig, resolve_db_path
from kiosk.audit.errors import AuditUnavailable, KeyUnavailable
from kiosk.audit.keys import KEY_BYTES, ChainKey, SubjectHasher, derive_key
from kiosk.audit.keystore import KeyStore
from kiosk.audit.log import AuditLog
from kiosk.audit.register import Replacement, check_not_lost, confirm
from kiosk.audit.startup import startup_check
from kiosk.audit.timeutil import Clock, to_iso, utc_now

log = logging.getLogger(__name__)


def key_store(settings: Any, db_path: str | Path, *, keyring_backend: Any = None,
              create: bool = True) -> KeyStore:
    """The key store for a database: ``settings.audit.key_file``, the default key file in the
    folder beside the database's (``<folder>-keys``), or the OS keyring (see
    :mod:`kiosk.audit.keystore`). ``create=False`` for commands that only read."""
    folder = None if str(db_path) == ":memory:" else \
        Path(db_path).expanduser().absolute().parent
    return KeyStore(key_file=settings.audit.key_file or None, db_folder=folder,
                    keyring_backend=keyring_backend, create=create)


def check_takes_new_key(path: str | Path, config: AuditConfig, key_file: Path, *,
                        clock: Clock = utc_now) -> None:
    """Raise what :meth:`AuditLog.open` would raise for the log at ``path`` with a new key,
    and keep nothing of that key.

    Opens the database with :meth:`AuditLog.open` (creating a missing one) and binds a
    throwaway key in a write that is rolled back (``rehearse=True``). So the new
    ``key_file`` is created only once the log is known to open and take a key: a database
    that cannot be opened, created or written, or that was written without a key or with
    another one, leaves no orphan key file (nor a warning to back one up).

    Raises
    ------
    AuditUnavailable
        As :meth:`AuditLog.open`.
    KeyUnavailable
        (reason ``no_key``) the log was keyed with a key that none of the sources holds now.
        A log keyed while ``key_file`` appeared (another process opening the same new log)
        is no error: the caller's open then reads that key and checks it.
    """
    master = secrets.token_bytes(KEY_BYTES)
    # No frame is written in a rehearsal: the frame key is not what is being checked.
    rehearsal = dataclasses.replace(config, store_best_frame=False)
    try:
        AuditLog.open(path, rehearsal, clock=clock,
                      subject_hasher=SubjectHasher(derive_key(master, "subject-ref")),
                      chain_key=ChainKey(derive_key(master, "chain")), rehearse=True).close()
    except KeyUnavailable as exc:
        if exc.reason != e.KEY_MISMATCH:
            raise
        if key_file.exists():
            # Another process (a second `kiosk verify` on the same new log) made the key file
            # and keyed the log with it since this one looked: the open that follows reads
            # that key and checks it against the log.
            return
        raise KeyUnavailable(f"the audit log {path} was written with a key that is missing "
                             f"now (no audit.key_file, no {key_file}, no OS keyring entry); "
                             "restore the key it was written with: a new key would not match "
                             "its subjects nor its chain", reason=e.NO_KEY,
                             path=str(key_file)) from None


def check_configured_folder(settings: Any, path: Path) -> None:
    """AuditUnavailable (``missing``) when ``audit.db_path`` is set and its folder does not
    exist: a mistyped path must not start a new, empty audit log that knows none of the
    lockouts (as ``--db`` is refused). The default path's folder is the kiosk's own data
    folder, made at first start."""
    if settings.audit.db_path and not path.expanduser().absolute().parent.exists():
        raise AuditUnavailable(f"audit.db_path {path}: the folder {path.parent} does not exist "
                               "(a new audit log is only started in an existing folder; make "
                               "it, and a running kiosk opens the log by itself, or correct the "
                               "setting and start the kiosk again)", reason=e.MISSING, path=str(path))


def open_kiosk_log(settings: Any, data_dir: str | Path, *, clock: Clock = utc_now,
                   keyring_backend: Any = None, monotonic: Callable[[], float] | None = None,
                   fleet: bool = True, replacing: Replacement | None = None,
                   **config_overrides: Any) -> AuditLog:
    """The audit log as the running kiosk uses it.

    Refuses a path whose log is gone or was replaced (:mod:`kiosk.audit.register`); opens
    (creating or upgrading) the database at :func:`resolve_db_path` with its keys
    (subject key, chain key, and the frame key when ``settings.audit.store_best_frame``); a
    new default key file is created only after :func:`check_takes_new_key` found that the
    database opens and takes it; keys the chain of a new or migrated log; checks the guard
    triggers, the recent tail of the chain and the lockouts (:mod:`kiosk.audit.startup`);
    compares the clock with the last recorded time (:mod:`kiosk.audit.clock`); closes any
    attempt a killed run left open as ``INTERRUPTED``; and purges by retention unless the
    clock was just reported. With ``fleet.url`` set (and ``fleet`` true) it attaches the fleet
    link (:func:`attach_fleet`): the lockout checks then consult the fleet server, and
    :meth:`AuditLog.start_fleet` starts shipping rows to it.

    Parameters
    ----------
    settings : kiosk.settings.Settings
    data_dir : path-like
        ``kiosk.settings.default_data_dir(environ)``, computed by the composition root.
    clock : callable, optional
        Aware-UTC clock (tests inject one).
    keyring_backend : object, optional
        A ``keyring`` backend; the system default when omitted.
    monotonic : callable, optional
        See :meth:`AuditLog.open`.
    fleet : bool
        Attach the fleet link when ``fleet.url`` is set (False: a stand-alone log).
    replacing : Replacement, optional
        Staff declared the registered log lost (``kiosk audit new-log``): a new log is begun
        at the path, records the loss first, and is registered in its place.
    **config_overrides :
        Fields of :class:`AuditConfig` not in the settings (``busy_timeout_s``,
        ``max_db_bytes``, ``limits`` ...).

    Raises
    ------
    AuditUnavailable
        The database or a key cannot be used, or the start-up check found it altered;
        ``str(error)`` says why (show it, stay out of service).
    """
    path = resolve_db_path(settings, data_dir)
    lost = replacing.lost.db_id if replacing is not None else None
    key_file = settings.audit.key_file or None
    check_not_lost(path, key_file=key_file, replacing=lost)  # before anything creates a file
    check_configured_folder(settings, path)
    config = AuditConfig.from_settings(settings, **config_overrides)
    keys = key_store(settings, path, keyring_backend=keyring_backend)
    cipher = keys.frame_cipher() if config.store_best_frame else None
    new_key_file = keys.new_key_file()
    if new_key_file is not None:  # the database must open before its key file is made
        check_takes_new_key(path, config, new_key_file, clock=clock)
    audit = AuditLog.open(path, config, clock=clock, subject_hasher=keys.subject_hasher(),
                          frame_cipher=cipher, chain_key=keys.chain_key(), auto_purge=True,
                          monotonic=monotonic, reserve=True)
    try:
        startup_check(audit)
        if replacing is not None:
            audit.record_action("log_replaced", actor=replacing.actor,
                                reason=replacing.reason, details=replacing.details)
        db_id = audit.chain_head().db_id
        if db_id is not None:  # every log since schema 3 has one; :memory: is never registered
            confirm(path, db_id, now=to_iso(clock()), key_file=key_file, replacing=lost)
        if fleet:
            attach_fleet(audit, settings, subject_key_id=keys.subject_hasher().key_id,
                         clock=clock)
        report = audit.check_start_clock()
        audit.recover_interrupted()
        if report is None:
            audit._purge_due(raise_errors=True)
        else:  # the next comes AUTO_PURGE_INTERVAL later, by a write or the idle loop
            audit.defer_purge()
            log.warning("the automatic purge waits: %s", report)
    except BaseException:
        audit.close()
        raise
    return audit


def attach_fleet(audit: AuditLog, settings: Any, *, subject_key_id: str | None,
                 clock: Clock = utc_now) -> None:
    """Attach the fleet link of ``settings.fleet`` to ``audit`` (nothing when ``fleet.url``
    is empty). The link does not ship until :meth:`AuditLog.start_fleet`.

    psycopg is imported only here, so a kiosk without a fleet never loads it.
    """
    from kiosk.audit.fleet import FleetConfig, FleetLink

    config = FleetConfig.from_settings(settings)
    if config is None:
        return
    if audit.path == ":memory:":
        raise ValueError("a fleet needs an audit database file, not :memory:")
    # The log's own monotonic clock: the link sees a change of the date the log has not
    # recorded yet by the same measure the log will record it with.
    audit.fleet = FleetLink(config, audit_path=audit.path, kiosk_id=audit.config.kiosk_id,
                            subject_key_id=subject_key_id, limits=audit.config.limits,
                            clock=clock, busy_timeout_s=audit.config.busy_timeout_s,
                            monotonic=audit.monotonic)
    log.info("fleet: this kiosk ships its audit rows to %s", config.where)
