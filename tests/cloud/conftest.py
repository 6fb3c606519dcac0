"""Fixtures for the matching tests: no network, no real AWS credentials.

Every boto3 client here is built with explicit fake credentials and region ``us-east-1``, and
``aws_env`` points boto3's whole standard chain at nothing (no files, no instance metadata), so
a test that forgets a stub fails instead of reaching AWS.
"""

from __future__ import annotations

from pathlib import Path

import boto3
import numpy as np
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from kiosk.cloud.detect import HogFaceDetector
from kiosk.cloud.images import load_photo
from kiosk.cloud.local import LocalMatcher

AGEITGEY = Path("ageitgey_face_recognition")
OBAMA = AGEITGEY / "examples" / "obama.jpg"
OBAMA2 = AGEITGEY / "examples" / "obama2.jpg"
BIDEN = AGEITGEY / "examples" / "biden.jpg"
SILENT_FACE = Path("minivision-ai_Silent-Face-Anti-Spoofing") / "images"
DEMO_GIF = SILENT_FACE / "demo.gif"
IMAGE_T1 = SILENT_FACE / "sample" / "image_T1.jpg"

AWS_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ROLE_ARN",
            "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_REKOGNITION", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch):
    """Block, and fail the test on, any lookup or connection beyond this machine.

    botocore wraps whatever its HTTP layer raises, so the block alone could surface as an
    ordinary "offline" error; the teardown check makes such a test fail loudly.
    """
    import socket

    local = (None, "127.0.0.1", "::1", "localhost")
    blocked: list[str] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def guarded_connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in local and not host.startswith("/"):
            blocked.append(str(address))
            raise OSError(f"test tried to reach the network: {address}")
        return real_connect(self, address)

    def guarded_lookup(host, *args, **kwargs):
        if host not in local:
            blocked.append(str(host))
            raise OSError(f"test tried to resolve a network host: {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_lookup)
    yield
    assert not blocked, f"test tried to use the network: {blocked}"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """An environment where boto3's standard chain finds nothing and asks no server."""
    for name in AWS_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


@pytest.fixture
def fake_aws(aws_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Fake credentials and region us-east-1 in the environment (for moto and the factory)."""
    aws_env.setenv("AWS_ACCESS_KEY_ID", "testing")
    aws_env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    aws_env.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return aws_env


def fake_session() -> boto3.session.Session:
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                 region_name="us-east-1")


def rekognition_client(max_attempts: int = 1):
    """A client with fake credentials; one attempt so stubbed errors are not retried."""
    config = Config(connect_timeout=1, read_timeout=1,
                    retries={"mode": "standard", "total_max_attempts": max_attempts})
    return fake_session().client("rekognition", config=config)


@pytest.fixture(scope="session")
def _shared_client():
    # Building a botocore client costs ~0.3 s; the stubbed tests share one, with a fresh
    # Stubber and call counter each.
    return rekognition_client()


@pytest.fixture
def stubbed(aws_env: pytest.MonkeyPatch, _shared_client):
    """(client, stubber, counter): ``counter["calls"]`` counts API operations made."""
    client = _shared_client
    counter = {"calls": 0}

    def count(**_kwargs):
        counter["calls"] += 1

    client.meta.events.register("before-parameter-build.rekognition", count,
                                unique_id="test-call-counter")
    try:
        with Stubber(client) as stubber:
            yield client, stubber, counter
            stubber.assert_no_pending_responses()
    finally:
        client.meta.events.unregister("before-parameter-build.rekognition",
                                      unique_id="test-call-counter")


@pytest.fixture(scope="session")
def detector() -> HogFaceDetector:
    return HogFaceDetector()


@pytest.fixture(scope="session")
def local_matcher(detector: HogFaceDetector) -> LocalMatcher:
    """The models load once for the whole test session."""
    return LocalMatcher(95.0, detector=detector)


@pytest.fixture(scope="session")
def faces(shared_data: Path) -> dict[str, np.ndarray]:
    """Real photos from ../shared/data (BGR arrays)."""
    return {"obama": load_photo(shared_data / OBAMA), "obama2": load_photo(shared_data / OBAMA2),
            "biden": load_photo(shared_data / BIDEN)}


def side_by_side(left: np.ndarray, right: np.ndarray, height: int = 400) -> np.ndarray:
    """Two photos scaled to one height and pasted next to each other (a two-person photo)."""
    import cv2

    def scaled(img: np.ndarray) -> np.ndarray:
        width = round(img.shape[1] * height / img.shape[0])
        return cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)

    return np.ascontiguousarray(np.hstack([scaled(left), scaled(right)]))
