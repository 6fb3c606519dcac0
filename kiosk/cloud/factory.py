"""Choosing and building the face matcher from the settings (for the composition root)."""

from __future__ import annotations

import logging
from typing import Any

from kiosk.cloud.client import aws_status, make_rekognition_client
from kiosk.cloud.detect import HogFaceDetector
from kiosk.cloud.errors import NoCredentials
from kiosk.cloud.fallback import ResilientMatcher
from kiosk.cloud.local import LocalMatcher
from kiosk.cloud.protocol import FaceMatcher
from kiosk.cloud.rekognition import RekognitionMatcher

log = logging.getLogger(__name__)


def build_matcher(settings: Any, *, choice: str | None = None, session: Any | None = None,
                  client: Any | None = None, retry_mode: str = "standard",
                  detector: HogFaceDetector | None = None) -> FaceMatcher:
    """The matcher ``settings.matching.matcher`` (or ``choice``) asks for.

    - ``local``: :class:`LocalMatcher` only.
    - ``rekognition``: :class:`RekognitionMatcher` only; cloud failures raise.
    - ``auto``: when AWS has credentials or a region in boto3's standard chain, Rekognition with
      the local matcher as fallback (:class:`ResilientMatcher`); otherwise :class:`LocalMatcher`.
      A half configuration (credentials without region or the reverse) still picks the cloud,
      so the failure shows as a reason code instead of being silently ignored: without a
      region no client can be built, and every comparison is the local matcher's, marked
      offline with ``CLOUD_NO_CREDENTIALS`` (before, the kiosk could not start its matcher).

    Parameters
    ----------
    session : boto3.session.Session, optional
        Where region and credentials come from (a default session when omitted).
    client : botocore client, optional
        A ready Rekognition client (tests); built with :func:`make_rekognition_client`
        otherwise.
    detector : HogFaceDetector, optional
        Shared face detector (building one costs about a second); a new one when omitted.
    """
    choice = choice or settings.matching.matcher
    if choice not in ("auto", "local", "rekognition"):
        raise ValueError(f"matcher must be auto, local or rekognition, got {choice!r}")
    detector = detector if detector is not None else HogFaceDetector()
    if choice == "local":
        return LocalMatcher.from_settings(settings, detector=detector)
    if choice == "auto" and client is None:
        status = aws_status(session)
        if not (status.credentials or status.region):
            log.info("no AWS configuration found; using the local matcher")
            return LocalMatcher.from_settings(settings, detector=detector)
        if status.partial:
            log.warning("AWS is only partly configured (credentials: %s, region: %s)",
                        status.credentials, status.region or "none")
    if client is None:
        try:
            client = make_rekognition_client(settings, session=session, retry_mode=retry_mode)
        except NoCredentials as exc:
            if choice == "rekognition":
                raise
            log.warning("Rekognition cannot be used (%s); the local matcher compares every "
                        "face, marked offline", exc)
            return ResilientMatcher(None, LocalMatcher.from_settings(settings, detector=detector),
                                    unusable=exc)
    cloud = RekognitionMatcher.from_settings(client, settings, reference_detector=detector)
    if choice == "rekognition":
        return cloud
    return ResilientMatcher(cloud, LocalMatcher.from_settings(settings, detector=detector))
