"""The fleet's configuration, built from the ``[fleet]`` settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kiosk.settings.fleeturl import fleet_url_problem, fleet_where

__all__ = ["POLICIES", "FleetConfig"]

POLICIES: tuple[str, ...] = ("local", "refuse")


@dataclass(frozen=True)
class FleetConfig:
    """Everything the fleet link needs (see :class:`kiosk.settings.FleetSettings`).

    Parameters
    ----------
    url : str
        libpq URL or connection string, without a password.
    query_timeout_s : float
        The lockout check at the start of a session waits this long for the server.
    connect_timeout_s : float
        Connection timeout of the sender and the commands.
    unreachable_policy : str
        ``"local"`` (fail open to local counts) or ``"refuse"``.
    refuse_after_s : float
        With ``"refuse"``: seconds without an answer before new sessions are refused.
    batch_rows : int
        Rows per shipping transaction.
    retry_min_s, retry_max_s : float
        The sender's first and longest wait between retries.
    flush_timeout_s : float
        How long closing waits for rows not yet shipped.
    idle_poll_s : float
        With nothing to ship, the sender still checks the server this often (reachability,
        clock skew).
    """

    url: str
    query_timeout_s: float = 0.5
    connect_timeout_s: float = 3.0
    unreachable_policy: str = "local"
    refuse_after_s: float = 600.0
    batch_rows: int = 500
    retry_min_s: float = 0.5
    retry_max_s: float = 30.0
    flush_timeout_s: float = 5.0
    idle_poll_s: float = 15.0

    def __post_init__(self) -> None:
        problem = fleet_url_problem(self.url) if self.url else "it is empty"
        if problem is not None:
            raise ValueError(f"url is not usable: {problem}")
        if self.unreachable_policy not in POLICIES:
            raise ValueError(f"unreachable_policy must be one of {POLICIES}")
        if not (self.query_timeout_s > 0 and self.connect_timeout_s > 0
                and self.refuse_after_s >= 0 and self.batch_rows >= 1
                and 0 < self.retry_min_s <= self.retry_max_s and self.flush_timeout_s >= 0
                and self.idle_poll_s > 0):
            raise ValueError("fleet timeouts must be positive and batch_rows at least 1")

    @property
    def where(self) -> str:
        """The server for messages: host, port and database only."""
        return fleet_where(self.url)

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> FleetConfig | None:
        """The configuration of ``settings.fleet``; None when ``fleet.url`` is empty."""
        fleet = settings.fleet
        if not fleet.url:
            return None
        values: dict[str, Any] = {
            "url": fleet.url, "query_timeout_s": fleet.query_timeout_s,
            "connect_timeout_s": fleet.connect_timeout_s,
            "unreachable_policy": fleet.unreachable_policy,
            "refuse_after_s": fleet.refuse_after_min * 60.0, "batch_rows": fleet.batch_rows,
            "retry_max_s": fleet.retry_max_s, "flush_timeout_s": fleet.flush_timeout_s,
        }
        values.update(overrides)
        return cls(**values)
