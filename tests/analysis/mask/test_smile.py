"""Rigid smile: live cheeks move with the mouth corners; a mask's stay put.

Synthetic crops in which the skin around the mouth is dragged by the corners (live) or only
the mouth inside a hole moves (mask); then real smiles of the developer set (data marker).
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from kiosk.analysis.mask.smile import (
    CORNERS,
    MIN_RECOVERED,
    RIGID,
    RigidSmileAnalyzer,
    Snapshot,
    cheek_patches,
    cheek_recovery,
    judged,
    rigid_smile_score,
    smile_coupling,
    smile_directions,
)
from tests.analysis.screen.helpers import LP, run_video

IOD = 60.0


def marks() -> np.ndarray:
    """A (468, 2) mesh in a 200x240 crop: eyes 60 px apart, mouth corners, rigid points."""
    rng = np.random.default_rng(0)
    m = np.column_stack([rng.uniform(40, 160, 468), rng.uniform(40, 200, 468)])
    m[list(RIGID)] = np.column_stack([np.linspace(50, 150, len(RIGID)),
                                      40 + 30 * np.abs(np.sin(np.arange(len(RIGID))))])
    m[33], m[263] = (70, 90), (130, 90)
    m[CORNERS[0]], m[CORNERS[1]] = (80, 170), (120, 170)
    return m.astype(np.float32)


def texture(seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.uniform(0, 255, (240, 200)).astype(np.float32), (0, 0), 2.0)
    return cv2.normalize(img, None, 30, 220, cv2.NORM_MINMAX).astype(np.uint8)


def smiled(rest: np.ndarray, m: np.ndarray, pull: float, reach: float) -> np.ndarray:
    """The crop with each corner pulled ``pull`` px up and out, dragging the skin within
    ``reach`` px of it (Gaussian fall-off)."""
    h, w = rest.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    map_x, map_y = xx.copy(), yy.copy()
    for i, d in zip(CORNERS, smile_directions(m), strict=True):
        c = m[i]
        wgt = np.exp(-((xx - c[0]) ** 2 + (yy - c[1]) ** 2) / (2 * reach ** 2))
        map_x -= pull * d[0] * wgt
        map_y -= pull * d[1] * wgt
    return cv2.remap(rest, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def pair(reach: float, pull: float = 6.0, light: float = 1.0, rest: np.ndarray | None = None):
    """A resting and a smiling Snapshot; ``light`` scales the picture's intensities (uint8,
    as a camera would quantise a dimmer scene)."""
    m = marks()
    rest = texture() if rest is None else rest
    peak_marks = m.copy()
    for i, d in zip(CORNERS, smile_directions(m), strict=True):
        peak_marks[i] = m[i] + pull * d
    def lit(img: np.ndarray) -> np.ndarray:
        return np.round(img.astype(np.float32) * light).astype(np.uint8)

    return (Snapshot(lit(rest), m, IOD, 0.0),
            Snapshot(lit(smiled(rest, m, pull, reach)), peak_marks.astype(np.float32), IOD,
                     0.6))


def test_patches_sit_beside_the_corners_toward_the_cheeks():
    m = marks()
    (right, r_rad), (left, l_rad) = cheek_patches(m, IOD)
    assert right[0] < m[CORNERS[0], 0] and left[0] > m[CORNERS[1], 0]
    assert right[1] < m[CORNERS[0], 1] and left[1] < m[CORNERS[1], 1]
    assert r_rad == pytest.approx(6.0) and l_rad == pytest.approx(6.0)


def test_live_skin_is_dragged_and_a_mask_is_not():
    live = smile_coupling(*pair(reach=25.0))
    mask = smile_coupling(*pair(reach=3.0))
    assert live["corner"] == pytest.approx(0.1, abs=0.005)
    assert mask["corner"] == pytest.approx(0.1, abs=0.005)
    assert live["coupling"] > 0.3
    assert mask["coupling"] < 0.06
    assert rigid_smile_score(live["coupling"]) < 0.01
    assert rigid_smile_score(mask["coupling"]) > 0.85


@pytest.mark.parametrize("light", [0.15, 0.1])
def test_a_dim_face_measures_as_a_lit_one(light):
    """The flow's solver shrinks motion on low-contrast pictures; a live cheek in a tenth of
    the light must not read as a mask's (nor a mask's as live)."""
    lit_live = smile_coupling(*pair(reach=25.0))["coupling"]
    live = smile_coupling(*pair(reach=25.0, light=light))
    mask = smile_coupling(*pair(reach=3.0, light=light))
    assert live["coupling"] == pytest.approx(lit_live, rel=0.15)
    assert live["recovered"] > 0.8
    assert rigid_smile_score(live["coupling"]) < 0.01
    assert mask["coupling"] < 0.06 and rigid_smile_score(mask["coupling"]) > 0.85


def test_skin_too_smooth_to_follow_is_not_called_rigid():
    """A crop with no texture at the cheeks (a smooth shading only): the flow cannot see a
    cheek move there, so the smile is unmeasurable rather than evidence of a mask."""
    yy, xx = np.mgrid[0:240, 0:200].astype(np.float32)
    smooth = (90 + 0.3 * xx + 0.2 * yy).astype(np.uint8)
    rest, peak = pair(reach=25.0, rest=smooth)
    measured = smile_coupling(rest, peak)
    assert measured["recovered"] < MIN_RECOVERED
    textured = pair(reach=25.0)[0]
    assert cheek_recovery(textured, 2.0) == pytest.approx(1.0, abs=0.15)
    assert cheek_recovery(rest, 2.0) < MIN_RECOVERED


def test_a_still_reading_counts_only_where_a_moving_cheek_would_have_been_seen():
    still_smooth = {"corner": 0.1, "coupling": 0.05, "recovered": 0.2}
    still_followed = {"corner": 0.1, "coupling": 0.05, "recovered": 0.9}
    moving_smooth = {"corner": 0.1, "coupling": 0.4, "recovered": 0.2}
    assert judged([still_smooth, still_followed, moving_smooth]) == [still_followed,
                                                                     moving_smooth]


def test_no_smile_no_evidence():
    a = RigidSmileAnalyzer()
    signal = a.result()
    assert signal.confidence == 0.0 and signal.details["why"] == "no smile"
    assert signal.name == "rigid_smile" and signal.reason == "RIGID_SMILE"


@pytest.mark.data
def test_real_smiles_move_the_cheeks(shared_data, track_clip):
    for clip in ("d13.mp4", "d9.mp4"):
        signal = run_video(RigidSmileAnalyzer(), shared_data, LP + clip, track_clip)
        assert signal.details["smiles"] >= 2, signal.details
        assert signal.score < 0.05 and signal.details["coupling"] > 0.3, signal.details


@pytest.mark.data
def test_real_smiles_move_the_cheeks_in_a_third_of_the_light(shared_data, track_clip):
    """d13 with every frame at 35 % of its light (the landmarks of the lit clip, so only the
    picture changes): before the crops were brought to one contrast, its three smiles read as
    a mask's (coupling 0.07, RIGID_SMILE 0.85)."""
    from kiosk.camera import open_source

    analyzer = RigidSmileAnalyzer()
    by_seq = {o.seq: o for o in track_clip(LP + "d13.mp4")}
    with open_source(str(shared_data / LP / "d13.mp4"), paced=False) as source:
        for frame in source:
            dim = np.round(frame.image.astype(np.float32) * 0.35).astype(np.uint8)
            analyzer.update(dataclasses.replace(frame, image=dim), by_seq[frame.seq])
    signal = analyzer.result()
    assert signal.details["smiles"] >= 2, signal.details
    assert signal.score < 0.05 and signal.details["coupling"] > 0.3, signal.details


@pytest.mark.data
def test_smooth_phone_skin_that_reads_as_moving_still_counts(shared_data, track_clip):
    """A phone selfie whose cheeks the flow follows poorly (a shift it should see recovered
    at under half): its readings say the cheeks moved, which such skin under-reads rather
    than invents, so they count as live."""
    clip = ("Trainingdata-datamarket_Selfies-and-video-dataset/samples/"
            "0001d815c0--61dc1ab78a830933a6242466/4.MOV")
    signal = run_video(RigidSmileAnalyzer(), shared_data, clip, track_clip)
    assert signal.details["smiles"] == 2 and signal.details["unmeasurable"] == 0
    assert signal.details["recovered"] < MIN_RECOVERED, signal.details
    assert signal.score < 0.05 and signal.confidence > 0.0, signal.details
