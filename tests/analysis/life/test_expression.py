"""Expression dynamics: a rigid face moved about stays rigid; a blink or a smile deforms it.

Synthetic 3D meshes where the answer is known, then real clips (data marker): a live woman
blinking and winking (LivePortrait d7) deforms; a print rendered from her face does not.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from kiosk.analysis.life.expression import (
    CORNERS,
    FEATURES,
    LEFT_LIDS,
    LIPS,
    RIGHT_LIDS,
    ExpressionAnalyzer,
    expression_features,
    expression_score,
    expression_units,
    rigid_confidence,
    similarity_3d,
)
from kiosk.model import FaceObservation, Frame
from tests.analysis.context.test_common import make_face

IMAGE = np.zeros((480, 640, 3), np.uint8)


def base_mesh(seed: int = 0) -> np.ndarray:
    """A rigid 3D face-like cloud (pixels): eye corners 100 px apart, lids, lips, corners."""
    rng = np.random.default_rng(seed)
    mesh = np.column_stack([rng.uniform(250, 390, 478), rng.uniform(150, 330, 478),
                            rng.uniform(-40, 10, 478)])
    mesh[33] = (270, 220, 0)
    mesh[263] = (370, 220, 0)
    mesh[133], mesh[362] = (300, 222, -5), (340, 222, -5)
    for (up, lo), x in ((RIGHT_LIDS, 285), (LEFT_LIDS, 355)):
        mesh[up] = (x, 215, -2)
        mesh[lo] = (x, 225, -2)
    mesh[LIPS[0]], mesh[LIPS[1]] = (320, 300, -8), (320, 302, -8)
    mesh[CORNERS[0]], mesh[CORNERS[1]] = (290, 300, -3), (350, 300, -3)
    mesh[1] = (320, 265, -30)
    return mesh


def rotated(mesh: np.ndarray, yaw_deg: float, pitch_deg: float, shift=(0.0, 0.0),
            scale: float = 1.0) -> np.ndarray:
    a, b = math.radians(yaw_deg), math.radians(pitch_deg)
    ry = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    c = mesh.mean(axis=0)
    return (scale * (mesh - c) @ (ry @ rx).T) + c + (*shift, 0.0)


def observations(meshes, fps: float = 30.0):
    for k, mesh in enumerate(meshes):
        t = k / fps
        face = make_face(mesh.astype(np.float32), IMAGE.shape[:2])
        yield Frame(IMAGE, k, t, t), FaceObservation(seq=k, t=t, media_t=t,
                                                     frame_shape=IMAGE.shape[:2], n_faces=1,
                                                     face=face)


def session(n: int = 120, blink_at: int | None = None, smile_at: int | None = None,
            noise: float = 0.5, seed: int = 0) -> list[np.ndarray]:
    """A head turning a little (+-10 deg) with landmark noise; optionally a blink or a smile."""
    rng = np.random.default_rng(seed)
    base = base_mesh()
    out = []
    for k in range(n):
        m = base.copy()
        if blink_at is not None and blink_at <= k < blink_at + 5:
            for up, lo in (RIGHT_LIDS, LEFT_LIDS):
                m[up] = m[lo] - (0, 1, 0)
        if smile_at is not None and smile_at <= k < smile_at + 15:
            m[CORNERS[0]] += (-8, -5, 0)
            m[CORNERS[1]] += (8, -5, 0)
        m = rotated(m, 10 * math.sin(k / 15), 5 * math.sin(k / 23), shift=(k * 0.5, 0),
                    scale=1 + 0.05 * math.sin(k / 30))
        out.append(m + rng.normal(0, noise, m.shape))
    return out


def run(meshes, fps: float = 30.0):
    a = ExpressionAnalyzer()
    for frame, obs in observations(meshes, fps):
        a.update(frame, obs)
    return a.result()


def test_similarity_recovers_a_known_transform():
    src = base_mesh()[:50]
    dst = rotated(src, 20, -10, shift=(5, -3), scale=1.3)
    c, r, t = similarity_3d(src, dst)
    assert c == pytest.approx(1.3, rel=1e-6)
    assert np.allclose((c * (r @ src.T)).T + t, dst, atol=1e-6)
    assert np.linalg.det(r) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="src and dst"):
        similarity_3d(src[:, :2], dst[:, :2])


def test_features_do_not_change_under_rigid_motion():
    ref = base_mesh()
    f0 = expression_features(ref, ref)
    f1 = expression_features(rotated(ref, 25, 10, shift=(30, -20), scale=0.7), ref)
    assert np.allclose(f0[:len(FEATURES)], f1[:len(FEATURES)], atol=1e-9)
    assert f0[0] == pytest.approx(0.1) and f0[3] == pytest.approx(0.6)
    with pytest.raises(ValueError, match="reference"):
        expression_features(ref, ref[:470])


def test_units_measure_the_largest_excursion():
    rest = np.tile([0.1, 0.1, 0.02, 0.9, 0.5, 0.5], (30, 1))
    assert expression_units(rest)["units"] == 0.0
    blink = rest.copy()
    blink[10:14, :2] = 0.0
    found = expression_units(blink)
    assert found["eye"] == pytest.approx(0.1) and found["units"] == pytest.approx(2.0)
    one_frame = rest.copy()
    one_frame[10, :2] = 0.0            # a single mistracked frame is smoothed away
    assert expression_units(one_frame)["units"] == 0.0
    assert expression_units(one_frame, smooth=1)["units"] == pytest.approx(2.0)
    with pytest.raises(ValueError, match="series"):
        expression_units(rest[:, :4])


def test_scores():
    assert expression_score(0.0) == 1.0
    assert expression_score(0.7) == pytest.approx(0.5)
    assert expression_score(0.35) > 0.95 and expression_score(2.0) < 0.01


def test_a_rigid_head_is_rigid_and_a_blink_or_a_smile_is_life():
    rigid = run(session(n=210))
    blink = run(session(blink_at=50))
    smile = run(session(smile_at=40))
    assert rigid.score > 0.9 and rigid.details["units"] < 0.45
    assert blink.score < 0.05 and blink.details["largest"] == "eye"
    assert smile.score < 0.05 and smile.details["largest"] in ("mouth_width", "corner")
    # Rigid for 7 s: as confident as the chance that a live face would have blinked in 7 s
    # (7 blinks a minute at a screen); a seen blink or smile counts in full however short.
    assert rigid.confidence == pytest.approx(0.8 * (1 - math.exp(-209 / 30 * 7 / 60)))
    assert blink.confidence == smile.confidence == pytest.approx(0.8)
    assert rigid.name == "expression"
    assert rigid.reason == "NO_EXPRESSION"


def test_a_rigid_span_shorter_than_a_usual_wait_for_a_blink_is_no_evidence():
    """A live face stopped 0.7 s into a check (the audit's attempt 73: 14 frames, no blink)
    was reported as NO_EXPRESSION at confidence 0.06. Most live faces show no blink in 0.7 s:
    a rigid span is evidence only from the median wait for a blink (ln 2 / 7 a minute,
    5.9 s), and a shorter one says it was too short, as the pulse cue does."""
    short = run(session(n=14), fps=20.0)
    assert (short.score, short.confidence) == (0.0, 0.0)
    assert short.details["span_s"] == 0.65 and short.details["why"] == (
        "too short to call rigid: 0.7 s of near-frontal face, 5.9 s needed")
    blink = run(session(n=14, blink_at=5), fps=20.0)  # a blink seen counts however short
    assert blink.score < 0.05 and blink.confidence == pytest.approx(0.8)
    held = run(session(n=120), fps=20.0)  # 5.95 s: at the median wait, a picture's evidence
    assert held.score > 0.9 and held.confidence == pytest.approx(rigid_confidence(119 / 20))
    assert held.confidence == pytest.approx(0.4, abs=0.01)


def test_turned_faces_and_short_sessions_give_no_evidence():
    a = ExpressionAnalyzer()
    for frame, obs in observations(session(n=5)):
        a.update(frame, obs)
    assert a.result().confidence == 0.0
    turned = ExpressionAnalyzer()
    for frame, obs in observations(session(n=60)):
        face = obs.face
        assert face is not None
        obs = FaceObservation(seq=obs.seq, t=obs.t, media_t=obs.media_t,
                              frame_shape=obs.frame_shape, n_faces=1,
                              face=make_face(face.landmarks, IMAGE.shape[:2], yaw=40.0))
        turned.update(frame, obs)
    result = turned.result()
    assert result.confidence == 0.0 and result.details["turned"] == 60


@pytest.mark.data
def test_a_live_blinker_deforms_and_her_print_does_not(shared_data, track_clip):
    from kiosk.analysis.face import FaceTracker
    from kiosk.camera import open_source
    from kiosk.lab.simulate import MotionParams, PrintParams, simulate_print
    from tests.analysis.screen.helpers import LP, run_video

    live = run_video(ExpressionAnalyzer(), shared_data, LP + "d7.mp4", track_clip)
    assert live.score < 0.05 and live.details["largest"] == "eye"
    with open_source(str(shared_data / LP / "d7.mp4"), paced=False) as source:
        still = next(iter(source)).image
    rng = np.random.default_rng(4)
    params = PrintParams.random(rng, motion=MotionParams(yaw_deg=15.0, pitch_deg=8.0))
    a = ExpressionAnalyzer()
    with FaceTracker() as tracker:
        for k, image in enumerate(simulate_print(still, 210, 30.0, rng, params=params,
                                                 out_size=(640, 480))):
            frame = Frame(image, k, k / 30.0, k / 30.0)
            a.update(frame, tracker.observe(frame))
    printed = a.result()
    assert printed.score > 0.5, printed.details
    assert printed.confidence == pytest.approx(rigid_confidence(209 / 30), abs=0.02)
    assert live.confidence == pytest.approx(0.8)
