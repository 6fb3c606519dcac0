"""One kiosk at a time: an exclusive lock on a file in the data folder.

``fcntl.flock`` is released by the kernel when the process dies, so a crash never leaves a
stale lock behind (unlike a PID file checked by hand). POSIX only, like the kiosk.
"""

from __future__ import annotations

import fcntl
import os
import pwd
from pathlib import Path

from kiosk.errors import KioskError

LOCK_NAME = "kiosk.lock"

EXIT_FAILED = 2
"""Exit status of a kiosk that could not run (no display, an unusable data folder) or hit a bug;
under ``--supervised``, also of one that left an internal error for a fresh start."""

EXIT_ALREADY_RUNNING = 3
"""Exit status of a kiosk that found another one holding its data folder. A supervisor must
not start it again (``RestartPreventExitStatus`` in the unit ``kiosk service unit`` prints):
every other non-zero status (no display yet, a crash) is worth a restart, this one never is."""


class AlreadyRunning(KioskError):
    """Another kiosk process holds the lock."""


class InstanceLock:
    """An exclusive, non-blocking lock on ``path``; use as a context manager or call
    :meth:`acquire` / :meth:`release`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock.

        Raises
        ------
        AlreadyRunning
            Another process holds it; the message names its process id when known.
        KioskError
            The lock file cannot be created.
        """
        if self._fd is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except PermissionError as exc:
            owner = self._other_owner()
            if owner is None:
                raise KioskError(f"cannot create the instance lock {self.path}: "
                                 f"{exc.strerror}") from None
            # Another user's kiosk serves this log (its lock file and its database are that
            # user's, 0600): refused as a second kiosk (exit 3), not an error its service
            # restarts every 5 s.
            raise AlreadyRunning(f"a kiosk of another user ({owner}) serves this audit log; "
                                 f"lock file {self.path}") from None
        except OSError as exc:
            raise KioskError(f"cannot create the instance lock {self.path}: {exc.strerror}") \
                from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f" (process {holder})" if holder else ""
            raise AlreadyRunning(f"the kiosk is already running{who}; lock file {self.path}") \
                from None
        except OSError as exc:
            os.close(fd)
            raise KioskError(f"cannot lock {self.path}: {exc.strerror}") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def _other_owner(self) -> str | None:
        """The name (or uid) of the user who owns the lock file, when it exists and is not
        this process's user; else None."""
        try:
            uid = self.path.stat().st_uid
        except OSError:
            return None
        if uid == os.geteuid():
            return None
        try:
            return pwd.getpwuid(uid).pw_name
        except KeyError:
            return f"uid {uid}"

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_pid(fd: int) -> str:
    try:
        return os.pread(fd, 32, 0).decode(errors="replace").strip()
    except OSError:
        return ""
