"""The audit log's configuration, built from the settings or given directly in tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from kiosk.audit.ratelimit import RateLimitPolicy
from kiosk.audit.records import check_label

DB_FILE_NAME = "kiosk.db"


@dataclass(frozen=True)
class AuditConfig:
    """Everything the audit log needs besides its file, clock and keys.

    Parameters
    ----------
    kiosk_id : str
        This kiosk (``settings.kiosk.kiosk_id``): records must carry it, kiosk lockouts and
        interrupted-attempt recovery apply to it.
    limits : RateLimitPolicy
        Failure window, threshold and lockout length.
    retention_days : int
        Automatic purge age in days; 0 keeps everything.
    store_best_frame : bool
        Keep the best frame, encrypted (needs a frame cipher).
    busy_timeout_s : float
        How long a write waits for another process's lock before giving up with
        ``AuditUnavailable(reason="locked")``.
    max_db_bytes : int or None
        Size cap of the database file; reaching it raises ``AuditUnavailable(reason="full")``
        like a full disk. None for no cap.
    max_frame_bytes : int
        Largest best-frame JPEG accepted.
    stale_after : timedelta
        An open attempt older than this is closed as interrupted even when its owner still
        runs (no session lasts that long; a session whose row was closed gets an AuditError
        when it finishes, and its try has counted as a failure).
    reserve_bytes : int
        Disk space the kiosk keeps in a reserve file beside the database, freed by a purge on
        a full disk (0: none).
    ships_to_fleet : bool
        The settings name a fleet server (``fleet.url``): a purge keeps every row the server
        has not acknowledged, also in a process that has no fleet link of its own (the
        staff's ``kiosk audit purge``), by the acknowledgement the kiosk recorded in the log.
    """

    kiosk_id: str = "kiosk-1"
    limits: RateLimitPolicy = field(default_factory=RateLimitPolicy)
    retention_days: int = 30
    store_best_frame: bool = False
    busy_timeout_s: float = 5.0
    max_db_bytes: int | None = None
    max_frame_bytes: int = 4 * 1024 * 1024
    stale_after: timedelta = timedelta(minutes=10)
    reserve_bytes: int = 4 * 1024 * 1024
    ships_to_fleet: bool = False

    def __post_init__(self) -> None:
        check_label(self.kiosk_id, "kiosk_id")
        if self.retention_days < 0:
            raise ValueError("retention_days must be 0 (keep everything) or more")
        if not 0 <= self.busy_timeout_s <= 600:
            raise ValueError("busy_timeout_s must be between 0 and 600")
        if self.max_db_bytes is not None and self.max_db_bytes < 64 * 1024:
            raise ValueError("max_db_bytes must be at least 64 KiB")
        if self.stale_after <= timedelta(0) or self.reserve_bytes < 0:
            raise ValueError("stale_after must be positive and reserve_bytes not negative")

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> AuditConfig:
        """The configuration in force for ``settings`` (a :class:`kiosk.settings.Settings`)."""
        audit = settings.audit
        values: dict[str, Any] = {
            "kiosk_id": settings.kiosk.kiosk_id,
            "limits": RateLimitPolicy(max_failures=audit.max_failures,
                                      window=timedelta(minutes=audit.failure_window_min),
                                      lockout=timedelta(minutes=audit.lockout_min),
                                      kiosk_max_failures=audit.kiosk_max_failures),
            "retention_days": audit.retention_days,
            "store_best_frame": audit.store_best_frame,
            "busy_timeout_s": audit.busy_timeout_s,
            "max_db_bytes": audit.max_db_mb * 1024 * 1024 or None,
            "ships_to_fleet": bool(settings.fleet.url),
        }
        values.update(overrides)
        return cls(**values)


def resolve_db_path(settings: Any, data_dir: str | Path) -> Path:
    """``settings.audit.db_path``, or ``<data_dir>/kiosk.db`` when it is empty.

    ``data_dir`` is :func:`kiosk.settings.default_data_dir` of the environment (the caller
    reads the environment; this package does not).
    """
    configured = settings.audit.db_path
    return Path(configured).expanduser() if configured else Path(data_dir) / DB_FILE_NAME
