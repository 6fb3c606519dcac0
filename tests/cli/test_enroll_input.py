"""``kiosk enroll`` on careless member ids: refused before any AWS call, with a message that
says what is wrong; and a member that is not enrolled is a plain error."""

from __future__ import annotations

from pathlib import Path

import pytest

import kiosk.cli.enroll as enroll_cli
from kiosk.cli import main
from kiosk.cloud.collection import check_member_id
from kiosk.errors import InputError
from tests.cloud import responses as r


@pytest.fixture
def enrol_env(tmp_path: Path, stubbed, monkeypatch):
    client, stubber, counter = stubbed
    monkeypatch.setattr(enroll_cli, "make_client", lambda settings: client)
    return {"HOME": str(tmp_path), "KIOSK_MATCHING_COLLECTION_ID": "members"}, stubber, counter


@pytest.mark.parametrize(("member_id", "why"), [
    ("m-1\n", "member id 'm-1\\n' is not valid (it contains '\\n')"),
    ("", "member id '' is not valid (it is empty)"),
    ("a" * 300, "member id 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is not valid (it is 300 "
                "characters long)"),
    ("a/b;c", "(it contains '/' ';')"),
])
def test_a_bad_member_id_is_refused_before_any_call(enrol_env, capsys, member_id, why):
    env, _, counter = enrol_env
    assert main(["enroll", "--remove", member_id], env) == 2
    err = capsys.readouterr().err
    assert why in err and err.count("\n") == 1 and len(err) < 200
    assert counter["calls"] == 0


def test_a_trailing_newline_is_not_a_valid_member_id():
    # "$" matches before a final newline: AWS would refuse the id as "no face in the image".
    with pytest.raises(InputError, match="contains"):
        check_member_id("m-0042\n")
    assert check_member_id("m-0042:a.b_c") == "m-0042:a.b_c"


def test_removing_a_member_that_is_not_enrolled_is_a_plain_error(enrol_env, capsys):
    env, stubber, counter = enrol_env
    stubber.add_response("list_faces", r.list_faces([("f-1", "someone-else")]),
                         {"CollectionId": "members", "MaxResults": 4096})
    assert main(["enroll", "--remove", "nobody"], env) == 2
    assert capsys.readouterr().err == (
        "kiosk enroll: member nobody is not enrolled in collection members\n")
    assert counter["calls"] == 1
