"""Glare: highlights a glossy flat surface makes and skin does not."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.analysis.context.glare import (
    GlareAnalyzer,
    glare_measure,
    glare_score,
    highlight_mask,
)
from tests.analysis.context.test_common import (
    BROW_LOWER,
    BROW_UPPER,
    SF,
    SKIN_BGR,
    make_face,
    observe,
    run_still,
    synthetic_face,
    track_still,
)


@pytest.fixture(scope="module")
def scene():
    image, mesh = synthetic_face()
    return image, mesh, make_face(mesh, image.shape[:2])


def blob(image, centre, axes, colour=(252, 252, 252)):
    out = image.copy()
    cv2.ellipse(out, centre, axes, 0, 0, 360, colour, -1)
    return out


def test_highlight_mask_wants_bright_and_colourless():
    img = np.zeros((10, 30, 3), np.uint8)
    img[:, :10] = (250, 250, 250)      # clipped white
    img[:, 10:20] = (120, 200, 250)    # bright skin colour: saturated, not a highlight
    img[:, 20:] = (200, 200, 200)      # grey, not clipped
    mask = highlight_mask(img)
    assert mask[:, :10].all() and not mask[:, 10:].any()


def test_a_reflection_across_the_face_outline_is_glare(scene):
    image, mesh, face = scene
    # A window reflected on a glossy print: a patch over the cheek and the background beside it.
    glossy = blob(image, (400, 230), (40, 30))
    before = glossy.copy()
    found = glare_measure(glossy, face.box, mesh)
    assert np.array_equal(glossy, before)
    assert found["straddling"] == 1 and found["unexplained"] > 0.03
    assert glare_score(found["unexplained"]) > 0.9


def test_a_small_nose_highlight_is_skin(scene):
    image, mesh, face = scene
    nose = mesh[1, :2].astype(int)
    found = glare_measure(blob(image, tuple(nose), (6, 4)), face.box, mesh)
    assert found["highlight"] > 0.001
    assert found["unexplained"] == 0.0 and glare_score(found["unexplained"]) < 0.1


def test_a_highlight_on_an_eyebrow_is_glare(scene):
    image, mesh, face = scene
    brow = ((mesh[list(BROW_UPPER[0]), :2] + mesh[list(BROW_LOWER[0]), :2]) / 2).mean(0)
    found = glare_measure(blob(image, tuple(brow.astype(int)), (22, 14)), face.box, mesh)
    assert found["on_brows"] == 1 and found["straddling"] == 0
    assert glare_score(found["unexplained"]) > 0.9


def test_an_overexposed_face_is_only_weak_evidence(scene):
    image, mesh, face = scene
    # A big clipped patch in the middle of the face (a flash): oversized, not straddling.
    found = glare_measure(blob(image, (320, 250), (45, 40)), face.box, mesh)
    assert found["oversized"] == 1 and found["straddling"] == 0
    assert 0.0 < found["unexplained"] <= 0.02 and glare_score(found["unexplained"]) <= 0.5


def test_a_highlight_running_onto_more_skin_is_not_straddling(scene):
    image, mesh, face = scene
    # Skin continues below the outline (a neck); the highlight runs from the chin onto it.
    neck = image.copy()
    cv2.rectangle(neck, (280, 330), (360, 470), SKIN_BGR, -1)
    lit = blob(neck, (320, 345), (22, 18))
    found = glare_measure(lit, face.box, mesh)
    assert found["straddling"] == 0
    assert glare_score(found["unexplained"]) < 0.1


def test_bad_arguments_are_named(scene):
    image, mesh, face = scene
    with pytest.raises(ValueError, match="landmarks"):
        glare_measure(image, face.box, mesh[:100])
    with pytest.raises(ValueError, match="image must be"):
        glare_measure(image.astype(np.float32), face.box, mesh)


def test_analyzer_on_a_still(scene):
    image, mesh, face = scene
    analyzer = GlareAnalyzer()
    analyzer.update(*observe(blob(image, (400, 230), (40, 30)), face))
    signal = analyzer.result()
    assert signal.name == "glare" and signal.reason == "GLARE"
    assert signal.score > 0.9 and signal.confidence == pytest.approx(0.25)
    assert signal.details["straddling_fraction"] == 1.0


@pytest.mark.data
def test_the_tablet_reflection_in_image_f2_is_glare_and_a_live_still_has_none(shared_data):
    tablet = run_still(GlareAnalyzer(), *track_still(shared_data / (SF + "image_F2.jpg")))
    live = run_still(GlareAnalyzer(), *track_still(shared_data / (SF + "image_T1.jpg")))
    assert tablet.score > 0.9 and live.score < 0.1
    assert tablet.details["straddling_fraction"] == 1.0 or tablet.details["brow_fraction"] == 1.0
