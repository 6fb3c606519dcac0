"""Event precision and recall against manifest rows (the rules of issue 3)."""

from __future__ import annotations

import pytest

from kiosk.lab.events_eval import Label, evaluate_events, parse_events, row_key
from kiosk.model import Event


def row(path="clip.mp4", events="", notes="", label="bona_fide", frames=""):
    return {"path": path, "media": "video", "label": label, "frames": frames,
            "events": events, "notes": notes}


def ev(action, start, end=None, confidence=0.9):
    return Event(action, start, start if end is None else end, confidence)


def test_parse_events_maps_eyes_closed_to_blink():
    labels = parse_events("blink@0.7-1.0;eyes_closed@2.3-2.8;wink_right@1.4-1.9;smile@3-4")
    assert labels == [Label("blink", 0.7, 1.0), Label("blink", 2.3, 2.8),
                      Label("wink_right", 1.4, 1.9), Label("smile", 3.0, 4.0)]
    assert parse_events("") == []
    assert parse_events("Blink@1-2;Eyes_Closed@3-4;TURN_LEFT@5-6") == [
        Label("blink", 1.0, 2.0), Label("blink", 3.0, 4.0), Label("turn_left", 5.0, 6.0)]
    for bad in ("blink", "blink@2-1", "blink@a-b"):
        with pytest.raises(ValueError):
            parse_events(bad)


def test_overlap_with_the_widened_window_counts():
    rows = [row(events="blink@1.4-1.4;turn_left@3.0-4.0")]
    detections = {"clip.mp4": [ev("blink", 1.65, 1.75),       # 0.25 s after: correct
                               ev("turn_left", 4.25, 4.6),    # starts 0.25 s after the end
                               ev("blink", 1.75, 1.8)]}       # 0.35 s after: wrong
    result = evaluate_events(rows, detections)["per_action"]
    assert result["blink"] == dict(labelled=1, found=1, detected=2, correct=1, precision=0.5,
                                   recall=1.0)
    assert result["turn_left"]["precision"] == 1.0 and result["turn_left"]["recall"] == 1.0


def test_the_action_must_match():
    rows = [row(events="turn_left@2.0-4.0")]
    result = evaluate_events(rows, {"clip.mp4": [ev("turn_right", 2.5, 3.5)]})["per_action"]
    assert result["turn_left"] == dict(labelled=1, found=0, detected=0, correct=0,
                                       precision=None, recall=0.0)
    assert result["turn_right"]["precision"] == 0.0 and result["turn_right"]["recall"] is None


def test_winks_and_talk_excuse_only_non_blink_non_smile_detections():
    rows = [row(events="talk@0.0-5.0;wink_left@6.0-6.5;smile@2.0-2.5")]
    detections = {"clip.mp4": [
        ev("blink", 6.1, 6.3),        # a blink on a wink: wrong, no blink label explains it
        ev("smile", 2.1, 2.4),        # explained by the smile label
        ev("smile", 4.0, 4.5),        # a smile during talk that no label explains: wrong
        ev("nod", 1.0, 1.4),          # excused: overlaps talk
        ev("nod", 8.0, 8.4),          # not excused: overlaps nothing
    ]}
    result = evaluate_events(rows, detections)["per_action"]
    assert result["blink"]["detected"] == 1 and result["blink"]["correct"] == 0
    assert result["smile"]["detected"] == 2 and result["smile"]["correct"] == 1
    assert result["nod"]["detected"] == 1 and result["nod"]["correct"] == 0
    assert "wink_left" not in result and "talk" not in result


def test_untimed_blinks_count_for_recall_not_precision():
    rows = [row(events="blink@1.0-1.0;smile@3.0-4.0", notes="untimed_blinks; partial list")]
    detections = {"clip.mp4": [ev("blink", 1.1, 1.2), ev("blink", 7.0, 7.1),
                               ev("smile", 3.2, 3.9)]}
    result = evaluate_events(rows, detections)["per_action"]
    assert result["blink"] == dict(labelled=1, found=1, detected=0, correct=0, precision=None,
                                   recall=1.0)
    assert result["smile"]["precision"] == 1.0


def test_overlay_rows_and_rows_without_detections_are_left_out():
    rows = [row(path="a.gif", events="blink@1-1", notes="overlay: app screen recording"),
            row(path="b.mp4", events="smile@1-2")]
    result = evaluate_events(rows, {"a.gif": [ev("blink", 1.0)]})
    assert result["per_action"] == {} and result["rows"] == []


def test_spurious_turns_and_smiles_on_bona_fide_clips_without_such_labels():
    rows = [row(path="a.mp4", events="blink@1-1"),
            row(path="b.mp4", events="turn_left@1-2"),
            row(path="c.mp4", label="attack")]
    detections = {"a.mp4": [ev("turn_right", 3, 4), ev("smile", 5, 6), ev("smile", 7, 8)],
                  "b.mp4": [ev("turn_left", 1, 2), ev("turn_right", 5, 6)],
                  "c.mp4": [ev("smile", 1, 2)]}
    spurious = evaluate_events(rows, detections)["spurious"]
    assert spurious["turn"] == {"events": 1, "clips": ["a.mp4"]}
    assert spurious["smile"] == {"events": 2, "clips": ["a.mp4"]}


def test_rows_with_a_frame_range_only_count_detections_inside_it():
    rows = [row(path="x.gif", frames="30-59", events="blink@1.2-1.2")]
    key = row_key(rows[0])
    assert key == "x.gif#30-59"
    detections = {key: [ev("blink", 1.2), ev("blink", 0.5), ev("smile", 2.5)]}
    result = evaluate_events(rows, detections, fps={"x.gif": 30.0})["per_action"]
    assert result["blink"]["detected"] == 1 and result["blink"]["correct"] == 1
    assert "smile" not in result
    with pytest.raises(ValueError, match="fps"):
        evaluate_events(rows, detections)


def test_missed_and_wrong_are_listed_per_row():
    rows = [row(events="blink@1-1;smile@3-4")]
    report = evaluate_events(rows, {"clip.mp4": [ev("blink", 6.0)]})["rows"]
    assert report[0]["row"] == "clip.mp4"
    assert [m.action for m in report[0]["missed"]] == ["blink", "smile"]
    assert [w.start for w in report[0]["wrong"]] == [6.0]


def test_a_recording_nobody_labelled_is_left_out_not_counted_as_doing_nothing():
    """kiosk record writes an empty events column: read as "did nothing", every action the
    person really made counted as a false detection (precision 0)."""
    rows = [row(path="rec/video.avi", notes="kiosk record; unlabelled_events; prompts blink@2"),
            row(events="blink@1.0-1.2")]
    detections = {"rec/video.avi": [ev("blink", 2.4, 2.6)], "clip.mp4": [ev("blink", 1.1, 1.2)]}
    result = evaluate_events(rows, detections)["per_action"]
    assert result["blink"] == dict(labelled=1, found=1, detected=1, correct=1, precision=1.0,
                                   recall=1.0)
