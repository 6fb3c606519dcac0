"""Fixtures for the fleet tests: a real PostgreSQL server, started once per test session.

The cluster is a throwaway one (:class:`kiosk.lab.pgcluster.PgCluster`: the Debian
``postgresql`` package's server, in a temporary folder, Unix socket only). Each test gets a
database of its own; tests that stop the server start a cluster of their own.

The fleet judges times on the server's clock, so the kiosks' stores read the site's time,
``clock``, as the server's: a test moves both by hand. A kiosk may have a clock of its own,
off the site's (``open_kiosk(..., kiosk_clock=...)``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from kiosk.audit import AuditLog, create_key_file, open_kiosk_log
from kiosk.lab.pgcluster import PgCluster
from kiosk.settings import Settings
from tests.audit.conftest import FakeClock

_names = itertools.count(1)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    cluster = PgCluster().start()
    yield cluster
    cluster.close()


def new_database(cluster: PgCluster) -> str:
    """A fresh database in ``cluster``; its URL (superuser, so the kiosk migrates it)."""
    name = f"fleet_{next(_names)}"
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return cluster.url(name)


@pytest.fixture
def fleet_url(pg_cluster: PgCluster) -> str:
    return new_database(pg_cluster)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def site_key(tmp_path: Path) -> Path:
    """One key file for every kiosk of the site (subjects add up under one subject key)."""
    key = tmp_path / "site.key"
    create_key_file(key)
    return key


def kiosk_settings(tmp_path: Path, kiosk_id: str, url: str, key: Path, *,
                   folder_name: str | None = None, **fleet: Any) -> Settings:
    """A kiosk's settings, its log in ``tmp_path / (folder_name or kiosk_id)``; no light
    check (a runtime without a window has no screen to paint it: LIGHT_UNAVAILABLE)."""
    folder = tmp_path / (folder_name or kiosk_id)
    folder.mkdir(exist_ok=True)
    return (Settings().replace("kiosk", kiosk_id=kiosk_id)
            .replace("audit", db_path=str(folder / "kiosk.db"), key_file=str(key))
            .replace("fleet", url=url, **fleet).replace("liveness", light_challenge=False))


@pytest.fixture
def open_kiosk(tmp_path: Path, site_key: Path, fleet_url: str,
               clock: FakeClock) -> Iterator[Callable[..., AuditLog]]:
    """``open_kiosk(kiosk_id, **fleet_settings)``: that kiosk's log with its fleet link
    started (closed at the end of the test); ``kiosk_clock`` its own wall clock (default:
    the site's), ``monotonic`` the log's monotonic clock (default: none)."""
    opened: list[AuditLog] = []

    def make(kiosk_id: str, *, url: str | None = None, start: bool = True,
             kiosk_clock: Callable[[], datetime] | None = None,
             monotonic: Callable[[], float] | None = None, **fleet: Any) -> AuditLog:
        settings = kiosk_settings(tmp_path, kiosk_id, url or fleet_url, site_key, **fleet)
        audit = open_kiosk_log(settings, tmp_path, clock=kiosk_clock or clock,
                               monotonic=monotonic)
        if audit.fleet is not None:
            audit.fleet.store.server_clock = clock
        if start:
            audit.start_fleet()
        opened.append(audit)
        return audit

    yield make
    for audit in opened:
        audit.close()
