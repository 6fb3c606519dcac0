"""``kiosk analyze`` and ``kiosk verify`` through the CLI dispatcher."""

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
    lines = out.splitlines()
    # It ends with the liveness summary and one line per cue, as the README promises.
    cues = [line for line in lines if line.startswith("  cue ")]
    assert [line.split()[1] for line in cues] == [
        "texture", "moire", "edges", "glare", "lighting", "display", "planar", "coupling",
        "pulse", "flicker", "reflection", "expression", "rigid_smile"]
    assert lines[-len(cues) - 1].startswith("  liveness ") and "threshold 90" in out
    assert lines[-len(cues):] == cues


def test_verify_passes_a_matching_script(capsys, shared_data, tmp_path):
    db = tmp_path / "audit.db"
    # d7 closes both eyes at ~2.3-2.8 s: a blink prompt at 1.9 s is answered ~0.4 s later.
    status, out, _ = kiosk(capsys, "verify", "--source", str(shared_data / D7),
                           "--script", "blink@1.9", "--db", str(db), "--json")
    result = json.loads(out)
    assert status == 0 and result["decision"] == "pass" and result["reasons"] == []
    [challenge] = result["challenges"]
    assert challenge["outcome"] == "passed" and challenge["prompt_t"] == 1.9
    assert challenge["event"]["action"] == "blink" and 0.15 <= challenge["reaction_s"] < 1.0
    assert isinstance(result["attempt_id"], int) and db.is_file()
    assert set(result["signals"]) >= {"texture", "moire", "edges", "planar", "pulse"}


def test_verify_fails_the_replay(capsys, shared_data, tmp_path):
    status, out, _ = kiosk(capsys, "verify", "--source", str(shared_data / FAKE),
                           "--script", "blink@1.0,smile@3.0", "--db", str(tmp_path / "a.db"))
    assert status == 1
    lines = out.splitlines()
    assert lines[0].startswith(f"{shared_data / FAKE}: FAIL (attempt ")
    assert lines[1].startswith("  WRONG_ACTION: A clear, deliberate head movement")
    assert "not_shown" in out and "None" not in out and "after -" not in out


def test_verify_draws_random_challenges_by_default(capsys, shared_data, tmp_path):
    status, out, _ = kiosk(capsys, "verify", "--source", str(shared_data / D0),
                           "--db", str(tmp_path / "a.db"), "--json")
    result = json.loads(out)
    assert status in (0, 1) and result["decision"] in ("pass", "fail", "review")
    assert len(result["challenges"]) == 3  # settings.liveness.challenge_count
    actions = [c["action"] for c in result["challenges"]]
    assert all(a != b for a, b in zip(actions, actions[1:], strict=False))
    assert "script" not in result


def test_verify_refuses_a_locked_out_subject(capsys, shared_data, tmp_path):
    from datetime import UTC, datetime

    from kiosk.audit import AttemptRecord, open_kiosk_log
    from kiosk.settings import Settings

    db = tmp_path / "a.db"
    settings = Settings().replace("audit", db_path=str(db))
    with open_kiosk_log(settings, tmp_path) as audit:
        ref = audit.subject_ref("B-77")
        for _ in range(settings.audit.max_failures):
            now = datetime.now(UTC)
            audit.record_attempt(AttemptRecord(
                kiosk_id="kiosk-1", started_at=now, ended_at=now, subject_ref=ref,
                decision="fail", app_version="test", settings_digest=settings.digest()))
    status, out, _ = kiosk(capsys, "verify", "--source", str(shared_data / D0), "--db", str(db),
                           "--subject", "B-77", "--json")
    result = json.loads(out)
    assert status == 1 and result["decision"] == "fail" and result["reasons"] == ["RATE_LIMITED"]
    # The refused try of a locked-out number is itself recorded: it counts toward the kiosk's
    # own lockout, as repeated tries of a locked number suggest an attack.
    assert result["challenges"] == [] and isinstance(result["attempt_id"], int)
    status, out, _ = kiosk(capsys, "verify", "--source", str(shared_data / D0), "--db", str(db),
                           "--subject", "B-77")
    assert out.splitlines()[0].endswith(f": FAIL (attempt {result['attempt_id'] + 1})")
    assert "None" not in out


def test_verify_rejects_a_bad_script_before_tracking(capsys, tmp_path):
    status, _, err = kiosk(capsys, "verify", "--source", str(tmp_path / "missing.mp4"),
                           "--script", "wave@1.0")
    assert status == 2 and "unknown action 'wave'" in err
    status, _, err = kiosk(capsys, "verify", "--source", str(tmp_path / "missing.mp4"),
                           "--script", "blink@1.0")
    assert status == 2 and "missing.mp4" in err


def test_verify_text_says_not_recorded_and_never_a_negative_reaction():
    import io

    from kiosk.cli.verify import NO_LIGHT, _print_text

    out = io.StringIO()
    _print_text(out, {
        "source": "clip.mp4", "decision": "fail", "attempt_id": None,
        "reasons": ["ACTION_BEFORE_PROMPT"], "liveness_score": None,
        "challenges": [{"action": "blink", "outcome": "failed", "prompt_t": 1.0,
                        "reaction_s": -0.4, "reason": "ACTION_BEFORE_PROMPT"}],
        "light": {"run": False, "why": NO_LIGHT},
        "match": {"matcher": "local", "matched": False, "similarity": None}})
    text = out.getvalue()
    assert text.splitlines()[0] == "clip.mp4: FAIL (not recorded)"
    assert f"  {NO_LIGHT}" in text.splitlines()
    assert "started 400 ms before the prompt" in text
    assert "similarity -" in text and "None" not in text and "-400" not in text
