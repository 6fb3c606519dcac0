"""``kiosk match`` and ``kiosk enroll`` end to end (local matcher, stubbed Rekognition)."""

from __future__ import annotations

import json

import cv2
import pytest
from botocore.stub import ANY

import kiosk.cli.enroll as enroll_cli
from kiosk.cli import main
from tests.cloud import responses as r
from tests.cloud.conftest import BIDEN, DEMO_GIF, IMAGE_T1, OBAMA, OBAMA2, side_by_side


def test_match_same_person_at_a_staffed_desk_exits_0(shared_data, environ, capsys):
    status = main(["match", str(shared_data / OBAMA), str(shared_data / OBAMA2)],
                  {**environ, "KIOSK_KIOSK_MODE": "staffed"})
    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith("MATCH: similarity 9") and "local matcher, offline" in out
    assert "outcome at this kiosk: pass" in out


def test_a_match_sent_to_review_exits_1(shared_data, environ, capsys):
    status = main(["match", str(shared_data / OBAMA), str(shared_data / OBAMA2)], environ)
    out = capsys.readouterr().out
    # Unattended by default, so an offline match is only flagged for review: not a pass.
    assert status == 1
    assert out.startswith("MATCH: similarity 9")
    assert "outcome at this kiosk: review (MATCH_OFFLINE, MATCH_OFFLINE_REVIEW)" in out


def test_match_different_people_exits_1_with_json(shared_data, environ, capsys):
    status = main(["match", "--matcher", "local", "--json", str(shared_data / OBAMA),
                   str(shared_data / BIDEN)], {**environ, "KIOSK_KIOSK_MODE": "staffed"})
    payload = json.loads(capsys.readouterr().out)
    assert status == 1
    assert payload["matched"] is False and payload["outcome"] == "fail"
    assert payload["matcher"] == "local" and payload["offline"] is True
    assert payload["similarity"] < 5 and payload["threshold"] == 95.0


def test_match_photo_against_a_gif_segment(shared_data, environ, capsys):
    status = main(["match", "--json", "--frames-b", "0-32", str(shared_data / IMAGE_T1),
                   str(shared_data / DEMO_GIF)], {**environ, "KIOSK_KIOSK_MODE": "staffed"})
    payload = json.loads(capsys.readouterr().out)
    assert status == 0 and payload["frames_b"] == "0-32" and payload["matched"]


@pytest.mark.parametrize(("argv_tail", "message"), [
    (["--frames-b", "9-1"], "--frames-b: frame range must be START-END"),
    (["--matcher", "rekognition"], "AWS is not configured: no region and no credentials"),
])
def test_match_errors_exit_2_with_one_plain_line(shared_data, environ, capsys, argv_tail,
                                                 message):
    status = main(["match", *argv_tail, str(shared_data / OBAMA), str(shared_data / OBAMA2)],
                  environ)
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("kiosk match: ") and message in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_match_missing_file_exits_2(tmp_path, environ, capsys):
    status = main(["match", str(tmp_path / "id.jpg"), str(tmp_path / "live.jpg")], environ)
    assert status == 2
    assert "id.jpg does not exist" in capsys.readouterr().err


@pytest.fixture
def enrol_env(environ, stubbed, monkeypatch):
    client, stubber, counter = stubbed
    monkeypatch.setattr(enroll_cli, "make_client", lambda settings: client)
    return {**environ, "KIOSK_MATCHING_COLLECTION_ID": "members"}, stubber, counter


FACE_ID = "5e1c1b0a-7f3e-4d2a-9c1b-2a3b4c5d6e7f"


def test_enroll_and_remove(shared_data, enrol_env, capsys):
    env, stubber, counter = enrol_env
    stubber.add_response("index_faces", r.index_faces(FACE_ID, "m-0042",
                                                      r.bbox(0.3, 0.2, 0.4, 0.5)),
                         {"CollectionId": "members", "Image": {"Bytes": ANY},
                          "ExternalImageId": "m-0042", "MaxFaces": 1, "QualityFilter": "AUTO",
                          "DetectionAttributes": ["DEFAULT"]})
    assert main(["enroll", "m-0042", str(shared_data / OBAMA)], env) == 0
    assert capsys.readouterr().out.strip() == (
        f"enrolled member m-0042 in collection members: face id {FACE_ID}")
    stubber.add_response("list_faces", r.list_faces([(FACE_ID, "m-0042")]),
                         {"CollectionId": "members", "MaxResults": 4096})
    stubber.add_response("delete_faces", {"DeletedFaces": [FACE_ID], "ResponseMetadata": r.META},
                         {"CollectionId": "members", "FaceIds": [FACE_ID]})
    assert main(["enroll", "--remove", "--json", "m-0042"], env) == 0
    assert json.loads(capsys.readouterr().out)["face_ids"] == [FACE_ID]
    assert counter["calls"] == 3


def test_enroll_two_person_photo_is_refused_locally(shared_data, enrol_env, faces, tmp_path,
                                                    capsys):
    env, _, counter = enrol_env
    photo = tmp_path / "two.png"
    cv2.imwrite(str(photo), side_by_side(faces["obama"], faces["biden"]))
    assert main(["enroll", "m-0042", str(photo)], env) == 2
    assert "the member photo shows 2 faces" in capsys.readouterr().err
    assert counter["calls"] == 0


@pytest.mark.parametrize(("argv", "message"), [
    (["enroll", "m-1"], "PHOTO is missing"),
    (["enroll", "--remove", "m-1", "photo.jpg"], "--remove takes only MEMBER_ID"),
    (["enroll", "--remove", "Jane Doe"], "member id 'Jane Doe' is not valid"),
])
def test_enroll_usage_errors(enrol_env, capsys, argv, message):
    env, _, counter = enrol_env
    assert main(argv, env) == 2
    assert message in capsys.readouterr().err
    assert counter["calls"] == 0


def test_enroll_needs_a_collection(environ, capsys):
    assert main(["enroll", "--remove", "m-1"], environ) == 2
    assert "matching.collection_id is empty" in capsys.readouterr().err
