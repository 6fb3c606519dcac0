"""Building the Rekognition client, and telling whether AWS is configured at all.

Region and credentials come only from boto3's standard chain (environment, ~/.aws files, SSO,
container or instance role); the kiosk's settings deliberately hold neither. Time-outs and the
retry policy come from ``settings.matching``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, NoRegionError

from kiosk.cloud.aws import map_botocore_error
from kiosk.cloud.errors import NoCredentials

log = logging.getLogger(__name__)

RETRY_MODES = ("standard", "adaptive")


@dataclass(frozen=True)
class AwsStatus:
    """What boto3's standard chain found.

    ``configured`` means both credentials and a region; ``partial`` means one of them (a
    misconfiguration the operator should hear about, not a reason to stay silent).
    """

    credentials: bool
    region: str | None

    @property
    def configured(self) -> bool:
        return self.credentials and self.region is not None

    @property
    def partial(self) -> bool:
        return self.credentials != (self.region is not None)


def aws_status(session: Any | None = None) -> AwsStatus:
    """Whether credentials and a region are available through boto3's standard chain.

    Without any configuration boto3 asks the EC2 instance-metadata endpoint for a role, which
    costs about a second once; set ``AWS_EC2_METADATA_DISABLED=true`` on kiosks that never run
    on EC2.

    Parameters
    ----------
    session : boto3.session.Session, optional
        The session to inspect; a fresh default session when omitted.
    """
    try:
        session = session if session is not None else boto3.session.Session()
        credentials = session.get_credentials() is not None
        region = session.region_name or None
    except BotoCoreError as exc:
        # A broken profile or config file: report it and treat AWS as not configured.
        log.warning("AWS configuration unusable: %s", type(exc).__name__)
        return AwsStatus(credentials=False, region=None)
    return AwsStatus(credentials=credentials, region=region)


def client_config(settings: Any, retry_mode: str = "standard") -> Config:
    """botocore Config from ``settings.matching``: time-outs and retries.

    ``settings.matching.max_attempts`` counts every attempt including the first, so it is
    passed as botocore's ``total_max_attempts`` (botocore's own ``max_attempts`` key counts
    retries only and would add one).
    """
    if retry_mode not in RETRY_MODES:
        raise ValueError(f"retry_mode must be one of {RETRY_MODES}, got {retry_mode!r}")
    matching = settings.matching
    return Config(connect_timeout=float(matching.connect_timeout_s),
                  read_timeout=float(matching.read_timeout_s),
                  retries={"mode": retry_mode, "total_max_attempts": int(matching.max_attempts)},
                  user_agent_extra="liveness-kiosk")


def make_rekognition_client(settings: Any, *, session: Any | None = None,
                            retry_mode: str = "standard", endpoint_url: str | None = None) -> Any:
    """A boto3 Rekognition client configured from ``settings.matching``.

    Parameters
    ----------
    settings : Settings
        Uses ``matching.connect_timeout_s``, ``read_timeout_s`` and ``max_attempts``.
    session : boto3.session.Session, optional
        Supplies region and credentials; a default session (standard chain) when omitted.
    retry_mode : {"standard", "adaptive"}
        botocore's retry mode; adaptive also rate-limits the client when throttled.
    endpoint_url : str, optional
        Another endpoint (a VPC endpoint, or a local test server).

    Raises
    ------
    NoCredentials
        No region is configured, or the configured one is empty or not a region name
        (``AWS_DEFAULT_REGION=""``); credentials are only looked up at the first call.
    """
    config = client_config(settings, retry_mode)
    try:
        session = session if session is not None else boto3.session.Session()
        region = session.region_name
        if region is not None and not region.strip():
            # botocore would build the endpoint "rekognition..amazonaws.com" and raise a
            # bare ValueError; an empty variable is a configuration mistake to name.
            raise NoCredentials("the AWS region is set but empty (AWS_DEFAULT_REGION, "
                                "AWS_REGION or the profile's region); set a region such as "
                                "eu-west-1, or unset it")
        return session.client("rekognition", config=config, endpoint_url=endpoint_url)
    except NoRegionError:
        raise NoCredentials(_no_region(session)) from None
    except BotoCoreError as exc:
        raise map_botocore_error("client setup", exc) from None
    except ValueError as exc:
        # botocore checks region names and endpoints with ValueErrors of its own. An endpoint
        # is never quoted: a URL may carry a user name and password.
        if "endpoint" in str(exc).lower() or "URL" in str(exc):  # "Invalid IPv6 URL" too
            raise NoCredentials("the Rekognition endpoint URL is not valid (AWS_ENDPOINT_URL, "
                                "AWS_ENDPOINT_URL_REKOGNITION or the profile's endpoint_url); "
                                "give a URL such as https://rekognition.eu-west-1.amazonaws.com"
                                ", or unset it") from None
        log.warning("Rekognition client setup failed: %s", exc)
        raise NoCredentials(f"the AWS region is not usable: {exc}") from None


def _no_region(session: Any) -> str:
    """What to configure when no region is set: the credentials too, when the standard chain
    finds none either (one message naming both, not one after the other)."""
    try:
        found = session.get_credentials() is not None
    except BotoCoreError:
        found = False
    if found:
        return "no AWS region is configured (set one in ~/.aws/config or AWS_DEFAULT_REGION)"
    return ("AWS is not configured: no region and no credentials (set a region in "
            "~/.aws/config or AWS_DEFAULT_REGION, and credentials in the environment, "
            "~/.aws/credentials or an instance role)")
