"""What becomes of an ID scan a check used (``kiosk.used_scans``; privacy audit, F4)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from kiosk.runtime.identity import IdentityJobs


def scan(folder: Path, name: str, body: bytes = b"scan") -> tuple[str, int]:
    path = folder / name
    path.write_bytes(body)
    return str(path), path.stat().st_mtime_ns


def jobs() -> IdentityJobs:
    return IdentityJobs(feed=None, parts=None, sink=None)  # type: ignore[arg-type]


def test_a_used_scan_is_removed_unless_the_site_keeps_them(tmp_path: Path) -> None:
    used = scan(tmp_path, "jane-doe-passport.jpg")
    kept = scan(tmp_path, "scan-0002.jpg")
    runner = jobs()
    runner.spend(kept, delete=False)
    runner.spend(used, delete=True)
    assert sorted(os.listdir(tmp_path)) == ["scan-0002.jpg"]
    runner.spend(used, delete=True)  # gone already: nothing to say
    runner.spend(None, delete=True)  # a file or the camera: nothing to remove


def test_a_new_scan_under_the_used_ones_name_is_not_removed(tmp_path: Path) -> None:
    path, mtime = scan(tmp_path, "scan.jpg")
    os.utime(path, ns=(mtime + 10**9, mtime + 10**9))  # the scanner wrote it again
    jobs().spend((path, mtime), delete=True)
    assert os.path.exists(path)


def test_a_scan_that_cannot_be_removed_is_said_without_its_name(
        tmp_path: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    used = scan(tmp_path, "jane-doe-passport.jpg")

    def refused(path: str) -> None:  # a folder the kiosk may read but not write
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(os, "unlink", refused)
    with caplog.at_level(logging.WARNING):
        jobs().spend(used, delete=True)
    assert "could not be removed from the scanner folder (Permission denied)" in caplog.text
    assert "jane" not in caplog.text
