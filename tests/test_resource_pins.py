"""The trained files the kiosk ships are checked against pinned hashes, like the landmarker:
a fusion model edited in place (every weight 0) once made a replay score 100."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from kiosk import resources
from kiosk.analysis import fusion as fusion_module
from kiosk.analysis import texture as texture_module
from kiosk.analysis.fusion import Fusion
from kiosk.analysis.texture import load_texture_reference
from kiosk.errors import ResourceError
from kiosk.resources import FUSION_MODEL, TEXTURE_REFERENCE, pin


@pytest.mark.parametrize("path, name", [(FUSION_MODEL, "FUSION_MODEL_SHA256"),
                                        (TEXTURE_REFERENCE, "TEXTURE_REFERENCE_SHA256")])
def test_the_shipped_files_are_the_pinned_ones(path, name):
    assert hashlib.sha256(path.read_bytes()).hexdigest() == getattr(resources, name)


def _zeroed_fusion(tmp_path):
    data = json.loads(FUSION_MODEL.read_text(encoding="utf-8"))
    data["bias"] = -50.0  # still a valid model: only the pin tells it apart
    copy = tmp_path / "fusion.json"
    copy.write_text(json.dumps(data), encoding="utf-8")
    return copy


def test_a_shipped_fusion_model_edited_in_place_is_refused(tmp_path, monkeypatch):
    edited = _zeroed_fusion(tmp_path)
    Fusion.load(edited)  # as a lab's candidate model, given by path, it loads
    monkeypatch.setattr(fusion_module, "FUSION_MODEL", edited)  # ... in the shipped place
    with pytest.raises(ResourceError, match="corrupt or was replaced: SHA-256 .* differs "
                                            "from the shipped"):
        Fusion.load()


def test_a_shipped_texture_reference_edited_in_place_is_refused(tmp_path, monkeypatch):
    edited = tmp_path / "texture_reference.json"
    edited.write_bytes(TEXTURE_REFERENCE.read_bytes().replace(b"\n", b"\n ", 1))
    monkeypatch.setattr(texture_module, "TEXTURE_REFERENCE", edited)
    with pytest.raises(ResourceError, match="corrupt or was replaced"):
        load_texture_reference()
    shutil.copyfile(TEXTURE_REFERENCE, edited)
    assert load_texture_reference().scale > 0  # the same bytes load


def test_pin_writes_the_hash_into_the_source(tmp_path, monkeypatch):
    source = tmp_path / "resources.py"
    source.write_text('FUSION_MODEL_SHA256 = "' + "0" * 64 + '"\nOTHER = 1\n', encoding="utf-8")
    monkeypatch.setattr(resources, "FUSION_MODEL_SHA256", "0" * 64)
    digest = pin(FUSION_MODEL, source)
    assert source.read_text(encoding="utf-8") == f'FUSION_MODEL_SHA256 = "{digest}"\nOTHER = 1\n'
    assert digest == resources.FUSION_MODEL_SHA256  # this process loads what it just wrote
    source.write_text("OTHER = 1\n", encoding="utf-8")
    with pytest.raises(ResourceError, match="no single FUSION_MODEL_SHA256 line"):
        pin(FUSION_MODEL, source)


# dlib's models of face-recognition-models: loaded only after their pinned hash is checked.
DLIB_PINS = [("face_recognition_model_location", "DLIB_DESCRIPTOR_SHA256"),
             ("pose_predictor_five_point_model_location", "DLIB_SHAPE_5_SHA256"),
             ("cnn_face_detector_model_location", "DLIB_MMOD_SHA256")]


@pytest.mark.parametrize("location, name", DLIB_PINS)
def test_the_installed_dlib_models_are_the_pinned_ones(location, name):
    import face_recognition_models

    path = Path(getattr(face_recognition_models, location)())
    assert hashlib.sha256(path.read_bytes()).hexdigest() == getattr(resources, name)


def _tampered(tmp_path, location: str) -> Path:
    import face_recognition_models

    original = Path(getattr(face_recognition_models, location)())
    copy = tmp_path / original.name
    data = bytearray(original.read_bytes())
    data[-1] ^= 1  # one bit: dlib might well load it
    copy.write_bytes(bytes(data))
    return copy


def test_a_replaced_dlib_model_is_refused_before_dlib_reads_it(tmp_path):
    from kiosk.cloud.align import load_model

    tampered = _tampered(tmp_path, "pose_predictor_five_point_model_location")
    loaded = []
    with pytest.raises(ResourceError, match=f"model file {tampered} is corrupt or was replaced"
                                            ".*reinstall face-recognition-models"):
        load_model(str(tampered), loaded.append, resources.DLIB_SHAPE_5_SHA256)
    assert loaded == []


def test_the_checked_bytes_are_the_bytes_dlib_loads(tmp_path):
    from kiosk.cloud.align import load_model

    original = tmp_path / "model.dat"
    original.write_bytes(b"weights")
    seen = []
    load_model(str(original), lambda path: seen.append((path, Path(path).read_bytes())),
               hashlib.sha256(b"weights").hexdigest())
    (copy, data), = seen
    assert data == b"weights" and copy != str(original)
    assert not Path(copy).exists()  # the private copy is gone


@pytest.mark.parametrize("build, location", [
    ("local", "face_recognition_model_location"),
    ("aligner", "pose_predictor_five_point_model_location"),
    ("cnn", "cnn_face_detector_model_location"),
])
def test_each_dlib_model_is_checked_where_the_kiosk_loads_it(tmp_path, monkeypatch, build,
                                                             location):
    import face_recognition_models
    import numpy as np

    from kiosk.cloud.align import FaceAligner
    from kiosk.cloud.detect import HogFaceDetector
    from kiosk.cloud.local import LocalMatcher

    tampered = _tampered(tmp_path, location)
    monkeypatch.setattr(face_recognition_models, location, lambda: str(tampered))
    with pytest.raises(ResourceError, match="corrupt or was replaced"):
        if build == "local":
            LocalMatcher()
        elif build == "aligner":
            FaceAligner()
        else:
            HogFaceDetector()._detect_cnn(np.zeros((64, 64, 3), np.uint8))
