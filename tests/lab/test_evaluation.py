"""``kiosk evaluate`` and its library: metrics.json's shape and numbers, manifests, exit codes."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.analysis.fusion import FusionResult
from kiosk.cli import main
from kiosk.errors import InputError
from kiosk.lab.evaluation import Presentation, build_metrics, decision
from kiosk.lab.manifest import COLUMNS, ManifestRow, read_manifest
from kiosk.model import Event

ISSUE_KEYS = {"presentations", "pad", "events", "pairs", "per_presentation"}
PAD_KEYS = {"threshold", "apcer", "bpcer", "acer", "bpcer_at_apcer_1pct"}
APCER_KEYS = {"print", "replay", "mask", "unknown", "max"}
ENTRY_KEYS = {"path", "frames", "label", "species", "score", "decision", "reasons"}
EVENT_KEYS = {"labelled", "detected", "precision", "recall"}


def row(path="a.mp4", media="video", label="bona_fide", species="", frames="", events="",
        subject="", notes="") -> ManifestRow:
    return ManifestRow(path, media, label, species, frames, events, subject, notes)


def presentation(r: ManifestRow, p_attack: float, *, events=None, simulated=False,
                 reasons=(), fps: float = 30.0) -> Presentation:
    if r.still:  # the fusion refuses stills, whatever their cues say
        fused = FusionResult(score=0.0, attack_probability=1.0, reasons=("SINGLE_IMAGE",),
                             still=True, refused=True)
    elif fps < 10.0:  # and videos too slow to show life
        fused = FusionResult(score=0.0, attack_probability=1.0,
                             reasons=("CAPTURE_TOO_SLOW", *reasons), refused=True,
                             frame_rate=fps)
    else:
        fused = FusionResult(score=100.0 * (1.0 - p_attack), attack_probability=p_attack,
                             reasons=tuple(reasons))
    return Presentation(row=r, n_frames=1 if r.still else 30, fps=None if r.still else fps,
                        faces=1, signals=[], fused=fused, events=events, simulated=simulated)


def check_issue_shape(metrics: dict) -> None:
    assert set(metrics) >= ISSUE_KEYS
    assert set(metrics["presentations"]) == {"bona_fide", "attack"}
    assert set(metrics["presentations"]["attack"]) == {"print", "replay", "mask", "unknown"}
    assert set(metrics["pad"]) >= PAD_KEYS
    assert set(metrics["pad"]["apcer"]) == APCER_KEYS
    for counts in metrics["events"].values():
        assert set(counts) >= EVENT_KEYS
    for entry in metrics["per_presentation"]:
        assert set(entry) >= ENTRY_KEYS
        assert isinstance(entry["path"], str) and isinstance(entry["frames"], str)
        assert isinstance(entry["reasons"], list)
        assert entry["decision"] in ("attack", "bona_fide", "refused")
    assert metrics["pairs"] is None or {"same", "different", "threshold", "tar", "far"} <= set(
        metrics["pairs"])


# -- the library, on hand-made presentations ---------------------------------------------------

def test_metrics_follow_iso_30107_3_per_presentation():
    presentations = [
        presentation(row("b1.mp4"), 0.02),
        presentation(row("b2.mp4"), 0.05),
        presentation(row("b3.mp4"), 0.30),                   # rejected bona fide
        presentation(row("b4.mp4"), 0.08),
        presentation(row("p1.mp4", label="attack", species="print"), 0.95),
        presentation(row("p2.mp4", label="attack", species="print"), 0.06),
        presentation(row("r1.mp4", label="attack", species="replay"), 0.99),
        presentation(row("s1.jpg", media="image"), 0.0),       # refused
        presentation(row("s2.jpg", media="image", label="attack", species="print"), 0.0),
    ]
    m = build_metrics(presentations, confidence_threshold=90.0, excluded_overlay=3)
    check_issue_shape(m)
    assert m["presentations"] == {"bona_fide": 4,
                                  "attack": {"print": 2, "replay": 1, "mask": 0, "unknown": 0}}
    pad = m["pad"]
    assert pad["threshold"] == 0.1
    assert pad["apcer"] == {"print": 0.5, "replay": 0.0, "mask": None, "unknown": None,
                            "max": 0.5}
    assert pad["bpcer"] == 0.25
    assert pad["acer"] == pytest.approx(0.375)
    # APCER <= 1 % needs every attack rejected: threshold 0.06 rejects b3 and b4 too.
    assert pad["bpcer_at_apcer_1pct"] == 0.5
    # AUC: attacks outscore bona fide in 10 of 12 pairs (p2 at 0.06 beats only b1 and b2).
    assert pad["auc"] == pytest.approx(10 / 12, abs=1e-4)
    assert pad["distribution"]["bona_fide"]["n"] == 4
    assert pad["distribution"]["bona_fide"]["liveness_percentiles"]["0"] == 70.0
    assert pad["distribution"]["print"]["n"] == 2 and "mask" not in pad["distribution"]
    assert m["excluded_overlay"] == 3 and m["pairs"] is None and m["simulated"] is None
    assert [e["decision"] for e in m["per_presentation"]] == [
        "bona_fide", "bona_fide", "attack", "bona_fide", "attack", "bona_fide", "attack",
        "refused", "refused"]
    assert m["refused"] == {"presentations": {"bona_fide": 1, "attack": {
        "print": 1, "replay": 0, "mask": 0, "unknown": 0}}, "reasons": ["SINGLE_IMAGE"],
        "by_reason": {"SINGLE_IMAGE": 2}}
    assert m["by_media"]["still"] == {"refused": m["refused"]}
    video = m["by_media"]["video"]
    assert video["pad"]["bpcer"] == 0.25 and video["pad"]["apcer"]["replay"] == 0.0
    json.dumps(m)  # JSON-ready


def test_the_decision_matches_the_liveness_threshold():
    p = presentation(row(), 0.1)
    assert decision(p, 0.1) == "attack"  # at the threshold: attack (pad_metrics' convention)
    assert decision(presentation(row(), 0.0999), 0.1) == "bona_fide"
    m = build_metrics([presentation(row(), 0.25)], confidence_threshold=70.0)
    assert m["pad"]["threshold"] == pytest.approx(0.3)
    assert m["per_presentation"][0]["decision"] == "bona_fide"
    with pytest.raises(ValueError, match="confidence_threshold"):
        build_metrics([], confidence_threshold=120.0)


def test_simulated_material_is_reported_apart():
    real = [presentation(row("b.mp4"), 0.01),
            presentation(row("r.mp4", label="attack", species="replay"), 0.02)]
    sim = [presentation(row("s1.mp4", label="attack", species="print"), 0.9, simulated=True),
           presentation(row("s2.mp4", label="attack", species="print"), 0.95, simulated=True)]
    m = build_metrics(real + sim, confidence_threshold=90.0)
    assert m["presentations"]["attack"]["print"] == 0
    assert m["pad"]["apcer"]["replay"] == 1.0 and m["pad"]["apcer"]["print"] is None
    assert len(m["per_presentation"]) == 2
    s = m["simulated"]
    assert s["presentations"]["attack"]["print"] == 2
    assert s["pad"]["apcer"]["print"] == 0.0
    # The bona fide side is the real bona fide videos the attacks were rendered from.
    assert s["pad"]["bpcer"] == 0.0 and s["pad"]["bpcer_at_apcer_1pct"] == 0.0
    assert s["by_media"]["still"]["pad"]["bpcer"] is None  # no simulated still attack
    assert s["pad"]["auc"] == 1.0
    assert s["by_media"]["video"]["pad"]["bpcer"] == 0.0
    assert [e["path"] for e in s["per_presentation"]] == ["s1.mp4", "s2.mp4"]


def test_the_events_block_is_flat_per_action():
    labelled = row("d.mp4", events="blink@1.0-1.2;smile@2.0-3.0;talk@4.0-5.0;turn_left@6.0-7.0")
    found = [Event("blink", 1.05, 1.15, 0.9), Event("smile", 5.5, 5.9, 0.8),
             Event("turn_left", 6.2, 6.8, 0.9)]
    m = build_metrics([presentation(labelled, 0.01, events=found),
                       presentation(row("s.jpg", media="image"), 0.01)],
                      confidence_threshold=90.0)
    assert m["events"] == {
        "blink": {"labelled": 1, "detected": 1, "precision": 1.0, "recall": 1.0},
        "smile": {"labelled": 1, "detected": 1, "precision": 0.0, "recall": 0.0},
        "turn_left": {"labelled": 1, "detected": 1, "precision": 1.0, "recall": 1.0},
    }
    assert m["events_spurious"] == {"turn": 0, "smile": 0}


# -- manifests ------------------------------------------------------------------------------

def write_manifest(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({c: r.get(c, "") for c in COLUMNS})
    return path


@pytest.mark.parametrize("rows, message", [
    ([{"path": "a.mp4", "media": "film", "label": "bona_fide"}], "media"),
    ([{"path": "a.mp4", "media": "video", "label": "live"}], "label"),
    ([{"path": "a.mp4", "media": "video", "label": "attack", "species": "photo"}], "species"),
    ([{"path": "a.mp4", "media": "video", "label": "bona_fide", "species": "print"}],
     "no species"),
    ([{"path": "a.mp4", "media": "video", "label": "bona_fide", "frames": "9-3"}], "frames"),
    ([{"path": "", "media": "video", "label": "bona_fide"}], "path"),
    ([], "no rows"),
])
def test_bad_manifest_rows_are_input_errors_naming_the_line(tmp_path, rows, message):
    path = write_manifest(tmp_path / "m.csv", rows)
    with pytest.raises(InputError, match=message):
        read_manifest(path)


def test_manifest_without_a_column_or_file(tmp_path):
    (tmp_path / "m.csv").write_text("path,media,label\na.mp4,video,bona_fide\n")
    with pytest.raises(InputError, match="lacks the column"):
        read_manifest(tmp_path / "m.csv")
    with pytest.raises(InputError, match="does not exist"):
        read_manifest(tmp_path / "absent.csv")


def test_manifest_rows_know_their_segment_and_overlay(tmp_path):
    path = write_manifest(tmp_path / "m.csv", [
        {"path": "g.gif", "media": "gif", "label": "attack", "species": "replay",
         "frames": "33-61", "notes": "overlay: app UI"},
        {"path": "i.jpg", "media": "image", "label": "bona_fide"}])
    seg, still = read_manifest(path)
    assert seg.frame_range == (33, 61) and seg.overlay and seg.key == "g.gif#33-61"
    assert still.still and not still.overlay and still.frame_range is None


# -- the command on synthetic media (fast) ------------------------------------------------------

def test_videos_too_slow_to_show_life_are_failures_to_acquire_in_no_pad_figure():
    judged = [presentation(row("b1.mp4"), 0.02), presentation(row("b2.mp4"), 0.30),
              presentation(row("r1.mp4", label="attack", species="replay"), 0.99)]
    slow = [presentation(row("b3.mp4"), 0.0, fps=5.0),
            presentation(row("r2.mp4", label="attack", species="replay"), 0.0, fps=7.7,
                         reasons=("DEVICE_EDGES",)),
            presentation(row("s1.jpg", media="image"), 0.0)]
    m = build_metrics(judged + slow, confidence_threshold=90.0)
    without = build_metrics(judged, confidence_threshold=90.0)
    assert m["pad"] == without["pad"] and m["presentations"] == without["presentations"]
    assert m["pad"]["bpcer"] == 0.5  # b2 only: b3 is neither a pass nor an error
    assert [e["decision"] for e in m["per_presentation"]][3:] == ["refused"] * 3
    assert m["refused"]["by_reason"] == {"CAPTURE_TOO_SLOW": 2, "SINGLE_IMAGE": 1}
    video = m["by_media"]["video"]
    assert video["pad"] == without["by_media"]["video"]["pad"]
    assert video["refused"]["presentations"]["bona_fide"] == 1
    assert video["refused"]["presentations"]["attack"]["replay"] == 1
    assert video["refused"]["reasons"] == ["CAPTURE_TOO_SLOW", "DEVICE_EDGES"]


def synthetic_video(path: Path, frames: int = 12, size=(96, 80), seed: int = 0,
                    fps: float = 15.0) -> Path:
    rng = np.random.default_rng(seed)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, size)
    assert writer.isOpened()
    base = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    for i in range(frames):
        writer.write(np.roll(base, i, axis=1))
    writer.release()
    return path


@pytest.fixture
def synthetic_manifest(tmp_path) -> Path:
    synthetic_video(tmp_path / "live.avi", seed=1)
    synthetic_video(tmp_path / "replay.avi", seed=2, frames=20)
    rng = np.random.default_rng(3)
    cv2.imwrite(str(tmp_path / "photo.jpg"), rng.integers(0, 255, (64, 48, 3), dtype=np.uint8))
    return write_manifest(tmp_path / "manifest.csv", [
        {"path": "live.avi", "media": "video", "label": "bona_fide", "events": "blink@0.2-0.3"},
        {"path": "replay.avi", "media": "video", "label": "attack", "species": "replay",
         "frames": "5-14"},
        {"path": "photo.jpg", "media": "image", "label": "attack", "species": "print"},
        {"path": "replay.avi", "media": "video", "label": "attack", "species": "replay",
         "frames": "0-4", "notes": "overlay: app UI over the picture"},
    ])


def kiosk(capsys, *argv):
    status = main(list(argv), environ={})
    out, err = capsys.readouterr()
    return status, out, err


def test_evaluate_writes_metrics_and_det_curve(capsys, tmp_path, synthetic_manifest):
    out = tmp_path / "out" / "nested"
    status, stdout, stderr = kiosk(capsys, "evaluate", str(synthetic_manifest), "--out",
                                   str(out))
    assert status == 0
    assert "evaluate" in stderr and "%" in stderr  # tqdm progress bar on stderr
    assert "wrote" in stdout
    metrics = json.loads((out / "metrics.json").read_text())
    check_issue_shape(metrics)
    assert metrics["excluded_overlay"] == 1 and metrics["failed"] == []
    assert metrics["pairs"] is None and metrics["simulated"] is None
    entries = {(e["path"], e["frames"]): e for e in metrics["per_presentation"]}
    assert set(entries) == {("live.avi", ""), ("replay.avi", "5-14"), ("photo.jpg", "")}
    assert entries[("replay.avi", "5-14")]["n_frames"] == 10
    # Noise has no face: no evidence, so the passive part rejects every video; the still is
    # refused (a single image cannot show life) and left out of the PAD figures.
    for key in (("live.avi", ""), ("replay.avi", "5-14")):
        e = entries[key]
        assert "PASSIVE_INSUFFICIENT" in e["reasons"] and e["decision"] == "attack"
        assert e["score"] >= 0.5
    photo = entries[("photo.jpg", "")]
    assert photo["still"] is True and photo["decision"] == "refused"
    assert photo["reasons"] == ["SINGLE_IMAGE"]
    assert metrics["presentations"] == {
        "bona_fide": 1, "attack": {"print": 0, "replay": 1, "mask": 0, "unknown": 0}}
    assert metrics["refused"]["presentations"]["attack"]["print"] == 1
    assert metrics["pad"]["bpcer"] == 1.0 and metrics["pad"]["apcer"]["max"] == 0.0
    png = (out / "det.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_says_which_videos_were_too_slow_to_judge(capsys, tmp_path):
    synthetic_video(tmp_path / "live.avi", seed=1)
    synthetic_video(tmp_path / "slow.avi", seed=2, fps=5.0)
    manifest = write_manifest(tmp_path / "manifest.csv", [
        {"path": "live.avi", "media": "video", "label": "bona_fide"},
        {"path": "slow.avi", "media": "video", "label": "bona_fide"}])
    status, stdout, _ = kiosk(capsys, "evaluate", str(manifest), "--out", str(tmp_path / "o"))
    assert status == 0
    assert "1 bona fide and 0 attack presentations judged" in stdout
    assert "1 videos refused as failures to acquire" in stdout and "1 bona fide, 0 attack" in (
        stdout)
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    slow = next(e for e in metrics["per_presentation"] if e["path"] == "slow.avi")
    assert slow["decision"] == "refused" and slow["reasons"] == ["CAPTURE_TOO_SLOW"]


def test_evaluate_renders_simulated_attacks_and_reports_them_apart(capsys, tmp_path,
                                                                 synthetic_manifest):
    out = tmp_path / "out"
    status, _, _ = kiosk(capsys, "evaluate", str(synthetic_manifest), "--out", str(out),
                         "--simulated", "2", "--seed", "5")
    assert status == 0
    m = json.loads((out / "metrics.json").read_text())
    # The real blocks are unchanged by the simulated material.
    assert m["presentations"]["attack"] == {"print": 0, "replay": 1, "mask": 0, "unknown": 0}
    assert len(m["per_presentation"]) == 3
    sim = m["simulated"]
    # One bona fide video: a print (seed 5) and a replay (seed 1005) rendered from it.
    assert sim["presentations"]["attack"] == {"print": 1, "replay": 1, "mask": 0, "unknown": 0}
    paths = [e["path"] for e in sim["per_presentation"]]
    assert paths == ["simulated/print/seed-5/live.avi", "simulated/replay/seed-1005/live.avi"]
    assert all(e["simulated"] and e["n_frames"] == 105 for e in sim["per_presentation"])
    assert sim["bona_fide_reference"].startswith("the real bona fide")


def test_evaluate_reports_unreadable_rows_and_exits_1(capsys, tmp_path, synthetic_manifest):
    (tmp_path / "broken.avi").write_bytes(b"not a video at all")
    rows = list(csv.DictReader(synthetic_manifest.open(newline="")))
    rows.append({"path": "broken.avi", "media": "video", "label": "bona_fide"})
    write_manifest(synthetic_manifest, rows)
    status, _, _ = kiosk(capsys, "evaluate", str(synthetic_manifest), "--out",
                         str(tmp_path / "out"))
    assert status == 1
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert [f["path"] for f in metrics["failed"]] == ["broken.avi"]
    assert metrics["presentations"]["bona_fide"] == 1


def test_evaluate_lists_pairs_whose_files_cannot_be_read_and_exits_1(capsys, tmp_path,
                                                                    synthetic_manifest):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("a,b,same,notes\ngone.jpg,also-gone.jpg,1,\n")
    status, stdout, _ = kiosk(capsys, "evaluate", str(synthetic_manifest), "--out",
                              str(tmp_path / "o"), "--pairs", str(pairs))
    assert status == 1
    assert "pair NOT EVALUATED gone.jpg / also-gone.jpg: " in stdout
    assert "does not exist" in stdout and "0 failed to acquire" in stdout
    m = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert m["pairs"]["same"] == 0 and m["pairs"]["failures"] == 0 and m["pairs"]["tar"] is None
    assert [(u["a"], u["b"]) for u in m["pairs"]["unreadable"]] == [("gone.jpg",
                                                                     "also-gone.jpg")]


def test_evaluate_refuses_bad_arguments_with_status_2(capsys, tmp_path, synthetic_manifest):
    status, _, err = kiosk(capsys, "evaluate", str(tmp_path / "none.csv"), "--out",
                           str(tmp_path / "o"))
    assert status == 2 and "does not exist" in err
    (tmp_path / "file").write_text("x")
    status, _, err = kiosk(capsys, "evaluate", str(synthetic_manifest), "--out",
                           str(tmp_path / "file"))
    assert status == 2 and "not a folder" in err
    status, _, err = kiosk(capsys, "evaluate", str(synthetic_manifest), "--out",
                           str(tmp_path / "o"), "--pairs", str(tmp_path / "pairs.csv"))
    assert status == 2 and "--pairs" in err
    assert not (tmp_path / "o" / "metrics.json").exists()


# -- the developer set (a subset, to keep the time down) ----------------------------------------

SUBSET = (
    "KwaiVGI_LivePortrait/assets/examples/driving/d0.mp4",
    "Manikantha-M_Face-Liveness-detection-using-Deeplearning-and-OpenCV/videos/fake.mp4",
    "minivision-ai_Silent-Face-Anti-Spoofing/images/sample/image_T1.jpg",
    "minivision-ai_Silent-Face-Anti-Spoofing/images/sample/image_F2.jpg",
    "jomariya23156_face-recognition-with-liveness-web-login/face_recognition_and_liveness/"
    "face_liveness_detection/images/fakes/10.jpg",
)


@pytest.mark.data
def test_evaluate_on_developer_media(capsys, tmp_path, shared_data, manifest_rows):
    # Copies: manifest_rows is shared by the whole test session.
    chosen = [dict(r) for r in manifest_rows if r["path"] in SUBSET or r["notes"].startswith("overlay:")
              and r["frames"] == "0-32"]
    for r in chosen:  # paths relative to the subset manifest's folder
        r["path"] = os.path.relpath(shared_data / r["path"], tmp_path)
    manifest = write_manifest(tmp_path / "subset.csv", chosen)
    pairs = tmp_path / "pairs.csv"
    obama = os.path.relpath(shared_data / "ageitgey_face_recognition/examples/obama.jpg",
                            tmp_path)
    obama2 = os.path.relpath(shared_data / "ageitgey_face_recognition/examples/obama2.jpg",
                             tmp_path)
    biden = os.path.relpath(shared_data / "ageitgey_face_recognition/examples/biden.jpg",
                            tmp_path)
    pairs.write_text(f"a,b,same,notes\r\n{obama},{obama2},1,\r\n{obama},{biden},0,\r\n")
    status, stdout, _ = kiosk(capsys, "evaluate", str(manifest), "--out", str(tmp_path / "o"),
                              "--pairs", str(pairs))
    assert status == 0, stdout
    m = json.loads((tmp_path / "o" / "metrics.json").read_text())
    check_issue_shape(m)
    # The stills (image_T1, image_F2, fakes/10) are refused; the videos are judged.
    assert m["presentations"] == {
        "bona_fide": 1, "attack": {"print": 0, "replay": 1, "mask": 0, "unknown": 0}}
    assert m["refused"]["presentations"] == {
        "bona_fide": 1, "attack": {"print": 1, "replay": 1, "mask": 0, "unknown": 0}}
    assert m["excluded_overlay"] == 1
    # d0 smiles once (0.8-2.6 s); the only labelled event of the subset.
    assert m["events"]["smile"]["labelled"] == 1 and m["events"]["smile"]["recall"] == 1.0
    threshold = m["pad"]["threshold"]
    for e in m["per_presentation"]:
        assert 0.0 <= e["score"] <= 1.0
        assert e["still"] == e["path"].endswith(".jpg")
        if e["still"]:
            assert e["decision"] == "refused" and e["reasons"] == ["SINGLE_IMAGE"]
            continue
        assert e["decision"] == ("attack" if e["score"] >= threshold else "bona_fide")
        assert "PASSIVE_INSUFFICIENT" not in e["reasons"]  # every file shows a usable face
    by_name = {Path(e["path"]).name: e for e in m["per_presentation"]}
    # The phone replay: its edges move with the face; d0 deforms as a live face does.
    assert by_name["fake.mp4"]["decision"] == "attack"
    assert by_name["d0.mp4"]["decision"] == "bona_fide" and by_name["d0.mp4"]["life"]
    assert m["pairs"]["same"] == 1 and m["pairs"]["different"] == 1
    assert m["pairs"]["tar"] == 1.0 and m["pairs"]["far"] == 0.0
