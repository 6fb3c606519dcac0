"""Opening the audit database, its connection settings, and SQLite errors as typed errors.

Opening the file itself is :mod:`kiosk.audit.connection`'s job. One ``sqlite3`` connection per
:class:`~kiosk.audit.log.AuditLog`, wrapped in a
``sqlite_utils.Database``; the log serialises its threads with a lock. The connection runs in
autocommit mode (``isolation_level=None``) and every write is an explicit ``BEGIN IMMEDIATE``
transaction: it takes SQLite's write lock before reading the chain head, so writers in other
processes (the ``kiosk audit`` command beside a running kiosk) queue on the busy timeout
instead of forking the chain.

Settings on each connection: WAL journal (readers never block the writer), ``synchronous=FULL``
(a committed attempt survives a power cut, not only a crash), ``secure_delete`` (purged rows are
overwritten, not left in free pages), foreign keys on, ``trusted_schema`` off.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlite_utils import Database

from kiosk.audit import errors as e
from kiosk.audit.chain import set_state
from kiosk.audit.errors import AuditError, AuditUnavailable, KeyUnavailable
from kiosk.audit.keys import ChainKey
from kiosk.audit.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from kiosk.audit.signer import ChainSigner, chain_state

log = logging.getLogger(__name__)

MEMORY = ":memory:"
#: The ``doing`` of :func:`guard` while the database itself is being opened.
OPENING = "opening it"


def describe(path: str | Path) -> str:
    """How error messages name the database."""
    return "the in-memory audit database" if str(path) == MEMORY else f"the audit database {path}"


def unavailable(exc: BaseException, path: str | Path, busy_timeout_s: float,
                doing: str) -> AuditError:
    """Turn a ``sqlite3`` or OS error into the typed error the kiosk shows.

    Parameters
    ----------
    exc : BaseException
        The ``sqlite3.Error`` or ``OSError`` caught.
    path : str or Path
        The database file (for the message).
    busy_timeout_s : float
        The busy timeout in force (a lock message says how long it waited).
    doing : str
        What was being done, e.g. ``"recording an attempt"``.
    """
    where = describe(path)
    path_text = str(path)
    if isinstance(exc, OSError):
        # "cannot be opened while opening it" says nothing twice.
        during = "" if doing == OPENING else f" while {doing}"
        if exc.errno == errno.ELOOP:
            return AuditUnavailable(f"{where} cannot be opened{during}: a symbolic link "
                                    f"on its path points back to itself ({exc.filename or path})",
                                    reason=e.CANNOT_OPEN, path=path_text)
        if exc.errno == errno.ENOSPC:
            return AuditUnavailable(f"the disk holding {where} is full while {doing}; free "
                                    "space or purge old attempts (kiosk audit purge)",
                                    reason=e.FULL, path=path_text)
        return AuditUnavailable(f"{where} cannot be opened{during}: "
                                f"{exc.strerror or exc}", reason=e.CANNOT_OPEN, path=path_text)
    if isinstance(exc, sqlite3.ProgrammingError):
        return AuditError(f"{where} cannot be used while {doing}: {exc}")
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    detail = str(exc)
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return AuditUnavailable(f"{where} is locked by another program (waited "
                                f"{busy_timeout_s:g} s while {doing})", reason=e.LOCKED,
                                path=path_text)
    if primary == sqlite3.SQLITE_READONLY:
        return AuditUnavailable(f"{where} is read-only, so attempts cannot be recorded (check "
                                "the file's permissions and the disk's mount options)",
                                reason=e.READ_ONLY, path=path_text)
    if primary == sqlite3.SQLITE_FULL:
        return AuditUnavailable(f"the disk holding {where} is full or the database reached "
                                f"its size limit while {doing}; free space or purge old "
                                "attempts (kiosk audit purge)", reason=e.FULL, path=path_text)
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return AuditUnavailable(f"{where} is damaged or not a database ({detail}); move it "
                                "aside and restore a backup", reason=e.CORRUPT, path=path_text)
    if primary == sqlite3.SQLITE_CANTOPEN:
        return AuditUnavailable(f"{where} cannot be opened ({detail}); check that its folder "
                                "exists and is writable", reason=e.CANNOT_OPEN, path=path_text)
    if primary == sqlite3.SQLITE_IOERR and _no_room(path):
        # SQLite says "disk I/O error" when a full disk leaves no room for its journal or
        # its shared-memory file, before any write could say "full".
        return AuditUnavailable(f"the disk holding {where} is full (no room left for the "
                                f"database's journal) while {doing}; free space or purge "
                                "old attempts (kiosk audit purge)", reason=e.FULL,
                                path=path_text)
    if primary == sqlite3.SQLITE_IOERR:
        return AuditUnavailable(f"the disk holding {where} reported an I/O error while "
                                f"{doing} ({detail})", reason=e.IO_ERROR, path=path_text)
    if primary == sqlite3.SQLITE_CONSTRAINT:
        return AuditError(f"{where} refused a change while {doing}: {detail}")
    return AuditUnavailable(f"{where} failed while {doing}: {detail}", reason=e.IO_ERROR,
                            path=path_text)


#: Free bytes below which an I/O error is taken for a full disk: less than the journal's
#: shared-memory index (32 KiB) and a few pages need.
NO_ROOM_BYTES = 64 * 1024


def _no_room(path: str | Path) -> bool:
    """Whether the folder holding ``path`` has (almost) no free space left."""
    if str(path) == MEMORY:
        return False
    try:
        return shutil.disk_usage(Path(path).parent).free < NO_ROOM_BYTES
    except OSError:
        return False


@contextlib.contextmanager
def guard(path: str | Path, busy_timeout_s: float, doing: str) -> Iterator[None]:
    """Re-raise ``sqlite3`` and OS errors inside the block as typed audit errors."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        raise unavailable(exc, path, busy_timeout_s, doing) from exc


