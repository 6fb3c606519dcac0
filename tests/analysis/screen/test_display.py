"""Display tones: a veil over the face raises its blacks; dark live pupils do not."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.analysis.motion.regions import CHEEK_LEFT, CHEEK_RIGHT
from kiosk.analysis.screen.display import (
    IRIS_LEFT,
    IRIS_RIGHT,
    IRIS_RING_LEFT,
    IRIS_RING_RIGHT,
    DisplayAnalyzer,
    display_tones,
)
from tests.analysis.context.test_common import make_face, observe, synthetic_face


def face_with_pupils():
    """The synthetic face with iris points on its eyes, black pupils and cheek patches."""
    img, mesh = synthetic_face()
    mesh = mesh.copy()
    for centre, ring, x in ((IRIS_RIGHT, IRIS_RING_RIGHT, 288), (IRIS_LEFT, IRIS_RING_LEFT, 352)):
        mesh[centre, :2] = (x, 219)
        for j, a in zip(ring, np.linspace(0, 2 * np.pi, 4, endpoint=False), strict=True):
            mesh[j, :2] = (x + 10 * np.cos(a), 219 + 10 * np.sin(a))
        cv2.circle(img, (x, 219), 5, (4, 4, 4), -1)
    for idx, x in ((CHEEK_RIGHT, 285), (CHEEK_LEFT, 355)):
        a = np.linspace(0, 2 * np.pi, len(idx), endpoint=False)
        mesh[list(idx), 0] = x + 18 * np.cos(a)
        mesh[list(idx), 1] = 270 + 14 * np.sin(a)
    return img, mesh


def veiled(img: np.ndarray, veil: float) -> np.ndarray:
    """A display's view: linear light plus a veil of ``veil`` of white."""
    lin = (img.astype(np.float64) / 255.0) ** 2.2
    return np.clip(255.0 * (lin * (1 - veil) + veil) ** (1 / 2.2), 0, 255).astype(np.uint8)


def test_dark_pupils_against_a_veil():
    img, mesh = face_with_pupils()
    before = img.copy()
    live = display_tones(img, mesh)
    assert np.array_equal(img, before)
    shown = display_tones(veiled(img, 0.25), mesh)
    assert live["black_ratio"] < 0.05
    assert shown["black_ratio"] > 0.4
    assert shown["skin_chroma"] < live["skin_chroma"]        # the veil washes colour out too
    with pytest.raises(ValueError, match="478"):
        display_tones(img, mesh[:468])


def test_the_analyzer_scores_the_veil():
    img, mesh = face_with_pupils()
    for image, low in ((img, True), (veiled(img, 0.25), False)):
        a = DisplayAnalyzer()
        a.update(*observe(image, make_face(mesh, image.shape[:2])))
        signal = a.result()
        assert signal.name == "display" and signal.reason == "DISPLAY_COLOUR"
        assert (signal.score < 0.05) if low else (signal.score > 0.9), signal.details
        assert signal.confidence == pytest.approx(0.15)
    turned = DisplayAnalyzer()
    turned.update(*observe(img, make_face(mesh, img.shape[:2], yaw=40.0)))
    assert turned.result().confidence == 0.0
