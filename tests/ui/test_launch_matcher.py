"""The window's matcher (kiosk.ui.launch): a child process whose limit comes from the
settings' time-outs, after the cloud's own and the local fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.cloud.timing import cloud_worst_case_s, comparison_limit_s
from kiosk.settings import Settings
from kiosk.ui.launch import build_parts


@pytest.mark.parametrize("read_timeout_s", [10.0, 45.0])
def test_the_matcher_process_waits_for_the_time_outs_and_the_fallback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_timeout_s: float) -> None:
    # No AWS here: the child builds the local matcher (its limit is the same).
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
                 "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings().replace("matching", read_timeout_s=read_timeout_s)
    matcher = build_parts(tmp_path, camera_fixed=False).matcher(settings)
    try:
        # Before: a fixed 120 s, shorter than one comparison's cloud calls at a 45 s read
        # time-out (3 calls x 3 attempts x 48 s), so the child was killed before the
        # local fallback could answer.
        assert matcher.timeout_s == comparison_limit_s(settings.matching)
        assert matcher.timeout_s > cloud_worst_case_s(settings.matching)
        assert matcher.name == "local"
    finally:
        matcher.close()
