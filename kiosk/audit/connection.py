"""Opening the audit database file: checks on the path, private folders, the pragmas, and
read-only evidence copies.

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
import tempfile
from pathlib import Path
from urllib.parse import quote

from sqlite_utils import Database

from kiosk.audit import errors as e
from kiosk.audit.database import MEMORY, describe, holds_no_log
from kiosk.audit.errors import AuditUnavailable
from kiosk.audit.keyfiles import make_private_dirs

log = logging.getLogger(__name__)


def _create_file(path: Path) -> None:
    """Create the database file (and every missing folder, 0700) readable by the owner only.

    SQLite gives the -wal and -shm files the database file's permissions.
    """
    make_private_dirs(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def check_file(file: Path) -> bool:
    """True when ``file`` exists as a regular file; False when nothing is there.

    Raises
    ------
    AuditUnavailable
        ``cannot_open`` with a plain reason for a folder, a symbolic link loop or a path
        through something that is not a folder.
    """
    try:
        info = os.stat(file)
    except FileNotFoundError:
        if file.is_symlink():
            raise AuditUnavailable(f"{describe(file)} is a symbolic link to "
                                   f"{os.readlink(file)}, which does not exist",
                                   reason=e.CANNOT_OPEN, path=str(file)) from None
        return False
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise AuditUnavailable(f"{describe(file)} cannot be opened: a symbolic link on its "
                                   "path points back to itself (a link loop)",
                                   reason=e.CANNOT_OPEN, path=str(file)) from None
        if exc.errno == errno.ENOTDIR:
            raise AuditUnavailable(f"{describe(file)} cannot be opened: a part of its path is a "
                                   "file, not a folder", reason=e.CANNOT_OPEN,
                                   path=str(file)) from None
        raise
    if os.path.isdir(file):
        raise AuditUnavailable(f"{file} is a folder, not an audit database file; give the "
                               "database file itself (e.g. {file}/kiosk.db)".replace(
                                   "{file}", str(file)), reason=e.CANNOT_OPEN, path=str(file))
    del info
    return True


def _wal_pending(file: Path) -> bool:
    wal = file.with_name(file.name + "-wal")
    try:
        return wal.stat().st_size > 0
    except OSError:
        return False


def _evidence_copy(file: Path) -> Path:
    """Copy a database and its WAL into a private temporary folder (for a write-protected
    copy whose WAL still holds committed rows: ``immutable=1`` would not read them)."""
    folder = Path(tempfile.mkdtemp(prefix="kiosk-audit-ro-"))
    for suffix in ("", "-wal"):
        source = file.with_name(file.name + suffix)
        if source.exists():
            shutil.copyfile(source, folder / (file.name + suffix))
    log.info("%s is write-protected and its WAL holds committed rows: reading a private copy",
             file)
    return folder / file.name


_COPIES: dict[int, Path] = {}
"""Private copies of write-protected databases, by connection, removed by :func:`close_db`."""


def close_db(db: Database) -> None:
    """Close a connection (and remove the private copy it read, if any)."""
    try:
        db.close()
    finally:
        folder = _COPIES.pop(id(db.conn), None)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _open_sqlite(target: str, uri: bool, busy_timeout_s: float) -> sqlite3.Connection:
    return sqlite3.connect(target, uri=uri, timeout=busy_timeout_s, isolation_level=None,
                           check_same_thread=False)


def connect(path: str | Path, *, read_only: bool, create: bool,
            busy_timeout_s: float) -> Database:
    """Open the connection and set its pragmas (no schema work).

    A read-only open of a write-protected copy (an evidence copy on a read-only mount, where
    SQLite cannot create the ``-shm`` file WAL needs) falls back to ``immutable=1``; when the
    copy's ``-wal`` file still holds committed rows, which ``immutable=1`` would ignore, both
    files are copied to a private temporary folder and read there.

    Raises
    ------
    AuditUnavailable
        ``missing`` when the file does not exist and ``create`` is False; ``cannot_open``
        (with a plain reason for a folder or a link loop), ``corrupt``, ``locked`` and so
        on from SQLite.
    """
    memory = str(path) == MEMORY
    if memory:
        conn = _open_sqlite(MEMORY, False, busy_timeout_s)
    else:
        file = Path(path).expanduser().absolute()
        if not check_file(file):
            if not create or read_only:
                raise AuditUnavailable(f"there is no audit database at {file}",
                                       reason=e.MISSING, path=str(file))
            _create_file(file)
        elif not create and file.stat().st_size == 0:
            # Refused before SQLite writes its header: the empty file stays as it was found.
            raise holds_no_log(file)
        target = f"file:{quote(str(file))}" + ("?mode=ro" if read_only else "")
        conn = _open_sqlite(target, True, busy_timeout_s)
        if read_only:
            conn = _readable(conn, file, busy_timeout_s)
    try:
        db = Database(conn, execute_plugins=False)
        for pragma in ("foreign_keys = ON", "secure_delete = ON", "trusted_schema = OFF",
                       "cell_size_check = ON", "synchronous = FULL"):
            db.execute(f"PRAGMA {pragma}")
        if not memory and not read_only:
            mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                log.warning("%s stays in %s journal mode (WAL refused)", describe(path), mode)
    except BaseException:
        conn.close()
        raise
    return db


def _readable(conn: sqlite3.Connection, file: Path, busy_timeout_s: float) -> sqlite3.Connection:
    """``conn`` if it can read; else an ``immutable=1`` connection or one to a private copy."""
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        if code not in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY):
            raise
        conn.close()
    if _wal_pending(file):
        copy = _evidence_copy(file)
        copied = _open_sqlite(f"file:{quote(str(copy))}?mode=ro", True, busy_timeout_s)
        _COPIES[id(copied)] = copy.parent
        return copied
    return _open_sqlite(f"file:{quote(str(file))}?mode=ro&immutable=1", True, busy_timeout_s)
