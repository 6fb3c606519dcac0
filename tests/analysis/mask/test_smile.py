"""Rigid smile: live cheeks move with the mouth corners; a mask's stay put.

Synthetic crops in which the skin around the mouth is dragged by the corners (live) or only
the mouth inside a hole moves (mask); then real smiles of the developer set (data marker).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.analysis.mask.smile import (
    CORNERS,
    RIGID,
    RigidSmileAnalyzer,
    Snapshot,
    cheek_patches,
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


def pair(reach: float, pull: float = 6.0):
    m = marks()
    rest = texture()
    peak_marks = m.copy()
    for i, d in zip(CORNERS, smile_directions(m), strict=True):
        peak_marks[i] = m[i] + pull * d
    return (Snapshot(rest, m, IOD, 0.0),
            Snapshot(smiled(rest, m, pull, reach), peak_marks.astype(np.float32), IOD, 0.6))


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
