"""A throwaway PostgreSQL cluster for the fleet's tests and benchmarks (offline only).

Uses the server programs of the Debian ``postgresql`` package (``initdb``, ``pg_ctl``; set up
by ``scripts/setup.sh --test``), in a temporary folder, listening only on a Unix socket in that
folder. PostgreSQL refuses to run as root, so when run as root the programs run as the
``postgres`` user the package creates (``runuser``). ``fsync`` is off: the data is thrown away.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["PgCluster", "PgUnavailable", "find_bin_dir"]


class PgUnavailable(RuntimeError):
    """The PostgreSQL server programs are not installed (or cannot run here)."""


def find_bin_dir() -> Path:
    """The folder of ``initdb`` and ``pg_ctl``: ``$PG_BINDIR``, the newest
    ``/usr/lib/postgresql/*/bin``, or ``PATH``."""
    configured = os.environ.get("PG_BINDIR")
    if configured:
        return Path(configured)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PgUnavailable("PostgreSQL's initdb was not found: install the Debian package "
                        "postgresql (scripts/setup.sh --test does)")


class PgCluster:
    """One throwaway cluster. ``start()`` creates and starts it; ``close()`` removes it.

    Parameters
    ----------
    base : path-like, optional
        Parent folder of the cluster's temporary folder (default: the system's).
    """

    def __init__(self, base: str | Path | None = None) -> None:
        self.bin_dir = find_bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="kiosk-pg-", dir=base))
        self.data = self.root / "data"
        self.port = random.randint(20000, 60000)
        self._as: list[str] = []
        self._owner: tuple[int, int] | None = None
        if os.geteuid() == 0:
            try:
                entry = pwd.getpwnam("postgres")
            except KeyError:
                raise PgUnavailable("running as root needs the 'postgres' user of the Debian "
                                    "postgresql package") from None
            self._owner = (entry.pw_uid, entry.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
            os.chown(self.root, *self._owner)
        os.chmod(self.root, 0o700)
        self._initialised = False

    @property
    def socket_dir(self) -> Path:
        return self.root

    def url(self, dbname: str = "postgres", user: str = "postgres") -> str:
        """libpq URL of a database of this cluster (Unix socket; ``trust`` authentication)."""
        return f"postgresql:///{dbname}?host={self.root}&port={self.port}&user={user}"

    def _run(self, *args: str) -> None:
        proc = subprocess.run([*self._as, str(self.bin_dir / args[0]), *args[1:]],
                              capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise PgUnavailable(f"{args[0]} failed ({proc.returncode}): "
                                f"{(proc.stderr or proc.stdout).strip()[-800:]}")

    def start(self) -> PgCluster:
        """Create the cluster (first time) and start the server; waits until it accepts."""
        if not self._initialised:
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                      "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
            self._initialised = True
        options = (f"-k {self.root} -p {self.port} -c listen_addresses='' -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                  str(self.root / "server.log"), "-w", "-t", "60", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast`` ends sessions and rolls back their transactions;
        ``immediate`` is a crash)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def close(self) -> None:
        """Stop the server if it runs and remove the folder."""
        if self.running():
            with contextlib.suppress(PgUnavailable):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
