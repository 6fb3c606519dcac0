"""Unreadable Rekognition answers are "the cloud is unavailable", never "no face" (issue 13.6).

A real botocore client talks HTTP to a server on 127.0.0.1 that answers what each test sets:
a 200 with an HTML page, an empty body, ``{}``, JSON of the wrong shape, or a proxy's 5xx
page. Stubber cannot produce these (it validates responses against the API model), and they
are what proxies and captive portals return.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import numpy as np
import pytest

from kiosk.cli import main
from kiosk.cloud.client import make_rekognition_client
from kiosk.cloud.errors import (
    FALLBACK_ERRORS,
    CloudError,
    CloudUnavailable,
    MalformedResponse,
    NoCredentials,
)
from kiosk.cloud.fallback import ResilientMatcher
from kiosk.cloud.rekognition import RekognitionMatcher
from kiosk.reasons import CATALOGUE, Reason
from kiosk.settings import Settings
from tests.cloud.conftest import OBAMA, OBAMA2, fake_session

LIVE = np.random.default_rng(31).integers(0, 256, (120, 160, 3), dtype=np.uint8)
REFERENCE = np.random.default_rng(32).integers(0, 256, (120, 100, 3), dtype=np.uint8)
JSON = "application/x-amz-json-1.1"


class _Answer:
    """What the server says next: (status, content type, body)."""

    def __init__(self) -> None:
        self.value: tuple[int, str, bytes] = (200, JSON, b"{}")
        self.requests = 0


@pytest.fixture
def server() -> Iterator[tuple[str, _Answer]]:
    answer = _Answer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            answer.requests += 1
            status, ctype, body = answer.value
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", answer
    httpd.shutdown()
    thread.join()
    httpd.server_close()


def _matcher(endpoint: str) -> RekognitionMatcher:
    settings = Settings().replace("matching", max_attempts=1, connect_timeout_s=1.0,
                                  read_timeout_s=2.0)
    client = make_rekognition_client(settings, session=fake_session(), endpoint_url=endpoint)
    return RekognitionMatcher(client)


BAD_200 = [
    pytest.param("text/html", b"<html><body>Please log in to the hotel Wi-Fi</body></html>",
                 id="html-page"),
    pytest.param(JSON, b"", id="empty-body"),
    pytest.param(JSON, b"{}", id="empty-object"),
    pytest.param(JSON, json.dumps({"FaceMatches": "none"}).encode(), id="string-for-list"),
    pytest.param(JSON, json.dumps({"FaceMatches": [{"Similarity": "high", "Face": {
        "BoundingBox": {"Left": 0.1, "Top": 0.1, "Width": 0.3, "Height": 0.4}}}]}).encode(),
                 id="string-for-number"),
    pytest.param(JSON, json.dumps({"SourceImageFace": {}, "FaceMatches": [
        {"Similarity": 99.0, "Face": {"BoundingBox": [0.1, 0.1]}}]}).encode(),
                 id="list-for-object"),
    pytest.param(JSON, json.dumps({"UnmatchedFaces": [{"BoundingBox": {
        "Left": "x", "Top": 0.1, "Width": 0.3, "Height": 0.4}}]}).encode(),
                 id="string-for-ratio"),
]


@pytest.mark.parametrize(("ctype", "body"), BAD_200)
def test_an_unreadable_200_is_unavailable_not_no_face(aws_env, server, ctype, body):
    endpoint, answer = server
    answer.value = (200, ctype, body)
    with pytest.raises(MalformedResponse, match="could not be read") as info:
        _matcher(endpoint).compare(LIVE, REFERENCE)
    assert isinstance(info.value, FALLBACK_ERRORS)
    assert info.value.code == Reason.CLOUD_BAD_RESPONSE
    assert "\n" not in str(info.value) and info.value.__cause__ is None
    assert answer.requests == 1


def test_an_unreadable_detect_faces_answer_is_unavailable(aws_env, server):
    endpoint, answer = server
    answer.value = (200, "text/html", b"<html>proxy</html>")
    with pytest.raises(MalformedResponse):
        _matcher(endpoint).check_quality(LIVE)
    answer.value = (200, JSON, json.dumps({"FaceDetails": [{"EyesOpen": {"Value": "yes"}}]})
                    .encode())
    with pytest.raises(MalformedResponse, match="EyesOpen.Value"):
        _matcher(endpoint).check_quality(LIVE)


@pytest.mark.parametrize(("status", "ctype", "body"), [
    (503, "text/html", b"<html><h1>503 Service Unavailable</h1>nginx</html>"),
    (500, JSON, b""),
    (502, "text/plain", b"Bad Gateway"),
    (504, JSON, b"{}"),
])
def test_any_5xx_is_unavailable(aws_env, server, status, ctype, body):
    endpoint, answer = server
    answer.value = (status, ctype, body)
    with pytest.raises(CloudUnavailable, match=f"answered HTTP {status}") as info:
        _matcher(endpoint).compare(LIVE, REFERENCE)
    assert isinstance(info.value, FALLBACK_ERRORS)


def test_an_unknown_4xx_stays_a_plain_cloud_error(aws_env, server):
    endpoint, answer = server
    answer.value = (418, JSON, json.dumps({"__type": "TeapotException"}).encode())
    with pytest.raises(CloudError, match="TeapotException") as info:
        _matcher(endpoint).compare(LIVE, REFERENCE)
    assert not isinstance(info.value, FALLBACK_ERRORS)


def test_an_unreadable_answer_falls_back_to_the_local_matcher(aws_env, server, local_matcher,
                                                              faces):
    endpoint, answer = server
    answer.value = (200, "text/html", b"<html>captive portal</html>")
    matcher = ResilientMatcher(_matcher(endpoint), local_matcher)
    result = matcher.compare(faces["obama2"], faces["obama"])
    assert result.offline and result.matcher == "local" and result.matched
    assert result.reasons[0] == Reason.CLOUD_BAD_RESPONSE
    assert "could not be read" in result.note


def test_the_reason_is_in_the_catalogue():
    info = CATALOGUE[Reason.CLOUD_BAD_RESPONSE]
    assert info.person is None and not info.attack


@pytest.mark.data
def test_kiosk_match_with_a_captive_portal_answers_offline(shared_data: Path, server, aws_env,
                                                          tmp_path: Path, capsys):
    # The whole command: boto3's standard chain points at the local server.
    endpoint, answer = server
    answer.value = (200, "text/html", b"<html>Sign in to continue</html>")
    aws_env.setenv("AWS_ACCESS_KEY_ID", "testing")
    aws_env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    aws_env.setenv("AWS_DEFAULT_REGION", "us-east-1")
    aws_env.setenv("AWS_ENDPOINT_URL_REKOGNITION", endpoint)
    status = main(["match", "--json", str(shared_data / OBAMA), str(shared_data / OBAMA2)],
                  {"HOME": str(tmp_path), "KIOSK_KIOSK_MODE": "staffed",
                   "KIOSK_MATCHING_MAX_ATTEMPTS": "1"})
    payload = json.loads(capsys.readouterr().out)
    assert answer.requests >= 1
    assert status == 0 and payload["outcome"] == "pass"
    assert payload["matcher"] == "local" and payload["offline"] is True
    assert Reason.CLOUD_BAD_RESPONSE in payload["reasons"]
    # The photo went to the portal's server as a Rekognition request: that call is on record.
    assert payload["operations"] == ["DetectFaces"] and payload["calls"] == 1


@pytest.mark.parametrize("region", ["", "   "])
def test_an_empty_region_is_a_clear_error(aws_env, region):
    import boto3

    aws_env.setenv("AWS_ACCESS_KEY_ID", "testing")
    aws_env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    aws_env.setenv("AWS_DEFAULT_REGION", region)
    with pytest.raises(NoCredentials, match="region is set but empty"):
        make_rekognition_client(Settings(), session=boto3.session.Session())


def test_kiosk_match_with_an_empty_region_exits_2_with_one_line(aws_env, tmp_path, capsys):
    aws_env.setenv("AWS_ACCESS_KEY_ID", "testing")
    aws_env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    aws_env.setenv("AWS_DEFAULT_REGION", "")
    photo = tmp_path / "a.png"
    photo.write_bytes(b"")
    status = main(["match", "--matcher", "rekognition", str(photo), str(photo)],
                  {"HOME": str(tmp_path)})
    err = capsys.readouterr().err
    assert status == 2
    assert err == ("kiosk match: the AWS region is set but empty (AWS_DEFAULT_REGION, "
                   "AWS_REGION or the profile's region); set a region such as eu-west-1, or "
                   "unset it\n")
