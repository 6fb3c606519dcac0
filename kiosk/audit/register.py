"""Which audit log a database path holds, remembered in the key folder, so that a log that
disappears is noticed instead of silently starting again empty.

A kiosk whose log file was deleted or moved away would create, at its next open, a fresh log
at the same path: every lockout and failure count gone, and nothing in the new log to say an
older one existed. The keyed chain catches edited rows and rows cut from the end, an exported
anchor catches an older copy put back; neither sees a log that is simply gone. So the kiosk
writes the id of the log it opened (``chain_state.db_id``) beside the log's key, outside the
database's folder (mode 0600), so removing, emptying or copying that folder leaves it:

- with ``audit.key_file`` set, in that file's folder, as
  ``<database name>-<digest of its absolute path>.log-id`` (one key file may serve several
  databases of one name). A site that sets a key file is often one whose database sits in a
  system folder where the kiosk may not create the default key folder beside it;
- otherwise in ``<database folder>-keys/<database name>.log-id``, the private folder (0700) of
  the default key file. A register written there before a key file was configured is still
  read, and moved beside the key at the next open.

Each later open by the kiosk (:func:`kiosk.audit.open_kiosk_log`) checks:

- the file is missing while an id is registered: :class:`AuditUnavailable`, reason ``lost``
  (restore the file; or, if it is lost for good, ``kiosk audit new-log`` begins a new one and
  records the loss in it);
- the file holds another log (another id): reason ``replaced``.

This does not stop someone who may delete the key folder too: a fleet server (which refuses
another chain under one kiosk id) or an anchor kept away from the kiosk does.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from kiosk.audit import errors as e
from kiosk.audit.errors import AuditUnavailable
from kiosk.audit.keyfiles import write_private_file
from kiosk.audit.keystore import default_key_dir
from kiosk.audit.records import check_label

log = logging.getLogger(__name__)

SUFFIX = ".log-id"
DB_ID_LENGTH = 32
"""Hex digits of a ``chain_state.db_id`` (16 random bytes)."""


@dataclass(frozen=True)
class Registration:
    """The log registered for a database path.

    Attributes
    ----------
    db_id : str
        The log's ``chain_state.db_id``.
    registered_at : str
        When the kiosk first registered it (ISO 8601 UTC): its first open, or for a log
        older than the register, its first open by a kiosk that keeps one.
    file : Path
        The register file.
    """

    db_id: str
    registered_at: str
    file: Path


@dataclass(frozen=True)
class Replacement:
    """Staff's statement that the registered log is lost for good (``kiosk audit new-log``):
    the new log records it as a ``log_replaced`` operator action.

    Attributes
    ----------
    lost : Registration
        The registration of the lost log.
    actor, reason : str
        Who states it, and why (recorded; one printable line of at most 100 and 500
        characters).

    Raises
    ------
    ValueError
        ``actor`` or ``reason`` is empty, too long or not one printable line.
    """

    lost: Registration
    actor: str
    reason: str

    def __post_init__(self) -> None:
        # Checked before the new log is created: a refusal after it would leave a new log
        # at the path with no record of the loss, and the lost one still registered.
        check_label(self.actor, "the operator name", 100)
        check_label(self.reason, "the reason", 500)

    @property
    def details(self) -> dict[str, str]:
        """The recorded details: the lost log's id and since when the kiosk kept it."""
        return {"lost_log": self.lost.db_id, "lost_log_kept_since": self.lost.registered_at}


def register_file(db_path: str | os.PathLike[str],
                  key_file: str | os.PathLike[str] | None = None) -> Path | None:
    """Where the id of the log at ``db_path`` is registered; None for ``:memory:``, or for a
    database at the file-system root without a key file (no folder beside its folder).

    Parameters
    ----------
    db_path : path-like
    key_file : path-like, optional
        ``settings.audit.key_file`` (empty or None: none). One in the database's own folder
        (which the kiosk warns about) is not used: the register would go with that folder.
    """
    if str(db_path) == ":memory:":
        return None
    path = Path(db_path).expanduser().absolute()
    if key_file:
        folder = Path(key_file).expanduser().absolute().parent
        if folder != path.parent:
            digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
            return folder / f"{path.name}-{digest}{SUFFIX}"
    return _default_file(path)


