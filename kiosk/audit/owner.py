"""Who holds an open attempt: this process, named so that a later start can tell whether it
still runs.

An open attempt row carries its owner: the host name, the boot id (Linux
``/proc/sys/kernel/random/boot_id``, new at every boot), the process id and the process start
time (``/proc/<pid>/stat`` field 22, clock ticks since boot). An owner is gone when it ran on
this host and the boot id differs (the machine restarted: power cut, reboot), or no process has
its pid, or the process with its pid started at another time (the pid was reused). Two sessions
of one kiosk (two processes, or two logs in one process) therefore never close each other's
open rows, while a killed kiosk's row is closed at the next start. On systems without
``/proc`` the boot id and start time are empty and only the pid is checked. Rows of another
host are never judged alive or dead here; their age alone makes them stale.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def _boot_id() -> str:
    try:
        return _BOOT_ID.read_text(encoding="ascii").strip()
    except OSError:
        return ""


def process_start(pid: int) -> str | None:
    """The start time of process ``pid`` (clock ticks since boot, as text); ``""`` when it
    cannot be read on this system, None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return None if Path("/proc/self/stat").exists() else _pid_exists(pid)
    except OSError:
        return ""
    # The command name (field 2) is in parentheses and may contain spaces: split after it.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else ""


def _pid_exists(pid: int) -> str | None:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except OSError:  # exists, owned by someone else
        return ""
    return ""


@dataclass(frozen=True)
class Owner:
    """The process that opened an attempt."""

    host: str
    boot: str
    pid: int
    start: str

    @classmethod
    def current(cls) -> Owner:
        pid = os.getpid()
        return cls(socket.gethostname(), _boot_id(), pid, process_start(pid) or "")

    def columns(self) -> dict[str, str | int]:
        return {"owner_host": self.host, "owner_boot": self.boot, "owner_pid": self.pid,
                "owner_start": self.start}


def owner_gone(row_host: str | None, row_boot: str | None, row_pid: int | None,
               row_start: str | None, here: Owner) -> bool:
    """True when the owner recorded in an open row certainly no longer runs.

    A row without an owner (written before schema 3) counts as gone: no process of this
    kiosk can still finish it.
    """
    if row_pid is None:
        return True
    if row_host != here.host:
        return False
    if row_boot and here.boot and row_boot != here.boot:
        return True
    running = process_start(int(row_pid))
    if running is None:
        return True
    return bool(row_start and running and running != row_start)
