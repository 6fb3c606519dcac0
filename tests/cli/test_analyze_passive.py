"""The passive part of ``kiosk analyze --json``: signals, fused liveness, reasons, still flag."""

from __future__ import annotations

import argparse
import json
import math

import cv2
import numpy as np
import pytest

from kiosk.analysis.passive import MULTI_FRAME, SINGLE_FRAME
from kiosk.analysis.signals import scalar_details
from kiosk.cli import main
from kiosk.cli.analyze_passive import passive_part
from kiosk.errors import InputError
from kiosk.model import FaceObservation
from kiosk.settings import Settings

D0 = "KwaiVGI_LivePortrait/assets/examples/driving/d0.mp4"
T1 = "minivision-ai_Silent-Face-Anti-Spoofing/images/sample/image_T1.jpg"
SLOW = ("Trainingdata-datamarket_Selfies-and-video-dataset/samples/"
        "0001d815c0--61dc1afaeae6cc347caa18b2/8.mp4")  # a webcam talking head at 5 fps
PASSIVE_KEYS = {"still", "refused", "frame_rate", "liveness", "attack_probability", "passed",
                "threshold", "reasons", "evidence", "contributions", "life", "signals"}


@pytest.fixture
def cached_tracking(monkeypatch, shared_data, track_clip):
    """Make ``kiosk analyze`` reuse the test session's tracking pass of each file."""
    import kiosk.cli.analyze as analyze

    def observe(path):
        return iter(track_clip(str(path).removeprefix(str(shared_data) + "/")))
    monkeypatch.setattr(analyze, "observe", observe)
    return shared_data


def analyze_json(capsys, path) -> dict:
    status = main(["analyze", str(path), "--json"], environ={})
    out, _ = capsys.readouterr()
    assert status == 0
    return json.loads(out)


def check_passive(passive: dict, names) -> None:
    assert set(passive) == PASSIVE_KEYS
    assert [s["name"] for s in passive["signals"]] == list(names)
    for s in passive["signals"]:
        assert set(s) == {"name", "score", "confidence", "reason", "details"}
        assert 0.0 <= s["score"] <= 1.0 and 0.0 <= s["confidence"] <= 1.0
        assert all(v is None or isinstance(v, bool | int | float | str)
                   for v in s["details"].values())
    assert passive["liveness"] == pytest.approx(100 * (1 - passive["attack_probability"]),
                                                abs=0.01)
    assert passive["passed"] == (passive["liveness"] >= passive["threshold"]
                                 and not passive["refused"])
    assert passive["threshold"] == 90.0
    assert set(passive["contributions"]) <= set(names)
    assert all(v > 0 for v in passive["life"].values())
    for name, v in passive["contributions"].items():
        assert v >= 0 or passive["life"].get(name, 0.0) > 0


@pytest.mark.data
def test_a_video_gets_every_cue_and_a_liveness_score(capsys, cached_tracking):
    report = analyze_json(capsys, cached_tracking / D0)
    assert report["frames"] == 78  # the other parts are still there
    passive = report["passive"]
    check_passive(passive, SINGLE_FRAME + MULTI_FRAME)
    assert passive["still"] is False
    assert "PASSIVE_INSUFFICIENT" not in passive["reasons"]  # a frontal, well-lit face
    by_name = {s["name"]: s for s in passive["signals"]}
    assert by_name["texture"]["details"]["samples"] >= 5
    assert "ratio" in by_name["texture"]["details"]
    # 3 s of clip: too short for a pulse, and the cue says so instead of guessing.
    assert by_name["pulse"]["confidence"] == 0.0 and "why" in by_name["pulse"]["details"]
    # He smiles and blinks: his face deforms as skin does, and that counts for life.
    assert by_name["expression"]["score"] < 0.1 and passive["life"]["expression"] > 0
    assert passive["refused"] is False and passive["passed"] is True
    assert passive["frame_rate"] == pytest.approx(25.0, abs=0.1)


@pytest.mark.data
def test_a_video_too_slow_to_show_life_is_not_judged(capsys, cached_tracking):
    report = analyze_json(capsys, cached_tracking / SLOW)
    passive = report["passive"]
    check_passive(passive, SINGLE_FRAME + MULTI_FRAME)
    assert passive["frame_rate"] == pytest.approx(5.0, abs=0.2)
    assert passive["refused"] is True and passive["still"] is False
    assert passive["reasons"][0] == "CAPTURE_TOO_SLOW" and passive["passed"] is False
    assert main(["analyze", str(cached_tracking / SLOW)], environ={}) == 0
    text = capsys.readouterr().out
    assert "liveness not judged: CAPTURE_TOO_SLOW" in text and "frames at 5.0 per second" in text


@pytest.mark.data
def test_a_still_image_gets_the_single_frame_cues_and_says_so(capsys, cached_tracking):
    report = analyze_json(capsys, cached_tracking / T1)
    passive = report["passive"]
    check_passive(passive, SINGLE_FRAME)
    assert passive["still"] is True and passive["refused"] is True
    assert passive["reasons"] == ["SINGLE_IMAGE"] and passive["passed"] is False
    assert passive["contributions"] == {} and passive["life"] == {}


@pytest.mark.data
def test_the_text_report_names_the_refusal_and_the_cues_that_show_life(capsys,
                                                                       cached_tracking):
    assert main(["analyze", str(cached_tracking / T1)], environ={}) == 0
    text = capsys.readouterr().out
    assert "liveness not judged: SINGLE_IMAGE" in text and "cue display" in text
    assert main(["analyze", str(cached_tracking / D0)], environ={}) == 0
    text = capsys.readouterr().out
    assert "cue expression" in text and "shows life" in text and "cue flicker" in text


def test_details_keep_scalars_only():
    details = {"ratio": 1.234567, "samples": 3, "why": "no face", "flag": True, "none": None,
               "nan": math.nan, "seq": [1, 2], "glcm": {"a": 1.0}, "long": "x" * 500}
    assert scalar_details(details) == {"ratio": 1.2346, "samples": 3, "why": "no face",
                                       "flag": True, "none": None, "nan": None}


def test_observations_that_do_not_match_the_frames_are_refused(tmp_path):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 15.0, (64, 48))
    for _ in range(3):
        writer.write(np.full((48, 64, 3), 128, np.uint8))
    writer.release()
    shifted = [FaceObservation(seq=i + 1, t=i / 15, media_t=i / 15, frame_shape=(48, 64),
                               n_faces=0, face=None) for i in range(3)]
    with pytest.raises(InputError, match="decoded differently"):
        passive_part(str(path), shifted, Settings(), argparse.Namespace())
