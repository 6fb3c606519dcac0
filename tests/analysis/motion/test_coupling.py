"""CouplingAnalyzer on synthetic scenes: a face before a still room, a picture carrying its
surround, a moving camera, plain backgrounds."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from kiosk.analysis.motion import CouplingAnalyzer, coupling_counts, coupling_score
from kiosk.analysis.motion.coupling import C_ATTACK, C_LIVE
from kiosk.analysis.signals import Analyzer
from kiosk.reasons import Reason
from tests.analysis.motion.test_synth import make_face, observation, template_points, textured

W, H = 640, 480
SCALE = 0.8  # the template face (120 x 156) at 0.8: about 96 px wide


def similarity(angle_deg: float, tx: float, ty: float) -> np.ndarray:
    a = np.radians(angle_deg)
    return np.array([[np.cos(a), -np.sin(a), tx], [np.sin(a), np.cos(a), ty]])


def scene(kind: str, n: int = 40, seed: int = 0, plain_far: bool = False):
    """Frames and observations of one synthetic scene.

    kind: ``live`` (a face moves before a still textured room), ``photo`` (a picture moves
    with its own textured surround over the still room), ``poster`` (the same, the picture
    larger than the view), ``camera`` (a still face and room,
    the whole view shaken by the camera), ``plain`` (a face moves before a plain wall).
    """
    rng = np.random.default_rng(seed)
    room = textured(rng, H, W, 2.5)
    if plain_far or kind == "plain":
        room = np.full((H, W, 3), (150, 160, 170), np.uint8)
    face_tex = textured(rng, 160, 130, 1.4)
    # The picture's own surround, around the face; narrower when the far scene is plain so
    # that it stays within the ring's outer bounds (1.2 face widths from the centre).
    photo = textured(rng, 360, 200, 2.0) if plain_far else textured(rng, 420, 300, 2.0)
    photo_centre = np.array([100.0, 150.0]) if plain_far else np.array([150.0, 170.0])
    if kind == "poster":  # a picture larger than the whole view
        photo, photo_centre = textured(rng, 700, 900, 2.0), np.array([450.0, 350.0])
    template = template_points(rng) * SCALE
    fmask = np.zeros((160, 130), np.uint8)
    cv2.ellipse(fmask, (65, 80), (int(60 * SCALE), int(78 * SCALE)), 0, 0, 360, 255, -1)
    out = []
    for i in range(n):
        t = i / 30.0
        move = similarity(5.0 * np.sin(2 * np.pi * t / 1.7), 320 + 30 * np.sin(2 * np.pi * t / 1.3),
                          260 + 12 * np.sin(2 * np.pi * t / 1.1))
        if kind == "camera":  # the face stays put in the room; the camera shakes
            move = similarity(0.0, 320.0, 260.0)
        image = room.copy()
        if kind in ("photo", "poster"):  # photo_centre is where the face's centre is
            shift = move.copy()
            shift[:, 2] -= move[:, :2] @ photo_centre
            image = cv2.warpAffine(photo, shift, (W, H), dst=image,
                                   borderMode=cv2.BORDER_TRANSPARENT)
        shift = move.copy()
        shift[:, 2] -= move[:, :2] @ np.array([65.0, 80.0])
        face_img = cv2.warpAffine(face_tex, shift, (W, H))
        inside = cv2.warpAffine(fmask, shift, (W, H)) > 127
        image[inside] = face_img[inside]
        marks = template @ move[:, :2].T + move[:, 2]
        if kind == "camera":
            shake = similarity(0.0, 14 * np.sin(2 * np.pi * t / 0.9), 8 * np.sin(2 * np.pi * t / 0.7))
            image = cv2.warpAffine(image, shake, (W, H), borderMode=cv2.BORDER_REFLECT)
            marks = marks + shake[:, 2]
        image = np.clip(image + rng.normal(0, 2.0, image.shape), 0, 255).astype(np.uint8)
        landmarks = np.c_[marks, np.zeros(len(marks))].astype(np.float32)
        face = make_face(landmarks, np.linalg.norm(marks[-1] - marks[-2]), (H, W))
        out.append(observation(i, image, face))
    return out


def run(session, **kwargs):
    a = CouplingAnalyzer(**kwargs)
    for frame, obs in session:
        a.update(frame, obs)
    return a.result()


def test_is_an_analyzer():
    a = CouplingAnalyzer()
    assert isinstance(a, Analyzer)
    assert a.name == "coupling" and a.single_frame is False


def test_a_face_before_a_still_room_is_decoupled():
    sig = run(scene("live"))
    assert sig.reason == Reason.FACE_MOVES_WITH_BACKGROUND
    assert sig.details["coupled_fraction"] <= 0.05
    assert sig.score == 0.0 and sig.confidence > 0.8


def test_a_picture_carrying_its_surround_is_coupled():
    sig = run(scene("photo"))
    assert sig.details["coupled_fraction"] >= 0.95
    assert sig.score == 1.0 and sig.confidence > 0.8
    json.dumps(sig.details, allow_nan=False)  # fit for the audit log


def test_a_shaking_camera_is_not_coupling():
    # Face, ring and far scene all move alike: the far scene gives the camera's motion, the
    # face does not move against it, so no ring point decides anything.
    sig = run(scene("camera"))
    assert sig.confidence == 0.0
    assert "hardly moved" in sig.details["why"]


def test_a_plain_wall_gives_no_evidence():
    sig = run(scene("plain"))
    assert sig.confidence == 0.0
    assert "no textured scene" in sig.details["why"]


def test_a_picture_larger_than_the_view_needs_a_fixed_camera():
    session = scene("poster")
    # All of the view moves alike: for a camera that may move, that is camera motion ...
    loose = run(session)
    assert loose.confidence == 0.0
    # ... for a mounted camera it is the artefact.
    fixed = run(session, camera_fixed=True)
    assert fixed.score == 1.0 and fixed.confidence > 0.8


def test_without_far_texture_only_a_fixed_camera_decides():
    session = scene("photo", plain_far=True)
    loose = run(session)
    assert loose.confidence == 0.0
    assert "camera motion unknown" in loose.details["why"]
    fixed = run(session, camera_fixed=True)
    assert fixed.details["camera_fixed"] is True
    assert fixed.score == 1.0 and fixed.confidence > 0.8


def test_no_face_and_reset():
    session = scene("photo", n=12)
    a = CouplingAnalyzer()
    for i in range(5):
        a.update(*observation(i, session[0][0].image, None))
    sig = a.result()
    assert sig.confidence == 0.0 and sig.details["frames_with_face"] == 0
    assert "no pair" in sig.details["why"]
    for frame, obs in session:
        a.update(frame, obs)
    assert a.result().details["pairs"] > 0
    a.reset()
    assert a.result().details["pairs"] == 0


def test_coupling_counts_assigns_points_to_the_better_model():
    ring_a = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [5.0, 5.0]])
    face = similarity(0.0, 3.0, 0.0)
    still = similarity(0.0, 0.0, 0.0)
    ring_b = ring_a.copy()
    ring_b[:2] += (3.0, 0.0)    # two points move with the face
    ring_b[3] += (0.2, 0.0)     # one stays (noise)
    assert coupling_counts(ring_a, ring_b, face, still) == (4, 2)
    # Models that agree decide nothing.
    assert coupling_counts(ring_a, ring_b, still, still) == (0, 0)


def test_coupling_score_mapping():
    assert coupling_score(0.0) == 0.0
    assert coupling_score(C_LIVE) == 0.0
    assert coupling_score(C_ATTACK) == 1.0
    assert coupling_score((C_LIVE + C_ATTACK) / 2) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="coupled_fraction"):
        coupling_score(1.5)


def test_bad_inputs_name_the_argument():
    ok = np.zeros((3, 2))
    model = similarity(0, 0, 0)
    with pytest.raises(ValueError, match="ring_a"):
        coupling_counts(np.zeros(3), ok, model, model)
    with pytest.raises(ValueError, match="ring_b"):
        coupling_counts(ok, np.zeros((4, 2)), model, model)
    with pytest.raises(ValueError, match="scene_model"):
        coupling_counts(ok, ok, model, np.eye(3))
    with pytest.raises(ValueError, match="pair_dt"):
        CouplingAnalyzer(pair_dt=-1)
