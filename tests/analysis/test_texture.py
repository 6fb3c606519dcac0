"""Texture cue: colour LBP and GLCM features, the live-skin reference, the analyzer."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from kiosk.analysis.texture import (
    LBP_BINS,
    N_GLCM,
    N_LBP,
    TEXTURE_REFERENCE,
    TextureAnalyzer,
    chi2_distance,
    colour_channels,
    face_patch,
    glcm_features,
    lbp_features,
    load_texture_reference,
    texture_measure,
)
from kiosk.errors import ResourceError
from tests.analysis.context.test_common import (
    TVL_FAKE,
    TVL_REAL,
    make_face,
    observe,
    run_clip,
    synthetic_face,
    track_still,
)


@pytest.fixture(scope="module")
def reference():
    return load_texture_reference()


@pytest.fixture(scope="module")
def scene():
    image, mesh = synthetic_face()
    return image, make_face(mesh, image.shape[:2])


def test_face_patch_is_a_64px_square_and_leaves_the_image_alone(scene):
    image, face = scene
    before = image.copy()
    patch = face_patch(image, face.box)
    assert patch.shape == (64, 64, 3) and patch.dtype == np.uint8
    assert np.array_equal(image, before)
    with pytest.raises(ValueError, match="box"):
        face_patch(image, (636, 476, 700, 500))


def test_lbp_histograms_are_normalised_and_a_flat_patch_is_all_one_code(scene):
    image, face = scene
    patch = face_patch(image, face.box)
    before = patch.copy()
    feats = lbp_features(patch)
    assert feats.shape == (N_LBP,) == (180,)
    assert np.allclose(feats.reshape(-1, LBP_BINS).sum(axis=1), 1.0)
    assert np.array_equal(patch, before)
    assert np.array_equal(feats, lbp_features(patch))
    flat = lbp_features(np.full((64, 64, 3), 128, np.uint8)).reshape(-1, LBP_BINS)
    # Every neighbour equals the centre: uniform code P (= 8, all ones) everywhere.
    assert np.all(flat[:, 8] == 1.0)
    with pytest.raises(ValueError, match="patch must be"):
        lbp_features(np.zeros((64, 64), np.uint8))


def test_hue_is_rotated_so_skin_reds_do_not_wrap():
    red = np.zeros((16, 16, 3), np.uint8)
    red[..., 2] = 200
    y, cr, cb, h, s, v = colour_channels(red)
    assert h[0, 0] == 90 and s[0, 0] == 255 and v[0, 0] == 200


def test_glcm_of_a_flat_and_of_a_striped_patch():
    flat = glcm_features(np.full((64, 64, 3), 77, np.uint8))
    assert flat.shape == (N_GLCM,) == (12,)
    contrast_d1, homogeneity_d1, energy_d1 = flat[0], flat[4], flat[6]
    assert contrast_d1 == 0.0 and homogeneity_d1 == 1.0 and energy_d1 == 1.0
    stripes = np.zeros((64, 64, 3), np.uint8)
    stripes[:, ::2] = 255
    striped = glcm_features(stripes)
    # Columns alternate 0 / 31 after quantisation: horizontal neighbours differ by 31 at
    # distance 1 and agree at distance 2; vertical neighbours agree. Mean over 4 angles.
    assert striped[0] == pytest.approx(31 ** 2 * 3 / 4)
    assert striped[1] == pytest.approx(31 ** 2 * 2 / 4)
    with pytest.raises(ValueError, match="levels"):
        glcm_features(stripes, levels=30)


def test_chi2_distance():
    a = np.array([0.5, 0.5, 0.0])
    b = np.array([0.0, 0.5, 0.5])
    assert chi2_distance(a, a) == 0.0
    assert chi2_distance(a, b) == pytest.approx(chi2_distance(b, a)) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="last axis"):
        chi2_distance(a, np.ones(4))


def test_the_shipped_reference_loads_and_its_centroid_scores_low(reference):
    assert reference.centroid.shape == (N_LBP,)
    assert reference.ratio(reference.centroid) == 0.0
    assert reference.score(0.0) < 0.05
    assert reference.score(reference.midpoint) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="lbp must have shape"):
        reference.ratio(np.ones(10))


def test_a_broken_reference_is_a_resource_error(tmp_path):
    data = json.loads(TEXTURE_REFERENCE.read_text(encoding="utf-8"))
    with pytest.raises(ResourceError, match="cannot be read"):
        load_texture_reference(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(ResourceError, match="not valid JSON"):
        load_texture_reference(bad)
    other = dict(data, features=dict(data["features"], hue_shift=0))
    bad.write_text(json.dumps(other), encoding="utf-8")
    with pytest.raises(ResourceError, match="differ"):
        load_texture_reference(bad)
    short = dict(data, centroid=data["centroid"][:10])
    bad.write_text(json.dumps(short), encoding="utf-8")
    with pytest.raises(ResourceError, match="centroid"):
        load_texture_reference(bad)
    TextureAnalyzer(load_texture_reference(TEXTURE_REFERENCE))  # the real one still loads


def test_measure_reports_the_ratio_and_glcm(scene, reference):
    image, face = scene
    found = texture_measure(image, face.box, reference)
    assert found["ratio"] > 0 and {"contrast_d1", "ASM_d2"} <= set(found)


def test_analyzer_on_a_still_and_on_a_turned_face(scene, reference):
    image, face = scene
    analyzer = TextureAnalyzer(reference)
    analyzer.update(*observe(image, face))
    signal = analyzer.result()
    assert signal.name == "texture" and signal.reason == "TEXTURE_SUSPECTED"
    assert signal.confidence == pytest.approx(0.15)
    assert signal.score == pytest.approx(reference.score(signal.details["ratio"]))
    assert set(signal.details["glcm"]) >= {"contrast_d1", "homogeneity_d2"}
    analyzer.reset()
    analyzer.update(*observe(image, make_face(face.landmarks, image.shape[:2], yaw=40.0)))
    assert analyzer.result().confidence == 0.0


@pytest.mark.data
def test_the_reference_is_reproducible_from_its_stills(shared_data, reference):
    """The centroid is the mean LBP vector of the stills it names: the first round's bona
    fide stills. scripts/train_texture.py on today's manifest would take more (see the
    README), so the reference is checked against the rows it lists."""
    stills = reference.meta["trained_on"]["bona_fide_stills"]
    assert len(stills) >= 8
    feats = []
    for rel in stills:
        image, obs = track_still(shared_data / rel)
        feats.append(lbp_features(face_patch(image, obs.face.box)))
    assert np.allclose(np.mean(feats, axis=0), reference.centroid, atol=2e-6)


@pytest.mark.data
def test_the_monitor_replay_is_farther_from_live_skin_than_the_same_man_live(shared_data,
                                                                              track_clip,
                                                                              reference):
    replay = run_clip([TextureAnalyzer(reference)], shared_data, TVL_FAKE,
                      track_clip(TVL_FAKE))["texture"]
    live = run_clip([TextureAnalyzer(reference)], shared_data, TVL_REAL,
                    track_clip(TVL_REAL))["texture"]
    assert replay.details["ratio"] > 1.4 * live.details["ratio"]
    assert replay.score > live.score


def test_a_blurred_copy_changes_the_features(scene):
    image, face = scene
    sharp = lbp_features(face_patch(image, face.box))
    blurred = lbp_features(face_patch(cv2.GaussianBlur(image, (0, 0), 3.0), face.box))
    assert chi2_distance(sharp, blurred) > 0.05
