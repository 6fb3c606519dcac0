"""Lighting consistency: face and surroundings lit from the same side, or not."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.analysis.context.lighting import (
    LightingAnalyzer,
    lighting_measure,
    lighting_score,
)
from tests.analysis.context.test_common import (
    SF,
    make_face,
    observe,
    run_still,
    synthetic_face,
    track_still,
)

FW = 160.0  # face width of synthetic_face()


def lit(face_gradient: float, surround_gradient: float, background=None):
    """synthetic_face() with multiplicative illumination ramps along x, in log units per face
    width (positive = brighter toward image-right), one on the face, one elsewhere."""
    image, mesh = synthetic_face()
    if background is not None:
        image = np.where(np.all(np.abs(image.astype(int) - 110) < 12, axis=-1)[..., None],
                         background, image).astype(np.uint8)
    face = make_face(mesh, image.shape[:2])
    skin = np.zeros(image.shape[:2], bool)
    yy, xx = np.mgrid[0:image.shape[0], 0:image.shape[1]]
    skin[((xx - 320) / 80.0) ** 2 + ((yy - 240) / 105.0) ** 2 <= 1.0] = True
    x = (xx - 320) / FW
    gain = np.where(skin, np.exp(face_gradient * x), np.exp(surround_gradient * x))
    # Work in linear light: the analyzer linearises with gamma 2.2.
    linear = (image / 255.0) ** 2.2 * gain[..., None]
    out = np.clip(255.0 * np.clip(linear, 0, 1) ** (1 / 2.2), 0, 255).astype(np.uint8)
    return out, face


def test_face_lit_from_the_left_on_a_background_lit_from_the_right():
    image, face = lit(-0.6, 0.6)
    before = image.copy()
    found = lighting_measure(image, face.box, face.landmarks)
    assert np.array_equal(image, before)
    assert found["face_gradient"] < -0.3 and found["surround_gradient"] > 0.3
    assert found["evidence"] > 0.3 and lighting_score(found["evidence"]) > 0.7


def test_same_side_lighting_is_consistent():
    image, face = lit(0.6, 0.4)
    found = lighting_measure(image, face.box, face.landmarks)
    assert found["face_gradient"] > 0.3 and found["surround_gradient"] > 0.2
    assert found["evidence"] == 0.0 and lighting_score(0.0) < 0.05


def test_flat_lighting_gives_no_evidence():
    image, face = lit(0.0, 0.0)
    found = lighting_measure(image, face.box, face.landmarks)
    assert abs(found["face_gradient"]) < 0.1 and abs(found["surround_gradient"]) < 0.1
    assert lighting_score(found["evidence"]) < 0.1


def test_a_dark_object_beside_the_face_is_reflectance_not_light():
    # Evenly lit scene: dark cupboard on the left, pale wall on the right, sharp boundary.
    image, mesh = synthetic_face()
    image = image.copy()
    image[:, :250] = (image[:, :250] * 0.35).astype(np.uint8)
    face = make_face(mesh, image.shape[:2])
    side_lit, _ = lit(-0.6, 0.0)
    side_lit[:, :250] = (side_lit[:, :250] * 0.35).astype(np.uint8)
    found = lighting_measure(side_lit, face.box, face.landmarks)
    assert abs(found["surround_gradient"]) < 0.1
    assert lighting_score(found["evidence"]) < 0.1


def test_bad_arguments_are_named():
    image, face = lit(0.0, 0.0)
    with pytest.raises(ValueError, match="landmarks"):
        lighting_measure(image, face.box, face.landmarks[:2])
    with pytest.raises(ValueError, match="smooth pixels"):
        # Cropped to the face box: nothing around the face to compare with.
        lighting_measure(image[135:345, 240:400].copy(), (0, 0, 160, 210),
                         face.landmarks - np.float32([240, 135, 0]))


def test_analyzer_skips_turned_faces_and_reports_a_still():
    image, face = lit(-0.6, 0.6)
    analyzer = LightingAnalyzer()
    analyzer.update(*observe(image, face))
    signal = analyzer.result()
    assert signal.name == "lighting" and signal.reason == "LIGHTING_MISMATCH"
    assert signal.score > 0.7 and signal.confidence == pytest.approx(0.125)
    analyzer.reset()
    turned = make_face(face.landmarks, image.shape[:2], yaw=35.0)
    analyzer.update(*observe(image, turned))
    skipped = analyzer.result()
    assert skipped.confidence == 0.0 and "turned" in skipped.details["why"]


@pytest.mark.data
def test_runs_on_a_real_still(shared_data):
    # No direction is asserted on real files: no file here shows a plain lighting mismatch.
    signal = run_still(LightingAnalyzer(), *track_still(shared_data / (SF + "image_T2.jpg")))
    assert signal.details["samples"] == 1
    assert np.isfinite(signal.details["face_gradient"]) and 0.0 <= signal.score <= 1.0
