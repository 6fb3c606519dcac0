"""Every Rekognition failure becomes a typed error with a plain message.

AWS error answers come from Stubber; transport failures from the real botocore stack (a local
socket that never answers, a closed port, a hook raising botocore's own exceptions), so retries
and time-outs configured by make_rekognition_client are what is exercised. Nothing leaves
127.0.0.1.
"""

from __future__ import annotations

import json
import socket
import threading

import numpy as np
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectTimeoutError

from kiosk.cloud.client import make_rekognition_client
from kiosk.cloud.errors import (
    FALLBACK_ERRORS,
    AccessDenied,
    CloudError,
    CloudOffline,
    CloudThrottled,
    CloudTimeout,
    CloudUnavailable,
    ImageRejected,
    NoCredentials,
    NoFaceInImage,
)
from kiosk.cloud.rekognition import RekognitionMatcher
from kiosk.settings import Settings
from tests.cloud.conftest import fake_session

LIVE = np.random.default_rng(21).integers(0, 256, (120, 160, 3), dtype=np.uint8)
REFERENCE = np.random.default_rng(22).integers(0, 256, (120, 100, 3), dtype=np.uint8)


@pytest.mark.parametrize(("code", "status", "error", "words"), [
    ("ThrottlingException", 400, CloudThrottled, "throttling"),
    ("ProvisionedThroughputExceededException", 400, CloudThrottled, "throttling"),
    ("InternalServerError", 500, CloudUnavailable, "internal fault"),
    ("AccessDeniedException", 400, AccessDenied, "IAM policy"),
    ("UnrecognizedClientException", 400, AccessDenied, "credentials"),
    ("InvalidImageFormatException", 400, ImageRejected, "image format"),
    ("ImageTooLargeException", 400, ImageRejected, "too large"),
    ("InvalidParameterException", 400, NoFaceInImage, "no face"),
])
def test_aws_error_codes_map_to_typed_errors(stubbed, code, status, error, words):
    client, stubber, _ = stubbed
    stubber.add_client_error("compare_faces", code, "Request has invalid parameters", status)
    with pytest.raises(error, match=words) as info:
        RekognitionMatcher(client, cross_check=False).compare(LIVE, REFERENCE)
    message = str(info.value)
    assert "Traceback" not in message and "\n" not in message
    assert info.value.__cause__ is None  # raised "from None": no chained traceback
    assert info.value.aws_code == code


def test_fallback_errors_are_the_unavailable_ones():
    assert issubclass(CloudThrottled, CloudUnavailable) and issubclass(NoCredentials,
                                                                       CloudUnavailable)
    assert not issubclass(NoFaceInImage, FALLBACK_ERRORS)
    assert not issubclass(ImageRejected, FALLBACK_ERRORS)


def _settings(max_attempts: int = 1, read_timeout: float = 10.0) -> Settings:
    return Settings().replace("matching", max_attempts=max_attempts, connect_timeout_s=1.0,
                              read_timeout_s=read_timeout)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_kwargs):
        yield self._body


def test_throttling_is_retried_with_backoff_then_unavailable(aws_env):
    client = make_rekognition_client(_settings(max_attempts=2), session=fake_session())
    attempts = []

    def throttle(request, **_kwargs):
        attempts.append(request.url)
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
        return AWSResponse(request.url, 400, {"x-amzn-ErrorType": "ThrottlingException"},
                           _Raw(body.encode()))

    client.meta.events.register("before-send.rekognition.CompareFaces", throttle)
    with pytest.raises(CloudThrottled, match="after 2 attempts") as info:
        RekognitionMatcher(client, cross_check=False).compare(LIVE, REFERENCE)
    assert len(attempts) == 2  # settings.matching.max_attempts counts every attempt
    assert isinstance(info.value, CloudUnavailable)