def file_identity(path: str) -> tuple[int, int] | None:
    """``(device, inode)`` of the database file at ``path``; None in memory or when no file
    is there. An open connection keeps writing to its file after the path is renamed or
    unlinked, so comparing this with the identity at open tells whether rows written now
    would land in the file the path names."""
    if path == MEMORY:
        return None
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


@contextlib.contextmanager
def write_transaction(db: Database, *, commit: bool = True) -> Iterator[Database]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back when the block raises, and always with
    ``commit=False`` (a rehearsal: the block's writes are checked, then undone)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.rollback()
        raise
    if not commit:
        db.execute("ROLLBACK")
        return
    # A failed COMMIT (disk full at the last moment) leaves the transaction open: roll back.
    try:
        db.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.rollback()
        raise


@contextlib.contextmanager
def read_snapshot(db: Database) -> Iterator[Database]:
    """A read transaction: every query in the block sees the same committed state."""
    db.execute("BEGIN")
    try:
        yield db
    finally:
        with contextlib.suppress(sqlite3.Error):
            db.rollback()


def quick_check(db: Database, path: str | Path) -> None:
    """``PRAGMA quick_check``: raise AuditUnavailable(``corrupt``) naming the first problem."""
    problems = [row[0] for row in db.execute("PRAGMA quick_check(5)").fetchall()]
    if problems != ["ok"]:
        # SQLite's report may span lines ("*** in database main ***", then the pages): the
        # first real line says enough for one line of error.
        lines = [line.strip() for problem in problems for line in str(problem).splitlines()
                 if line.strip() and not line.lstrip().startswith("***")]
        first = lines[0] if lines else "integrity check failed"
        raise AuditUnavailable(f"{describe(path)} is damaged ({first}); move it aside and "
                               "restore a backup", reason=e.CORRUPT, path=str(path))


def holds_no_log(path: str | Path) -> AuditUnavailable:
    """The error for a file with no audit log in it (empty, or SQLite's header and no table)
    where the caller may not begin one: a reader, or a ``kiosk audit`` command."""
    return AuditUnavailable(f"{describe(path)} holds no audit log (an empty file): the kiosk's "
                            "log is elsewhere, or this one was lost", reason=e.MISSING,
                            path=str(path))


def schema_version(db: Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def _check_identity(db: Database, path: str | Path, version: int) -> None:
    app_id = int(db.execute("PRAGMA application_id").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise AuditUnavailable(f"{describe(path)} was written by a newer kiosk (schema "
                               f"{version}, this kiosk knows {SCHEMA_VERSION}); update the kiosk",
                               reason=e.NEWER_SCHEMA, path=str(path))
    tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if app_id != APPLICATION_ID and (version > 0 or tables > 0):
        raise AuditUnavailable(f"{path} is not a kiosk audit database (another program's "
                               "file?); refusing to touch it", reason=e.NOT_AUDIT_DB,
                               path=str(path))


def migrate(db: Database, path: str | Path, *, read_only: bool, create: bool = True) -> int:
    """Bring the schema to :data:`SCHEMA_VERSION`; return the version found before.

    Each migration and its ``user_version`` bump share one ``BEGIN IMMEDIATE`` transaction; the
    version is read again under the write lock, so two processes opening a new file at once
    apply each migration exactly once.

    Raises
    ------
    AuditUnavailable
        ``newer_schema``, ``not_audit_db``, ``old_schema`` when a read-only open finds a
        schema that needs upgrading, or ``missing`` when a read-only open or one that may not
        create a log (``create=False``: the ``kiosk audit`` commands) finds no log in the file.
    """
    found = schema_version(db)
    _check_identity(db, path, found)
    if found == SCHEMA_VERSION:
        return found
    if (read_only or not create) and found == 0 and not db.execute(
            "SELECT count(*) FROM sqlite_master").fetchone()[0]:
        raise holds_no_log(path)
    if read_only:
        raise AuditUnavailable(f"{describe(path)} has schema {found} and needs upgrading to "
                               f"{SCHEMA_VERSION}; start the kiosk once to upgrade it",
                               reason=e.OLD_SCHEMA, path=str(path))
    for version in range(found + 1, SCHEMA_VERSION + 1):
        with write_transaction(db):
            current = schema_version(db)
            _check_identity(db, path, current)
            if current >= version:
                continue
            name, apply = MIGRATIONS[version - 1]
            apply(db)
            db.execute(f"PRAGMA user_version = {version}")
        log.info("audit schema upgraded to version %d (%s)", version, name)
    return found


def bind_subject_key(db: Database, path: str | Path, key_id: str, *, store: bool) -> None:
    """Remember the subject key's id in ``meta`` (when ``store``), or check it.

    Raises
    ------
    AuditUnavailable
        (``KeyUnavailable``, reason ``key_mismatch``) the log was written with another key.
    """
    found = db.execute("SELECT value FROM meta WHERE key = 'subject_key_id'").fetchone()
    if found is None:
        if store:
            db.execute("INSERT INTO meta VALUES ('subject_key_id', ?)", [key_id])
        return
    if found[0] != key_id:
        raise KeyUnavailable(f"the subject key (id {key_id}) is not the key this audit log was "
                             f"written with (id {found[0]}); earlier subjects and lockouts would "
                             "not match. Restore the original key file or keyring entry",
                             reason=e.KEY_MISMATCH, path=str(path))


def bind_chain_key(db: Database, path: str | Path, chain_key: ChainKey, *,
                   store: bool) -> None:
    """Key the chain with ``chain_key`` (when ``store``: inside a write), or check it is the
    key the log was keyed with.

    A log that was never keyed is keyed from its next row on, provided every row it holds was
    written before it could be keyed (an older kiosk's log, migrated): rows written later
    by a tool given no key cannot be told from forged ones, and the kiosk refuses them.

    Raises
    ------
    KeyUnavailable
        (reason ``key_mismatch``) the log was keyed with another key.
    AuditUnavailable
        (reason ``unkeyed``) rows were written without a key after the log could be keyed;
        (reason ``tampered``) the key marker is there but the keyed position was removed.
    """
    found = db.execute("SELECT value FROM meta WHERE key = 'chain_key_id'").fetchone()
    if found is not None and found[0] != chain_key.key_id:
        raise KeyUnavailable(f"the audit key (chain key id {chain_key.key_id}) is not the key "
                             f"this audit log was keyed with (id {found[0]}). Restore the "
                             "original key file or keyring entry", reason=e.KEY_MISMATCH,
                             path=str(path))
    state = chain_state(db)
    if state["keyed_from"] is not None or not store:
        return  # a reader's verify reports a removed key marker as a break
    if found is not None:
        raise AuditUnavailable(f"{describe(path)} was keyed, but its first keyed position was "
                               "removed from the chain state: it was tampered with; move it "
                               "aside and restore a backup", reason=e.TAMPERED, path=str(path))
    row = db.execute("SELECT value FROM meta WHERE key = 'unkeyed_until'").fetchone()
    unkeyed_until = int(row[0]) if row is not None else 0
    if state["head_seq"] > unkeyed_until:
        raise AuditUnavailable(f"{describe(path)} holds {state['head_seq'] - unkeyed_until} "
                               "row(s) written without the kiosk's audit key (by a tool given "
                               "no key), which cannot be told from forged rows; move it aside "
                               "(kiosk audit verify still reads it) and let the kiosk start a "
                               "new log", reason=e.UNKEYED, path=str(path))
    signer = ChainSigner(state["db_id"], state["head_seq"] + 1, chain_key.for_db(state["db_id"]))
    db.execute("UPDATE chain_state SET keyed_from = ? WHERE id = 1", [signer.keyed_from])
    set_state(db, signer)
    db.execute("INSERT INTO meta VALUES ('chain_key_id', ?)", [chain_key.key_id])
    if state["head_seq"]:
        log.warning("%s: rows 1-%d were chained before this kiosk kept a keyed chain; they "
                    "keep their unkeyed hashes", describe(path), state["head_seq"])


def prepare(db: Database, path: str | Path, *, read_only: bool, integrity: bool,
            subject_key_id: str | None, now: str, max_db_bytes: int | None,
            chain_key: ChainKey | None = None, probe_write: bool = True,
            rehearse: bool = False, create: bool = True) -> None:
    """Everything :meth:`AuditLog.open` does after connecting.

    Integrity check, schema migration, subject-key binding, chain keying, and for a
    writable log a real write (``meta.last_opened_at``) so a read-only or full database
    fails at start-up rather than at the first attempt (skipped with ``probe_write=False``:
    ``kiosk audit purge`` must open a log on a full disk); then the optional size cap.
    ``rehearse=True`` rolls the key binding and the write back: it only checks that the log
    opens, can be written and takes these keys (the schema of a new file stays).
    """
    if integrity:
        quick_check(db, path)
    migrate(db, path, read_only=read_only, create=create)
    if read_only or not probe_write:
        if subject_key_id is not None:
            bind_subject_key(db, path, subject_key_id, store=False)
        if chain_key is not None:
            bind_chain_key(db, path, chain_key, store=False)
        if read_only:
            return
    else:
        with write_transaction(db, commit=not rehearse):
            if subject_key_id is not None:
                bind_subject_key(db, path, subject_key_id, store=True)
            if chain_key is not None:
                bind_chain_key(db, path, chain_key, store=True)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('last_opened_at', ?)", [now])
    if max_db_bytes is not None:
        page = int(db.execute("PRAGMA page_size").fetchone()[0])
        db.execute(f"PRAGMA max_page_count = {max_db_bytes // page}")
