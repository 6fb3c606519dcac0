"""The Rekognition client factory and the "is AWS configured" check."""

from __future__ import annotations

import boto3
import pytest

from kiosk.cloud.client import aws_status, client_config, make_rekognition_client
from kiosk.settings import Settings
from tests.cloud.conftest import fake_session


def test_timeouts_and_retries_come_from_the_settings(aws_env):
    settings = Settings().replace("matching", connect_timeout_s=2.5, read_timeout_s=7.0,
                                  max_attempts=4)
    client = make_rekognition_client(settings, session=fake_session())
    config = client.meta.config
    assert config.connect_timeout == 2.5 and config.read_timeout == 7.0
    assert config.retries == {"mode": "standard", "total_max_attempts": 4}
    assert client.meta.region_name == "us-east-1"
    assert client.meta.service_model.service_name == "rekognition"


def test_adaptive_retry_mode(aws_env):
    client = make_rekognition_client(Settings(), session=fake_session(), retry_mode="adaptive")
    assert client.meta.config.retries["mode"] == "adaptive"
    with pytest.raises(ValueError, match="retry_mode"):
        client_config(Settings(), "legacy")


def test_region_and_credentials_come_from_the_standard_chain(fake_aws):
    client = make_rekognition_client(Settings())  # default session reads the environment
    assert client.meta.region_name == "us-east-1"
    assert client._request_signer._credentials.access_key == "testing"


def test_status_without_any_configuration(aws_env):
    status = aws_status()
    assert not status.credentials and status.region is None
    assert not status.configured and not status.partial


def test_status_with_configuration(aws_env):
    status = aws_status(fake_session())
    assert status.configured and status.region == "us-east-1" and not status.partial


def test_status_with_credentials_but_no_region(aws_env):
    status = aws_status(boto3.session.Session(aws_access_key_id="testing",
                                              aws_secret_access_key="testing"))
    assert status.credentials and status.region is None and status.partial


def test_status_with_a_broken_profile(aws_env):
    aws_env.setenv("AWS_PROFILE", "does-not-exist")
    status = aws_status()
    assert not status.configured
