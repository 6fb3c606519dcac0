"""AWS Face Liveness sessions, for sites that pair the kiosk with AWS's own liveness client.

boto3 can create a session and read its result; the video stream itself
(StartFaceLivenessSession) is only served to AWS's JavaScript and mobile components, which the
site runs beside the kiosk. The kiosk maps the result onto :class:`LivenessResult` and applies
``settings.liveness.confidence_threshold`` to AWS's confidence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kiosk.cloud.errors import LivenessSessionError
from kiosk.cloud.parse import mapping, number, text
from kiosk.cloud.results import LivenessResult
from kiosk.reasons import Reason

log = logging.getLogger(__name__)

Call = Callable[..., dict[str, Any]]


def create_session(call: Call, *, audit_images_limit: int = 0,
                   client_request_token: str | None = None) -> str:
    """CreateFaceLivenessSession; returns the session id for AWS's client component.

    Parameters
    ----------
    audit_images_limit : int
        Extra audit images AWS keeps (0-4); 0 keeps none, which suits a privacy-minded site.
    client_request_token : str, optional
        Idempotency token, so a retried request does not open a second session.
    """
    if not 0 <= audit_images_limit <= 4:
        raise ValueError(f"audit_images_limit must be 0-4, got {audit_images_limit}")
    params: dict[str, Any] = {}
    if audit_images_limit:
        params["Settings"] = {"AuditImagesLimit": audit_images_limit}
    if client_request_token:
        params["ClientRequestToken"] = client_request_token
    response = call("CreateFaceLivenessSession", **params)
    session_id = text(response, "SessionId", "CreateFaceLivenessSession")
    if not session_id:
        raise LivenessSessionError("AWS created no Face Liveness session (empty session id)")
    return session_id


def session_result(call: Call, session_id: str, threshold: float) -> LivenessResult:
    """GetFaceLivenessSessionResults mapped onto :class:`LivenessResult`.

    Passed only when the session SUCCEEDED and its confidence reaches ``threshold``.
    """
    before = getattr(call, "count", 0)
    response = call("GetFaceLivenessSessionResults", SessionId=session_id)
    status = text(response, "Status", "GetFaceLivenessSessionResults") or ""
    confidence = number(response, "Confidence", "GetFaceLivenessSessionResults")
    reasons: tuple[str, ...] = ()
    if status in ("CREATED", "IN_PROGRESS"):
        reasons = (Reason.CLOUD_LIVENESS_NOT_FINISHED,)
    elif status != "SUCCEEDED":
        reasons = (Reason.CLOUD_LIVENESS_FAILED,)
    elif confidence is None or float(confidence) < threshold:
        reasons = (Reason.CLOUD_LIVENESS_BELOW_THRESHOLD,)
    reference = mapping(response.get("ReferenceImage") or {}, "ReferenceImage").get("Bytes")
    if not isinstance(reference, bytes | None):
        reference = None
    log.info("Face Liveness session %s: %s, confidence %s", session_id, status, confidence)
    return LivenessResult(session_id=session_id, status=status,
                          confidence=None if confidence is None else float(confidence),
                          threshold=float(threshold), passed=not reasons, reasons=reasons,
                          calls=getattr(call, "count", 0) - before, reference_image=reference)
