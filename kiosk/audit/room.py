"""Room for one more attempt: a session starts only when its record can be kept.

A disk that fills up fails the write at the end of a session, after the person answered every
prompt; the attempt then stays open and is closed as ``INTERRUPTED`` at the next start, a
failure charged to that person (the rule that keeps a killed kiosk from being a free retry).
So the kiosk checks before each session, and when it opens its log, that the disk and the
size cap (``audit.max_db_mb``) leave room for the largest record a session writes, and stays
out of service (``AuditUnavailable``, reason ``full``) until they do.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlite_utils import Database

from kiosk.audit import errors as e
from kiosk.audit.errors import AuditUnavailable

__all__ = ["CAP_ROOM", "DISK_ROOM", "check_room"]

#: Free disk a record needs besides its best frame: its rows and indexes, and the pages the
#: write-ahead log and a checkpoint take (a record with every signal is tens of KB).
DISK_ROOM = 1024 * 1024
#: Room below the size cap a record's rows need (the write-ahead log is not counted in it).
CAP_ROOM = 256 * 1024


def check_room(db: Database, path: str, *, frame_bytes: int, max_db_bytes: int | None) -> None:
    """Raise when one more attempt's record might not fit.

    Parameters
    ----------
    db : Database
        The open log.
    path : str
        Its file (``":memory:"`` is never checked).
    frame_bytes : int
        The largest best frame stored with a record (0 when frames are not stored).
    max_db_bytes : int or None
        The size cap, if any.

    Raises
    ------
    AuditUnavailable
        (reason ``full``) the disk or the cap leaves less room than a record needs.
    """
    if path == ":memory:":
        return
    need = DISK_ROOM + frame_bytes
    page = int(db.execute("PRAGMA page_size").fetchone()[0])
    reusable = int(db.execute("PRAGMA freelist_count").fetchone()[0]) * page
    # Pages a purge freed inside the file are reused before the file grows.
    free = shutil.disk_usage(Path(path).parent).free + reusable
    if free < need:
        raise AuditUnavailable(f"the disk holding the audit database {path} has "
                               f"{free // 1024} KB free, less than the {need // 1024} KB one "
                               "session's record may need; free space or purge old attempts "
                               "(kiosk audit purge)", reason=e.FULL, path=path)
    if max_db_bytes is None:
        return
    pages = int(db.execute("PRAGMA page_count").fetchone()[0])
    left = max_db_bytes - pages * page + reusable
    if left < CAP_ROOM + frame_bytes:
        raise AuditUnavailable(f"the audit database {path} is within {max(left, 0) // 1024} "
                               "KB of its size limit (audit.max_db_mb), less than the "
                               f"{(CAP_ROOM + frame_bytes) // 1024} KB one session's record may "
                               "need; purge old attempts (kiosk audit purge) or raise the limit",
                               reason=e.FULL, path=path)