def test_connect_timeout_is_retried_then_a_timeout(aws_env):
    client = make_rekognition_client(_settings(max_attempts=2), session=fake_session())
    attempts = []

    def unreachable(request, **_kwargs):
        attempts.append(1)
        raise ConnectTimeoutError(endpoint_url=request.url)

    client.meta.events.register("before-send.rekognition.CompareFaces", unreachable)
    with pytest.raises(CloudTimeout, match="time-out connecting to Rekognition"):
        RekognitionMatcher(client, cross_check=False).compare(LIVE, REFERENCE)
    assert len(attempts) == 2


@pytest.fixture
def silent_server():
    """A TCP server on 127.0.0.1 that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_read_timeout_from_settings_is_applied(aws_env, silent_server):
    client = make_rekognition_client(_settings(read_timeout=1.0), session=fake_session(),
                                     endpoint_url=silent_server)
    with pytest.raises(CloudTimeout, match="time-out waiting for Rekognition") as info:
        RekognitionMatcher(client, cross_check=False).compare(LIVE, REFERENCE)
    assert info.value.operations == ("CompareFaces",)  # the request, with the faces, went out


def test_dropped_network_is_offline(aws_env):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there any more: connection refused
    client = make_rekognition_client(_settings(), session=fake_session(),
                                     endpoint_url=f"http://127.0.0.1:{port}")
    with pytest.raises(CloudOffline, match="cannot be reached") as info:
        RekognitionMatcher(client, cross_check=False).compare(LIVE, REFERENCE)
    assert info.value.operations == ()  # refused connection: nothing left the kiosk


def test_missing_credentials(aws_env):
    import boto3

    session = boto3.session.Session(region_name="us-east-1")  # the chain finds no credentials
    client = make_rekognition_client(_settings(), session=session)
    with pytest.raises(NoCredentials, match="credentials are not configured") as info:
        RekognitionMatcher(client, cross_check=False).compare(LIVE, REFERENCE)
    assert info.value.operations == ()


def test_missing_region(aws_env):
    import boto3

    # Nothing configured: one message names both, not the region first and the keys later.
    with pytest.raises(NoCredentials, match="no region and no credentials"):
        make_rekognition_client(_settings(), session=boto3.session.Session())
    aws_env.setenv("AWS_ACCESS_KEY_ID", "testing")
    aws_env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with pytest.raises(NoCredentials, match="^no AWS region is configured"):
        make_rekognition_client(_settings(), session=boto3.session.Session())


def test_unknown_aws_error_is_still_plain(stubbed):
    client, stubber, _ = stubbed
    stubber.add_client_error("detect_faces", "SomethingNewException", "details", 400)
    with pytest.raises(CloudError, match=r"Rekognition DetectFaces failed \(SomethingNewExc"):
        RekognitionMatcher(client).check_quality(LIVE)


@pytest.fixture
def trickling_server():
    """A server that answers with headers, then one byte of body every 0.3 s without end:
    each wait for bytes is shorter than any read time-out."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n"
                             b"Content-Length: 100000\r\n\r\n{")
                while not stop.wait(0.3):
                    conn.sendall(b" ")
            except OSError:
                return

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    server.close()


def test_an_answer_trickling_in_is_abandoned_at_the_calls_limit(aws_env, trickling_server):
    """Before: botocore's read time-out (1 s here) bounds each wait for bytes, so a byte every
    0.3 s held the call (and the session) for as long as the server went on."""
    import time

    from kiosk.cloud.timing import call_limit_s

    settings = _settings(read_timeout=1.0)
    client = make_rekognition_client(settings, session=fake_session(),
                                     endpoint_url=trickling_server)
    matcher = RekognitionMatcher.from_settings(client, settings, cross_check=False)
    limit = call_limit_s(settings.matching)
    assert limit == 2.0  # (1 s connect + 1 s read) x 1 attempt
    start = time.monotonic()
    with pytest.raises(CloudTimeout, match="did not answer within 2 s in all") as info:
        matcher.compare(LIVE, REFERENCE)
    assert limit <= time.monotonic() - start < limit + 1.0
    assert info.value.operations == ("CompareFaces",)  # the faces went out