def _default_file(path: Path) -> Path | None:
    key_dir = default_key_dir(path.parent)
    return None if key_dir is None else key_dir / f"{path.name}{SUFFIX}"


def read_registration(db_path: str | os.PathLike[str],
                      key_file: str | os.PathLike[str] | None = None) -> Registration | None:
    """The registration of the log at ``db_path``, None when there is none.

    Parameters
    ----------
    db_path : path-like
    key_file : path-like, optional
        ``settings.audit.key_file``: see :func:`register_file`. With one, a register left in
        the default key folder (before the key file was configured) is read when there is
        none beside the key.

    Raises
    ------
    AuditUnavailable
        (reason ``cannot_open``) the register file exists but cannot be read or is not one.
    """
    file = register_file(db_path, key_file)
    if file is None:
        return None
    found = _read(db_path, file)
    if found is None and key_file:
        earlier = _default_file(Path(db_path).expanduser().absolute())
        if earlier is not None and earlier != file:
            found = _read(db_path, earlier)
    return found


def _read(db_path: str | os.PathLike[str], file: Path) -> Registration | None:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        db_id, since = data["db_id"], data["registered_at"]
        if not (isinstance(db_id, str) and len(db_id) == DB_ID_LENGTH
                and all(c in "0123456789abcdef" for c in db_id) and isinstance(since, str)):
            raise ValueError("not a log id")
    except (FileNotFoundError, NotADirectoryError):  # no key folder: nothing registered
        return None
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise AuditUnavailable(f"the record of which audit log belongs at {db_path} ({file}) "
                               f"cannot be read ({type(exc).__name__}); restore it from a "
                               "backup of the key folder", reason=e.CANNOT_OPEN,
                               path=str(file)) from None
    return Registration(db_id, since, file)


def unguarded(db_path: str | os.PathLike[str], db_id: str | None, *,
              key_file: str | os.PathLike[str] | None = None) -> str | None:
    """Why the loss of the log at ``db_path`` would go unnoticed, for staff; None when it is
    registered as this log.

    The kiosk registers its log when it opens it, and only logs a warning when it cannot (a
    folder it may not write): this is how staff learn of that (``kiosk audit verify``, the
    operator panel's audit check).

    Parameters
    ----------
    db_path : path-like
        The kiosk's own log (not a copy elsewhere: nothing is registered for a copy).
    db_id : str or None
        The log's ``chain_state.db_id`` (None for a log older than schema 3).
    key_file : path-like, optional
        ``settings.audit.key_file`` (see :func:`register_file`).
    """
    if str(db_path) == ":memory:" or db_id is None:
        return None
    file = register_file(db_path, key_file)
    unnoticed = "if this log is deleted or moved, the kiosk will not notice"
    if file is None:
        return (f"there is no folder to record which log the kiosk keeps at {db_path} (a "
                f"database at the file-system root and no audit.key_file): {unnoticed}")
    try:
        found = read_registration(db_path, key_file)
    except AuditUnavailable as exc:
        return str(exc)
    if found is None:
        return (f"no record of this log is kept in {file.parent}: {unnoticed}. The kiosk "
                f"writes {file.name} there when it opens the log; check that it may write "
                "that folder (see the kiosk's log for the error)")
    if found.db_id != db_id:
        return (f"{found.file} names another log ({found.db_id[:8]}) than this one "
                f"({db_id[:8]}): the kiosk will refuse to open this file")
    return None


def _new_log(db_path: str | os.PathLike[str]) -> str:
    return f"kiosk audit new-log --db {shlex.quote(str(db_path))} --by NAME --reason TEXT"


def _exists(db_path: str | os.PathLike[str]) -> bool:
    # lexists: a dangling symbolic link is not a missing log (opening it gives its own error).
    return os.path.lexists(Path(db_path).expanduser()) and not _emptied(db_path)


