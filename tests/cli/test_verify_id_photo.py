"""``kiosk verify --id-photo``: the kiosk's own session matches k frames against tight,
card-size and too-small ID photos (issue 14), through the real command."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.analysis.quality import BEST_FRAMES
from kiosk.cli import main
from kiosk.cloud.local import LocalMatcher
from kiosk.lab.photo_variants import variant
from tests.cloud.conftest import IMAGE_T1

pytestmark = pytest.mark.data

D7 = "KwaiVGI_LivePortrait/assets/examples/driving/d7.mp4"


@pytest.fixture(scope="module")
def d7_frame(shared_data: Path) -> np.ndarray:
    """A frame of d7 five seconds in, after the part the session uses (her own ID photo)."""
    capture = cv2.VideoCapture(str(shared_data / D7))
    capture.set(cv2.CAP_PROP_POS_FRAMES, 150)
    ok, frame = capture.read()
    capture.release()
    assert ok
    return frame


@pytest.fixture
def counted(monkeypatch):
    """Record how many live frames each comparison of the local matcher received."""
    seen: list[int] = []
    original = LocalMatcher.compare_frames

    def compare_frames(self, frames, reference):
        seen.append(len(frames))
        return original(self, frames, reference)

    monkeypatch.setattr(LocalMatcher, "compare_frames", compare_frames)
    return seen


def verify(capsys, shared_data: Path, tmp_path: Path, photo: Path) -> tuple[int, dict | str]:
    status = main(["verify", "--source", str(shared_data / D7), "--script", "blink@1.9",
                   "--id-photo", str(photo), "--matcher", "local", "--db",
                   str(tmp_path / "audit.db"), "--json"],
                  environ={"KIOSK_KIOSK_MODE": "staffed"})
    out, err = capsys.readouterr()
    return status, (json.loads(out) if out else err)


@pytest.mark.parametrize("name", ["tight", "card"])
def test_a_tight_or_card_size_id_photo_passes_with_k_frames(capsys, shared_data, tmp_path,
                                                           d7_frame, counted, name):
    photo = tmp_path / f"id-{name}.png"
    cv2.imwrite(str(photo), variant(d7_frame, name))
    status, report = verify(capsys, shared_data, tmp_path, photo)
    assert isinstance(report, dict)
    assert status == 0 and report["decision"] == "pass"
    assert report["match"]["matched"] and report["match"]["similarity"] >= 95.0
    assert counted == [BEST_FRAMES]


def test_another_person_fails_as_a_mismatch(capsys, shared_data, tmp_path, counted):
    status, report = verify(capsys, shared_data, tmp_path, shared_data / IMAGE_T1)
    assert isinstance(report, dict)
    assert status == 1 and report["decision"] == "fail"
    assert report["reasons"][0] == "FACE_MISMATCH" and counted == [BEST_FRAMES]


def test_an_id_photo_too_small_to_compare_is_refused_before_the_session(capsys, shared_data,
                                                                       tmp_path, d7_frame):
    photo = tmp_path / "stamp.png"
    cv2.imwrite(str(photo), cv2.resize(variant(d7_frame, "card"), (48, 60),
                                       interpolation=cv2.INTER_AREA))
    status, err = verify(capsys, shared_data, tmp_path, photo)
    assert status == 2
    assert err == ("kiosk verify: the ID photo stamp.png cannot be compared reliably: The ID "
                   "photo's face is too small to compare (fewer than 16 pixels between the "
                   "eyes); scan it at a higher resolution.\n")
    assert not (tmp_path / "audit.db").exists()  # no session, no attempt
