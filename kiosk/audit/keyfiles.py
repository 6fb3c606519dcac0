"""Key files and private folders: created owner-only, read only when owner-only."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from kiosk.audit import errors as e
from kiosk.audit.errors import KeyUnavailable
from kiosk.audit.keys import KEY_BYTES


def make_private_dirs(folder: Path) -> None:
    """Create ``folder`` and every missing parent with mode 0700 (``mkdir -p -m 700`` only
    sets the last one; here each folder this call creates is private).

    Raises
    ------
    OSError
        A folder cannot be created (e.g. a file is in the way, or a symbolic link loop).
    """
    missing = []
    current = Path(folder)
    while not current.exists():
        if current.is_symlink():  # a dangling link or a loop: mkdir would fail obscurely
            os.stat(current)  # raises the real error (ELOOP, ENOENT of the target)
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o700)
            path.chmod(0o700)  # the umask may have removed bits; never added any


def read_key_file(path: Path) -> bytes:
    """The master secret from a key file (at least 64 hex digits, owner-only permissions).

    Raises
    ------
    KeyUnavailable
        Missing, unreadable, too permissive, or not hex.
    """
    try:
        info = path.stat()
        if os.name == "posix" and stat.S_IMODE(info.st_mode) & 0o077:
            raise KeyUnavailable(f"the key file {path} can be read by other users (mode "
                                 f"{stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {path}",
                                 reason=e.NO_KEY, path=str(path))
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise KeyUnavailable(f"the key file {path} does not exist; create one with `kiosk audit "
                             "keygen` (a new key cannot read earlier frames or match earlier "
                             "subjects)", reason=e.NO_KEY, path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyUnavailable(f"the key file {path} cannot be read: {exc}", reason=e.NO_KEY,
                             path=str(path)) from None
    try:
        master = bytes.fromhex(text)
    except ValueError:
        master = b""
    if len(master) < KEY_BYTES:
        raise KeyUnavailable(f"the key file {path} must hold at least {2 * KEY_BYTES} hex digits",
                             reason=e.NO_KEY, path=str(path))
    return master


def write_private_file(path: Path, text: str, *, overwrite: bool = False) -> None:
    """Write ``text`` to ``path`` (mode 0600, folders 0700), whole or not at all.

    Written aside, synced, then hard-linked into place, so an existing file is never
    overwritten; with ``overwrite`` renamed over it instead.

    Raises
    ------
    FileExistsError
        ``path`` exists and ``overwrite`` is False.
    OSError
        The folder cannot be written.
    """
    make_private_dirs(path.parent)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(temp, path)
        else:
            os.link(temp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)
    with contextlib.suppress(OSError):  # make the new name durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def write_key_file(path: Path, master: bytes) -> None:
    """Write ``master`` to a new file ``path`` (mode 0600, folders 0700); see
    :func:`write_private_file`.

    Raises
    ------
    FileExistsError
        ``path`` exists.
    OSError
        The folder cannot be written.
    """
    write_private_file(path, master.hex() + "\n")


def create_key_file(path: Path) -> bytes:
    """Write a new random master secret to ``path`` (mode 0600) and return it.

    See :func:`write_key_file` for the guarantees and errors.
    """
    master = secrets.token_bytes(KEY_BYTES)
    write_key_file(path, master)
    return master


def move_key_file(old: Path, new: Path) -> bytes:
    """Move a key file to ``new`` (0600, folders 0700) and remove ``old``; return the secret.

    The new file is complete and synced before the old one is removed, so a crash leaves at
    least one copy. When ``new`` already holds the same secret, ``old`` is just removed.

    Raises
    ------
    KeyUnavailable
        ``old`` cannot be read, or ``new`` exists with a different secret (two keys: the
        operator must decide which one the log was written with).
    """
    master = read_key_file(old)
    try:
        write_key_file(new, master)
    except FileExistsError:
        if read_key_file(new) != master:
            raise KeyUnavailable(f"two different audit keys exist: {old} (beside the database, "
                                 f"the old place) and {new}; keep the one the log was written "
                                 "with and remove the other", reason=e.KEY_MISMATCH,
                                 path=str(old)) from None
    except OSError as exc:
        raise KeyUnavailable(f"cannot move the audit key from {old} to {new}: "
                             f"{exc.strerror or exc}", reason=e.NO_KEY, path=str(new)) from None
    with contextlib.suppress(FileNotFoundError):
        old.unlink()
    return master
