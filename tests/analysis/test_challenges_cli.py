"""``kiosk analyze`` and ``kiosk verify`` (scripted mode) through the CLI dispatcher."""

from __future__ import annotations

import json

import pytest

from kiosk.cli import main

pytestmark = pytest.mark.data

D0 = "KwaiVGI_LivePortrait/assets/examples/driving/d0.mp4"
D7 = "KwaiVGI_LivePortrait/assets/examples/driving/d7.mp4"
REAL = "tranvanluyt2203_face_anti_spoofing/videos/real.mp4"
FAKE = "tranvanluyt2203_face_anti_spoofing/videos/fake.mp4"


@pytest.fixture
def cached_tracking(monkeypatch, shared_data, track_clip):
    """Make the commands reuse the test session's tracking pass of each clip."""
    import kiosk.cli.analyze as analyze

    def observe(path):
        return iter(track_clip(str(path).removeprefix(str(shared_data) + "/")))
    monkeypatch.setattr(analyze, "observe", observe)
    return shared_data


def kiosk(capsys, *argv):
    status = main(list(argv), environ={})
    out, err = capsys.readouterr()
    return status, out, err


def test_analyze_json_end_to_end(capsys, shared_data):
    # The one test that tracks through the command itself (d0 is 78 frames).
    status, out, _ = kiosk(capsys, "analyze", str(shared_data / D0), "--json")
    assert status == 0
    report = json.loads(out)
    assert report["frames"] == 78 and report["fps"] == 25.0
    assert report["duration_s"] == pytest.approx(3.12, abs=0.01)
    assert report["faces"] == {"none": 0.0, "one": 1.0, "multiple": 0.0}
    assert [e["action"] for e in report["events"]] == ["smile", "blink"]
    smile = report["events"][0]
    assert set(smile) == {"action", "start", "end", "confidence"}
    assert 0.5 <= smile["start"] <= 1.1 and smile["end"] >= 2.3


def test_analyze_events_of_the_head_turn_clip(capsys, cached_tracking):
    status, out, _ = kiosk(capsys, "analyze", str(cached_tracking / REAL), "--json")
    report = json.loads(out)
    assert status == 0 and report["frames"] == 621
    assert [e["action"] for e in report["events"]][:4] == [
        "turn_left", "turn_right", "look_down", "look_up"]
    assert report["baseline"]["mode"] == "clip"
    status, out, _ = kiosk(capsys, "analyze", str(cached_tracking / REAL), "--baseline",
                           "start")
    assert status == 0 and "turn_left" in out and "turn_right" in out


def test_analyze_plain_text(capsys, cached_tracking):
    status, out, _ = kiosk(capsys, "analyze", str(cached_tracking / D7))
    assert status == 0
    assert "178 frames" in out and out.count("blink") >= 3


def test_verify_passes_a_matching_script(capsys, cached_tracking):
    status, out, _ = kiosk(capsys, "verify", "--source", str(cached_tracking / REAL),
                           "--script", "turn_left@1.5,turn_right@7.0", "--json")
    result = json.loads(out)
    assert status == 0 and result["passed"] is True
    assert [c["outcome"] for c in result["challenges"]] == ["passed", "passed"]
    assert result["challenges"][1]["prompt_t"] == 7.0
    assert result["challenges"][1]["event"]["action"] == "turn_right"


def test_verify_fails_the_replay(capsys, cached_tracking):
    status, out, _ = kiosk(capsys, "verify", "--source", str(cached_tracking / FAKE),
                           "--script", "blink@1.0,smile@3.0")
    assert status == 1
    assert "FAILED (WRONG_ACTION)" in out and "not_shown" in out


def test_verify_rejects_a_bad_script_before_tracking(capsys, tmp_path):
    status, _, err = kiosk(capsys, "verify", "--source", str(tmp_path / "missing.mp4"),
                           "--script", "wave@1.0")
    assert status == 2 and "unknown action 'wave'" in err
    status, _, err = kiosk(capsys, "verify", "--source", str(tmp_path / "missing.mp4"),
                           "--script", "blink@1.0")
    assert status == 2 and "missing.mp4" in err
