"""CompareFaces over real HTTP: moto's server on 127.0.0.1 behind make_rekognition_client.

moto answers CompareFaces with a canned response (similarity 100 for one target face plus one
unmatched face, whatever the images) and implements no other Rekognition call, so this checks
the wiring: settings -> client -> signed HTTP request -> JSON response -> MatchResult.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from moto.server import ThreadedMotoServer

from kiosk.cloud.client import make_rekognition_client
from kiosk.cloud.images import REKOGNITION_MAX_BYTES
from kiosk.cloud.rekognition import RekognitionMatcher
from kiosk.cloud.results import FaceBox
from kiosk.reasons import Reason
from kiosk.settings import Settings
from tests.cloud.conftest import fake_session

H, W = 480, 640


@pytest.fixture(scope="module")
def moto_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def wire(fake_aws, moto_endpoint):
    """A matcher on a moto-backed client, and the requests it put on the wire."""
    settings = Settings().replace("matching", similarity_threshold=97.5, quality_filter="MEDIUM")
    client = make_rekognition_client(settings, session=fake_session(),
                                     endpoint_url=moto_endpoint)
    sent: list[dict] = []

    def capture(request, **_kwargs):
        sent.append({"target": request.headers.get("X-Amz-Target"),
                     "auth": request.headers.get("Authorization", b""),
                     "body": json.loads(request.body)})

    client.meta.events.register("before-send.rekognition", capture)
    matcher = RekognitionMatcher.from_settings(client, settings, cross_check=False)
    return matcher, sent


def _frames():
    rng = np.random.default_rng(31)
    return (rng.integers(0, 256, (H, W, 3), dtype=np.uint8),
            rng.integers(0, 256, (300, 240, 3), dtype=np.uint8))


def test_compare_faces_request_on_the_wire(wire):
    matcher, sent = wire
    live, reference = _frames()
    matcher.compare(live, reference)
    assert len(sent) == 1
    request = sent[0]
    target = request["target"]
    target = target.decode() if isinstance(target, bytes) else target
    assert target == "RekognitionService.CompareFaces"
    auth = request["auth"].decode() if isinstance(request["auth"], bytes) else request["auth"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=testing/")
    assert "/us-east-1/rekognition/" in auth
    body = request["body"]
    assert body["SimilarityThreshold"] == 97.5 and body["QualityFilter"] == "MEDIUM"
    source = base64.b64decode(body["SourceImage"]["Bytes"])
    target_image = base64.b64decode(body["TargetImage"]["Bytes"])
    assert source[:2] == b"\xff\xd8" and target_image[:2] == b"\xff\xd8"  # JPEG
    assert len(source) <= REKOGNITION_MAX_BYTES and len(target_image) <= REKOGNITION_MAX_BYTES


def test_moto_answer_is_parsed_into_a_match_result(wire):
    matcher, _ = wire
    live, reference = _frames()
    # moto reports two target faces of similar size: without a tracked box that is ambiguous.
    result = matcher.compare(live, reference)
    assert not result.matched and result.live_faces == 2
    assert result.reasons == (Reason.MATCH_SEVERAL_FACES_LIVE,)
    assert result.similarity == pytest.approx(100.0) and result.calls == 1
    # With the tracker's box on moto's matched face (left 0.236, top 0.120, width 0.552,
    # height 0.313 of the frame) the match is accepted and located.
    tracked = FaceBox(0.24 * W, 0.13 * H, 0.78 * W, 0.43 * H)
    result = matcher.compare(live, reference, live_box=tracked)
    assert result.matched and result.similarity == pytest.approx(100.0)
    assert result.face_box.x0 == pytest.approx(0.23626 * W, rel=1e-3)
    assert result.threshold == 97.5 and result.matcher == "rekognition" and not result.offline
