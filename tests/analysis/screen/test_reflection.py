"""Screen reflections: a highlight fixed in the picture over a moving face fires; one that
moves with the face, or a face that never moves, does not."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.analysis.screen.reflection import ReflectionAnalyzer, highlights, stayed_area
from kiosk.model import FaceObservation, Frame
from tests.analysis.context.test_common import make_face, synthetic_face
from tests.analysis.screen.helpers import LIVE_F_PH1, REPLAY_F_PH1, run_video


def moving_face(n: int = 60, step: float = 4.0, glass: bool = False, skin: bool = False,
                fps: float = 30.0):
    """A face sliding right by ``step`` px a frame; a white spot fixed in the picture
    (``glass``) or fixed on the face (``skin``)."""
    for k in range(n):
        cx = int(round(260 + step * k))
        img, mesh = synthetic_face(centre=(cx, 240), seed=k)
        if glass:
            cv2.circle(img, (330, 230), 8, (250, 250, 250), -1)
        if skin:
            cv2.circle(img, (cx + 10, 230), 8, (250, 250, 250), -1)
        face = make_face(mesh, img.shape[:2])
        t = k / fps
        yield (Frame(img, k, t, t),
               FaceObservation(seq=k, t=t, media_t=t, frame_shape=img.shape[:2], n_faces=1,
                               face=face))


def run(pairs):
    a = ReflectionAnalyzer()
    for frame, obs in pairs:
        a.update(frame, obs)
    return a.result()


def test_highlights_are_found_inside_the_face_only():
    img, mesh = synthetic_face()
    cv2.circle(img, (330, 230), 8, (250, 250, 250), -1)      # on the face
    cv2.circle(img, (40, 40), 8, (250, 250, 250), -1)        # on the wall
    before = img.copy()
    found = highlights(img, make_face(mesh, img.shape[:2]))
    assert np.array_equal(img, before)
    assert len(found["centres"]) == 1
    assert tuple(found["centres"][0]) == pytest.approx((330, 230), abs=1.5)
    assert 0.004 < found["areas"][0] < 0.012


def test_pairs_need_the_face_to_move():
    a = {"centres": np.array([[100.0, 100.0]]), "areas": np.array([0.01]),
         "centre": np.array([100.0, 100.0]), "width": 100.0}
    still = dict(a, centre=np.array([105.0, 100.0]))
    assert stayed_area(a, still) is None
    moved = dict(a, centre=np.array([120.0, 100.0]))
    assert stayed_area(a, moved) == pytest.approx((0.01, 0.01))
    carried = dict(moved, centres=np.array([[120.0, 100.0]]))
    assert stayed_area(a, carried) == pytest.approx((0.01, 0.0))


def test_a_reflection_on_the_glass_fires_and_a_skin_highlight_does_not():
    glass = run(moving_face(glass=True))
    skin = run(moving_face(skin=True))
    plain = run(moving_face())
    assert glass.score > 0.95 and glass.confidence > 0.3
    assert glass.details["stayed_share"] > 0.9
    assert skin.score < 0.05 and skin.details["stayed_share"] < 0.1
    assert plain.confidence == 0.0 and "no highlight" in plain.details["why"]
    assert glass.name == "reflection" and glass.reason == "SCREEN_REFLECTION"


def test_a_face_that_never_moves_says_nothing():
    still = run(moving_face(step=0.0, glass=True))
    assert still.confidence == 0.0 and "never moved" in still.details["why"]
    with pytest.raises(ValueError, match="step_s"):
        ReflectionAnalyzer(step_s=5.0)


@pytest.mark.data
def test_no_static_reflection_on_the_developer_clips(shared_data, track_clip):
    # Measured effect on the real replays: none (no clipped highlight stays on their glass).
    for rel in (REPLAY_F_PH1, LIVE_F_PH1):
        signal = run_video(ReflectionAnalyzer(), shared_data, rel, track_clip)
        assert signal.score < 0.1, (rel, signal.details)
