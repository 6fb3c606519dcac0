"""The trained files the kiosk ships are checked against pinned hashes, like the landmarker:
a fusion model edited in place (every weight 0) once made a replay score 100."""

from __future__ import annotations

import hashlib
import json
import shutil

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
