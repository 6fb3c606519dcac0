"""Pair evaluation (metrics.json ``pairs`` block), photo variants and the calibration report,
on real data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from kiosk.cloud.calibration import DLIB_SCALE
from kiosk.cloud.local import LocalMatcher
from kiosk.cloud.media import parse_frames
from kiosk.errors import InputError
from kiosk.lab.pairs import evaluate_pairs, read_pairs, segment_frames
from kiosk.reasons import Reason
from tests.cloud.conftest import OBAMA

IMAGE_F1 = "minivision-ai_Silent-Face-Anti-Spoofing/images/sample/image_F1.jpg"


@pytest.fixture(scope="module")
def pairs_report(shared_data: Path, local_matcher: LocalMatcher) -> dict:
    """The local matcher over ../shared/data/pairs.csv, computed once for this module.

    A recording's best frames are chosen from 50 frames spread over it rather than the
    kiosk's 300: every pair's decision is the same (TAR 1.0 on compared pairs, FAR 0, for
    every variant; 100 and 50 frames compared: a recording's similarity to another person
    moved by 9.5 points at most and stayed under 88, the threshold being 95) at four fifths
    of the module's time, the longest of the suite. ``kiosk evaluate`` reports them from 300.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("kiosk.lab.live_frames.MAX_EXAMINED", 50)
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


def test_local_matcher_meets_the_target_with_tight_and_card_photos(pairs_report):
    # Issue 14: TAR >= 0.99 at FAR <= 0.01 at the default threshold, tight-crop and card-size
    # variants of the photos included, no photo without its face. Each pair's similarity
    # at full size, cropped tight and card size is printed for the report.
    print()
    for p in pairs_report["per_pair"]:
        if p.get("skipped"):
            continue
        sims = [p["similarity"]] + [p.get("variants", {}).get(v) for v in ("tight", "card")]
        cells = " ".join("   -  " if v is None else f"{v:6.1f}" for v in sims)
        print(f"{p['same']} {cells}  {p['a'].rsplit('/', 1)[-1]} / {p['b'].rsplit('/', 1)[-1]}")
    for name, block in pairs_report["variants"].items():
        print(f"{name}: TAR {block['tar']:.3f} ({block['same']} same), FAR {block['far']:.3f} "
              f"({block['different']} different), not compared {block['not_compared']}; on "
              f"compared pairs TAR {block['tar_compared']:.3f}")
        assert block["failures"] == 0, name
        assert block["tar_compared"] >= 0.99 and block["far"] <= 0.01, name
    assert set(pairs_report["variants"]) == {"full", "tight", "card", "all"}
    assert pairs_report["variants"]["all"]["same"] == 52  # 20 + 16 tight + 16 card


def test_the_quality_gate_refuses_only_the_turned_poster(pairs_report):
    # image_F1 is a poster held at about 28 degrees: not an ID photo the kiosk may compare.
    refused = [p for p in pairs_report["per_pair"] if p.get("compared") is False]
    assert [p["a"] for p in refused] == [IMAGE_F1]
    assert Reason.ID_PHOTO_NOT_FRONTAL in refused[0]["reasons"]
    assert pairs_report["not_compared"] == 1
    assert pairs_report["tar"] == pytest.approx(19 / 20)  # the refused pair counts as a reject


def test_demo_gif_segments_are_read_from_the_notes(pairs_report):
    gif_rows = [p for p in pairs_report["per_pair"] if p["b"].endswith("demo.gif")]
    assert {p["frames_b"] for p in gif_rows} == {"0-32", "62-87", "33-61"}
    assert all(p["matched"] for p in gif_rows if p["compared"])


def test_recordings_give_the_kiosks_k_best_frames(pairs_report):
    videos = [p for p in pairs_report["per_pair"]
              if p.get("compared") and p["b"].endswith((".mp4", ".MOV", ".webm"))]
    assert videos and pairs_report["frames"] == 5
    # One replay frame is turned about 25 degrees by dlib's landmarks: the gate drops it.
    counts = sorted(p["frames"] for p in videos)
    assert counts[0] == 4 and counts[1:] == [5] * (len(videos) - 1)


def test_the_calibration_refit_agrees_with_the_shipped_threshold(pairs_report):
    cal = pairs_report["calibration"]
    loso = cal["leave_one_subject_out"]
    print(f"\nrefit at FAR 1%: {cal['fitted_distance']:.4f} (shipped "
          f"{cal['threshold_distance']:.4f}; leave one subject out {loso['min']:.3f}-"
          f"{loso['max']:.3f}); closest different {cal['closest_different']:.4f} (margin "
          f"{cal['margin_different']:+.4f}), farthest same {cal['farthest_same']:.4f} (margin "
          f"{cal['margin_same']:+.4f})")
    assert cal["threshold_distance"] == pytest.approx(DLIB_SCALE.distance_at(95.0))
    assert abs(cal["fitted_distance"] - cal["threshold_distance"]) < 0.01
    assert cal["margin_different"] > 0 and cal["margin_same"] > 0
    assert loso["min"] < cal["fitted_distance"] < loso["max"]
    assert cal["far_bound_95"] == pytest.approx(3 / cal["independent_different"])
    distances = pairs_report["distances"]
    assert {d["variant"] for d in distances} == {"full", "tight", "card"}
    assert len(distances) == 49 + 68  # compared same and different pairs of every variant


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


def test_a_pair_with_a_file_that_cannot_be_read_is_left_out_and_listed(
        tmp_path: Path, shared_data: Path, local_matcher: LocalMatcher):
    """A missing or damaged file says nothing about the matcher: no failure to acquire."""
    pairs = tmp_path / "pairs.csv"
    obama = shared_data / OBAMA
    (tmp_path / "damaged.jpg").write_bytes(b"\xff\xd8\xff not really a JPEG")
    pairs.write_text(f"a,b,same,notes\n{obama},{obama},1,\n{obama},{tmp_path}/gone.jpg,1,\n"
                     f"{tmp_path}/damaged.jpg,{obama},0,\n")
    report = evaluate_pairs(pairs, local_matcher)
    assert report["same"] == 1 and report["failures"] == 0 and report["tar"] == 1.0
    assert report["different"] == 0 and report["far"] is None
    counted = {name: block["same"] + block["different"]
               for name, block in report["variants"].items()}
    assert counted == {"full": 1, "tight": 1, "card": 1, "all": 3}  # the readable pair only
    assert [(u["b"], u["a"]) for u in report["unreadable"]] == [
        (f"{tmp_path}/gone.jpg", str(obama)), (str(obama), f"{tmp_path}/damaged.jpg")]
    assert "does not exist" in report["unreadable"][0]["error"]
    assert "does not exist" in report["per_pair"][1]["error"]
