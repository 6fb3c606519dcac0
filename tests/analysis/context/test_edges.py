"""Device and paper edges: synthetic frames around a face, a tablet still, a monitor replay.

An edge counts when it moves with the face or closes around it like a bezel: a door frame
behind a person who moves does not fire the cue, a frame carried with the face does.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from kiosk.analysis.context.edges import (
    EdgeAnalyzer,
    attachment_votes,
    closed,
    device_edges,
    edge_evidence,
    edge_score,
    face_frame,
    frame_sides,
    sustained,
)
from kiosk.model import FaceObservation, Frame
from tests.analysis.context.test_common import (
    SF,
    TVL_FAKE,
    TVL_REAL,
    make_face,
    observe,
    run_clip,
    run_still,
    synthetic_face,
    track_still,
)

CENTRE, FW, FH = (320.0, 240.0), 160.0, 210.0


def rotate(segments, angle_deg, centre=CENTRE):
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    p = np.asarray(segments, np.float64).reshape(-1, 2) - centre
    return (np.stack([p[:, 0] * c - p[:, 1] * s, p[:, 0] * s + p[:, 1] * c], 1)
            + centre).reshape(-1, 4)


FRAME = np.array([
    [200, 100, 200, 380],   # left, 40 px (0.25 face widths) outside the face
    [440, 380, 440, 100],   # right (drawn the other way)
    [220, 95, 420, 95],     # top, above the face box (y0 = 135)
], np.float64)


def test_a_rectangle_around_the_face_frames_three_sides():
    sides = frame_sides(FRAME, CENTRE, 0.0, FW, FH)
    assert sides["cover"] == {"left": 1.0, "right": 1.0, "top": 1.0, "bottom": 0.0}
    assert sides["parallel"] is True and set(sides["segments"]) == {"left", "right", "top"}
    assert edge_evidence(sides) == pytest.approx(3.5)
    assert edge_score(edge_evidence(sides)) > 0.95


def test_the_frame_turns_with_the_face():
    sides = frame_sides(rotate(FRAME, 30), CENTRE, math.radians(30), FW, FH)
    assert sides["cover"]["left"] == 1.0 and sides["cover"]["right"] == 1.0
    assert sides["cover"]["top"] == 1.0 and sides["parallel"]
    # Seen from the upright face's axes the same rectangle is tilted 30 degrees: no sides.
    assert edge_evidence(frame_sides(rotate(FRAME, 30), CENTRE, 0.0, FW, FH)) == 0.0


def test_lines_across_the_face_far_away_or_diagonal_are_not_a_frame():
    segments = [
        [150, 240, 490, 240],   # across the face
        [20, 100, 20, 380],     # vertical, 1.9 face widths from the face's edge
        [180, 120, 300, 400],   # diagonal
        [200, 300, 200, 330],   # vertical beside the face but short
    ]
    sides = frame_sides(segments, CENTRE, 0.0, FW, FH)
    assert edge_evidence(sides) == 0.0 and sides["n_long"] == 3
    with pytest.raises(ValueError, match="face_w"):
        frame_sides(segments, CENTRE, 0.0, 0.5, FH)


def test_one_side_alone_is_weak_and_a_bottom_edge_counts_half():
    one = frame_sides(FRAME[:1], CENTRE, 0.0, FW, FH)
    assert edge_score(edge_evidence(one)) < 0.25
    bottom = frame_sides([[220, 380, 420, 380]], CENTRE, 0.0, FW, FH)
    assert bottom["cover"]["bottom"] == 1.0 and edge_evidence(bottom) == pytest.approx(0.5)


def test_a_bezel_drawn_around_a_face_is_found_and_a_plain_face_is_not():
    image, mesh = synthetic_face()
    face = make_face(mesh, image.shape[:2])
    plain = device_edges(image, face.box, face.landmarks)
    assert plain["evidence"] == 0.0 and edge_score(plain["evidence"]) < 0.05
    x0, y0, x1, y1 = (int(v) for v in face.box)
    phone = image.copy()
    cv2.rectangle(phone, (x0 - 60, y0 - 70), (x1 + 60, y1 + 70), (20, 20, 20), 14)
    before = phone.copy()
    found = device_edges(phone, face.box, face.landmarks)
    assert np.array_equal(phone, before)
    assert all(found["cover"][k] == 1.0 for k in ("left", "right", "top", "bottom"))
    assert found["parallel"] and edge_score(found["evidence"]) > 0.95


def test_face_frame_axes_follow_the_eyes():
    _, mesh = synthetic_face()
    centre, angle, w, h = face_frame(mesh, (240, 135, 400, 345))
    assert angle == pytest.approx(0.0, abs=1e-3)
    assert w == pytest.approx(160, abs=1) and h == pytest.approx(210, abs=1)
    assert tuple(centre) == pytest.approx((320, 240))


def test_analyzer_on_a_still_and_without_a_face():
    image, mesh = synthetic_face()
    analyzer = EdgeAnalyzer()
    analyzer.update(*observe(image, make_face(mesh, image.shape[:2])))
    signal = analyzer.result()
    assert signal.name == "edges" and signal.reason == "DEVICE_EDGES"
    assert signal.score < 0.05 and signal.confidence == pytest.approx(0.25)
    assert signal.details["sides"] == {"left": 0.0, "right": 0.0, "top": 0.0, "bottom": 0.0}
    assert signal.details["attached"] == ""
    analyzer.reset()
    analyzer.update(*observe(image, None))
    assert analyzer.result().confidence == 0.0


@pytest.mark.data
def test_the_tablet_bezel_in_image_f2_is_found(shared_data):
    image, obs = track_still(shared_data / (SF + "image_F2.jpg"))
    found = device_edges(image, obs.face.box, obs.face.landmarks)
    assert found["cover"]["right"] > 0.9 and found["cover"]["top"] > 0.9
    signal = run_still(EdgeAnalyzer(), image, obs)
    # Two sides of one picture: neither closed around the face nor seen to move with it (a
    # still cannot show that; stills are refused by the fusion anyway).
    assert signal.details["samples"] == 1 and signal.details["evidence_all"] >= 2.0
    assert signal.score < 0.2


@pytest.mark.data
def test_the_monitor_border_frames_the_replayed_face_but_not_the_live_one(shared_data,
                                                                          track_clip):
    replay = run_clip([EdgeAnalyzer()], shared_data, TVL_FAKE, track_clip(TVL_FAKE))["edges"]
    live = run_clip([EdgeAnalyzer()], shared_data, TVL_REAL, track_clip(TVL_REAL))["edges"]
    assert replay.details["samples"] >= 10 and live.details["samples"] >= 10
    assert replay.score > 0.9 and live.score < 0.1
    assert replay.details["parallel_fraction"] > 0.5 > live.details["parallel_fraction"]


def test_closed_needs_three_sides_with_an_opposite_pair():
    assert closed({"left": 1.0, "right": 1.0, "top": 0.6, "bottom": 0.0})
    assert closed({"left": 0.0, "right": 0.7, "top": 0.6, "bottom": 0.9})
    assert not closed({"left": 1.0, "right": 1.0, "top": 0.0, "bottom": 0.0})
    assert not closed({"left": 1.0, "right": 0.0, "top": 1.0, "bottom": 0.0})


def test_sustained_evidence_must_hold_over_consecutive_samples():
    assert sustained([0.0, 3.0, 0.0, 3.0, 3.0, 3.0, 0.0]) == 3.0
    assert sustained([0.0, 3.0, 0.0, 3.0, 0.0]) == 0.0
    assert sustained([2.0]) == 2.0 and sustained([]) == 0.0


def _sample(centre_u: float, left_face: float, left_pic: float) -> dict:
    return {"centre_u": centre_u, "centre_v": 0.0,
            "offsets": {"left": (left_face, left_pic)}}


def test_votes_tell_an_edge_carried_with_the_face_from_one_in_the_room():
    # The face moves 0.2 face widths right between samples.
    carried = [_sample(0.2 * k, -0.8, 0.2 * k - 0.8) for k in range(4)]
    room = [_sample(0.2 * k, -0.8 - 0.2 * k, -0.8) for k in range(4)]
    still = [_sample(0.0, -0.8, -0.8) for _ in range(4)]
    slow = [_sample(0.04 * k, -0.8, 0.04 * k - 0.8) for k in range(8)]
    assert attachment_votes(carried)["left"] == (3, 0)
    assert attachment_votes(room)["left"] == (0, 3)
    assert attachment_votes(still)["left"] == (0, 0)
    # A slow face is compared with the sample it has moved far enough from.
    assert attachment_votes(slow)["left"] == (2, 0)


def _frames(kind: str, n: int = 40):
    """A face sliding across the picture with straight edges beside it: a door frame that
    stays in the room, a frame carried with the face, or a bezel around a still face."""
    for k in range(n):
        dx = 0 if kind == "bezel" else int(3 * k)
        image, mesh = synthetic_face(centre=(260 + dx, 240))
        face = make_face(mesh, image.shape[:2])
        x0, y0, x1, y1 = (int(v) for v in face.box)
        if kind == "door":
            for x in (150, 460):
                cv2.line(image, (x, 60), (x, 470), (25, 25, 25), 10)
        elif kind == "carried":
            for x in (x0 - 50, x1 + 50):
                cv2.line(image, (x, y0 - 60), (x, y1 + 60), (25, 25, 25), 10)
        elif kind == "bezel":
            cv2.rectangle(image, (x0 - 60, y0 - 70), (x1 + 60, y1 + 70), (20, 20, 20), 14)
        t = k / 30.0
        yield Frame(image, k, t, t), FaceObservation(seq=k, t=t, media_t=t,
                                                     frame_shape=image.shape[:2], n_faces=1,
                                                     face=face)


@pytest.mark.parametrize("kind,fires", [("door", False), ("carried", True), ("bezel", True)])
def test_a_door_frame_does_not_fire_a_carried_frame_or_a_bezel_does(kind, fires):
    analyzer = EdgeAnalyzer(stride=2)
    for frame, obs in _frames(kind):
        analyzer.update(frame, obs)
    signal = analyzer.result()
    assert signal.details["evidence_all"] >= 1.5       # the lines are seen in every case
    if fires:
        assert signal.score > 0.8, signal.details
    else:
        assert signal.score < 0.2, signal.details
        assert set(signal.details["with_picture"].values()) != {0}


@pytest.mark.data
def test_a_phone_replay_is_caught_by_its_bezel_and_a_doorway_is_not(shared_data, track_clip):
    from tests.analysis.screen.helpers import DOORWAY, REPLAY_F_PH1, REPLAY_F_ZA1

    for rel in (REPLAY_F_PH1, REPLAY_F_ZA1):
        replay = run_clip([EdgeAnalyzer()], shared_data, rel, track_clip(rel))["edges"]
        # The bezel closes around the face for the first second or two, then the screen
        # fills the view: the median sample sees nothing, the sustained evidence does.
        assert replay.score > 0.9 and replay.details["evidence_all"] < 1.0, replay.details
    live = run_clip([EdgeAnalyzer()], shared_data, DOORWAY, track_clip(DOORWAY))["edges"]
    assert live.details["evidence_all"] >= 2.0          # two parallel sides: a doorway
    assert live.score < 0.05, live.details
