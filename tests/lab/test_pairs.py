"""Pair evaluation (metrics.json ``pairs`` block) and video frame picking, on real data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from kiosk.cloud.errors import InvalidImage
from kiosk.cloud.local import LocalMatcher
from kiosk.cloud.media import best_video_frame, load_face_image, parse_frames
from kiosk.errors import InputError
from kiosk.lab.pairs import evaluate_pairs, read_pairs, segment_frames
from tests.cloud.conftest import DEMO_GIF, OBAMA


@pytest.fixture(scope="module")
def pairs_report(shared_data: Path, local_matcher: LocalMatcher) -> dict:
    """The local matcher over ../shared/data/pairs.csv, computed once for this module."""
    return evaluate_pairs(shared_data / "pairs.csv", local_matcher)


def test_pairs_block_has_issue_4_keys_and_counts(pairs_report, shared_data: Path):
    with (shared_data / "pairs.csv").open(newline="", encoding="utf-8") as fh:
        labels = [row["same"] for row in csv.DictReader(fh)]
    assert pairs_report["same"] == labels.count("1")
    assert pairs_report["different"] == labels.count("0")
    assert pairs_report["unsure"] == labels.count("?")
    assert pairs_report["threshold"] == 95.0
    assert isinstance(pairs_report["tar"], float) and isinstance(pairs_report["far"], float)
    assert len(pairs_report["per_pair"]) == len(labels)
    json.dumps(pairs_report)  # plain values only: no arrays, no images


def test_local_matcher_meets_the_target(pairs_report):
    # Issue 5: TAR >= 0.99 at FAR <= 0.01 on the pairs available (printed for the report).
    sims = pairs_report["similarity"]
    print(f"\nlocal matcher at {pairs_report['threshold']}: TAR {pairs_report['tar']:.3f} "
          f"({pairs_report['same']} same), FAR {pairs_report['far']:.3f} "
          f"({pairs_report['different']} different), failures {pairs_report['failures']}; "
          f"similarity same {sims['same']}, different {sims['different']}")
    assert pairs_report["failures"] == 0
    assert pairs_report["tar"] >= 0.99
    assert pairs_report["far"] <= 0.01


def test_demo_gif_segments_are_read_from_the_notes(pairs_report):
    gif_rows = [p for p in pairs_report["per_pair"] if p["b"].endswith("demo.gif")]
    assert {p["frames_b"] for p in gif_rows} == {"0-32", "62-87", "33-61"}
    assert all(p["matched"] for p in gif_rows)


def test_unsure_rows_are_skipped(pairs_report):
    unsure = [p for p in pairs_report["per_pair"] if p["same"] == "?"]
    assert unsure and all(p["skipped"] == "unsure" and "similarity" not in p for p in unsure)


def test_segment_frames_only_for_the_named_side():
    notes = "same printed photo; b = demo.gif frames 62-87 (print segment)"
    assert segment_frames(notes, "b", "x/images/demo.gif") == (62, 87)
    assert segment_frames(notes, "a", "x/images/demo.gif") is None
    assert segment_frames(notes, "b", "x/other.gif") is None
    assert segment_frames("", "b", "demo.gif") is None


def test_parse_frames():
    assert parse_frames("33-61") == (33, 61)
    assert parse_frames(" 0 - 0 ") == (0, 0)
    assert parse_frames("") is None and parse_frames(None) is None
    for bad in ("61-33", "a-b", "12"):
        with pytest.raises(ValueError, match="START-END"):
            parse_frames(bad)


def test_read_pairs_errors(tmp_path: Path):
    with pytest.raises(InputError, match="does not exist"):
        read_pairs(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("left,right\nx,y\n")
    with pytest.raises(InputError, match="lacks the column"):
        read_pairs(bad)
    bad.write_text("a,b,same,notes\nx,y,maybe,\n")
    with pytest.raises(InputError, match="line 2: same must be 1, 0 or"):
        read_pairs(bad)


def test_missing_media_is_a_failure_to_acquire(tmp_path: Path, shared_data: Path,
                                               local_matcher: LocalMatcher):
    pairs = tmp_path / "pairs.csv"
    obama = shared_data / OBAMA
    pairs.write_text(f"a,b,same,notes\n{obama},{obama},1,\n{obama},{tmp_path}/gone.jpg,1,\n")
    report = evaluate_pairs(pairs, local_matcher)
    assert report["same"] == 2 and report["failures"] == 1
    assert report["tar"] == 0.5  # the unreadable pair counts as a false reject
    assert report["different"] == 0 and report["far"] is None
    assert "does not exist" in report["per_pair"][1]["error"]


def test_gif_segment_frame_is_picked_inside_the_range(shared_data: Path, detector):
    best = best_video_frame(shared_data / DEMO_GIF, detector, (62, 87))
    assert 62 <= best.index <= 87
    assert best.sampled >= 2
    assert best.image.shape == (322, 150, 3)


def test_video_errors(tmp_path: Path, detector):
    not_video = tmp_path / "clip.mp4"
    not_video.write_text("not a video")
    with pytest.raises(InvalidImage, match="neither a JPEG/PNG photo nor a video"):
        best_video_frame(not_video, detector)
    with pytest.raises(InvalidImage, match="does not exist"):
        load_face_image(tmp_path / "gone.mp4", detector)


def test_frame_range_on_a_photo_is_refused(shared_data: Path, detector):
    with pytest.raises(InvalidImage, match="frame range applies only to videos"):
        load_face_image(shared_data / OBAMA, detector, (0, 3))