def _emptied(db_path: str | os.PathLike[str]) -> bool:
    """An empty regular file: no log is in it (SQLite would start a new one there, and the
    emptied file would be lost as evidence before the register's check saw it)."""
    path = Path(db_path).expanduser()
    try:
        return path.is_file() and not path.is_symlink() and path.stat().st_size == 0
    except OSError:
        return False


def check_not_lost(db_path: str | os.PathLike[str], *, key_file: str | None = None,
                   replacing: str | None = None) -> None:
    """Refuse to open a path whose registered log is gone (before anything creates a file).

    Parameters
    ----------
    db_path : path-like
    key_file : str, optional
        ``settings.audit.key_file`` (see :func:`register_file`).
    replacing : str, optional
        The id of the registered log that staff declared lost (``kiosk audit new-log``): it
        must be the one registered, and its file must be gone.

    Raises
    ------
    AuditUnavailable
        (reason ``lost``) an id is registered and no file is at the path; (reason
        ``cannot_open``) see :func:`read_registration`, or ``replacing`` is not what is
        registered or its file is still there.
    """
    found = read_registration(db_path, key_file)
    if replacing is not None:
        if found is None or found.db_id != replacing or _exists(db_path):
            raise AuditUnavailable(f"the log to replace at {db_path} is not the registered, "
                                   "missing one any more; run `kiosk audit new-log` again",
                                   reason=e.CANNOT_OPEN, path=str(db_path))
        return
    if found is not None and not _exists(db_path):
        how = "is empty" if _emptied(db_path) else "is gone"
        raise AuditUnavailable(
            f"the audit log {db_path} {how} (log {found.db_id[:8]}, kept there since "
            f"{found.registered_at[:19].replace('T', ' ')} UTC): it was deleted, emptied or "
            "moved while its key stayed. A new empty log would forget every lockout, so the "
            "kiosk stays out of service. Put the file back (from a backup: `kiosk audit "
            f"verify` checks it), or, if it is lost for good, run `{_new_log(db_path)}`, which "
            "records the loss in the new log", reason=e.LOST, path=str(db_path))


def confirm(db_path: str | os.PathLike[str], db_id: str, *, now: str,
            key_file: str | None = None, replacing: str | None = None) -> None:
    """After the kiosk opened the log at ``db_path``: register its id, or check it.

    Parameters
    ----------
    db_path : path-like
    db_id : str
        The opened log's ``chain_state.db_id``.
    now : str
        ISO 8601 UTC time of a first registration.
    key_file : str, optional
        ``settings.audit.key_file`` (see :func:`register_file`).
    replacing : str, optional
        The id of a log staff declared lost: the registration names the new log instead.

    Raises
    ------
    AuditUnavailable
        (reason ``replaced``) another log is registered for this path; ``cannot_open`` as
        :func:`read_registration`. A register that cannot be written is logged, not raised:
        the log itself is usable, only its loss would go unnoticed.
    """
    file = register_file(db_path, key_file)
    if file is None:
        return
    found = read_registration(db_path, key_file)
    if found is not None and found.db_id == db_id and found.file == file:
        return
    if found is not None and found.db_id not in (db_id, replacing):
        raise AuditUnavailable(
            f"the file {db_path} holds another audit log ({db_id[:8]}) than the one this kiosk "
            f"keeps there ({found.db_id[:8]}, since {found.registered_at[:10]}): it was "
            "replaced. Keep that file as evidence and put the kiosk's own log back, or move "
            f"it aside and run `{_new_log(db_path)}`",
            reason=e.REPLACED, path=str(db_path))
    since = found.registered_at if found is not None and found.db_id == db_id else now
    try:
        write_private_file(file, json.dumps({"db_id": db_id, "registered_at": since}) + "\n",
                           overwrite=True)
    except OSError as exc:
        log.warning("cannot record which audit log is at %s in %s (%s): if that log is "
                    "deleted, the kiosk will not notice", db_path, file, exc.strerror or exc)
        return
    if found is not None and found.file != file:  # moved beside the key: one register only
        with contextlib.suppress(OSError):
            found.file.unlink(missing_ok=True)
