"""Typed errors of face matching, each with a plain message and a stable reason code.

The messages are written for staff: they never carry a traceback, an image, an embedding or a
credential. ``code`` is the reason code recorded in the audit log and in results.

Which errors the resilient matcher treats as "the cloud cannot be used right now" (and so falls
back to the local matcher) is decided by :data:`FALLBACK_ERRORS`.
"""

from __future__ import annotations

from kiosk.errors import InputError, KioskError
from kiosk.reasons import Reason


class CloudError(KioskError):
    """Base of every face-matching error.

    ``aws_code`` is AWS's error code (e.g. ``ThrottlingException``) when AWS answered with one.
    ``operations`` are the Rekognition operations of the failed comparison whose requests may
    have reached AWS, in order (set by :meth:`RekognitionMatcher.compare_frames`, see
    :meth:`RekognitionCaller.recording`): the audit's ``cloud_calls`` of the answer the local
    matcher then gives, since a face image sent is recorded whether or not an answer came back.
    """

    code: str = Reason.CLOUD_ERROR
    aws_code: str | None = None
    operations: tuple[str, ...] = ()


class CloudUnavailable(CloudError):
    """The cloud service could not be reached or answered in time (network, throttling,
    time-out, service fault)."""

    code: str = Reason.CLOUD_UNAVAILABLE


class CloudThrottled(CloudUnavailable):
    """Rekognition kept throttling the account after botocore's retries with back-off."""

    code: str = Reason.CLOUD_THROTTLED


class CloudTimeout(CloudUnavailable):
    """Connecting to or reading from Rekognition took longer than the configured time-out."""

    code: str = Reason.CLOUD_TIMEOUT


class CloudOffline(CloudUnavailable):
    """The Rekognition endpoint cannot be reached: no network, DNS failure, dropped connection."""

    code: str = Reason.CLOUD_OFFLINE


class MalformedResponse(CloudUnavailable):
    """Rekognition's answer could not be read: an empty body, an HTML page from a proxy, a
    JSON document without the operation's fields or with fields of the wrong type.

    A subclass of :class:`CloudUnavailable`: such an answer says nothing about the faces, so
    it must never read as "no face" or "no match"; the offline fallback applies.
    """

    code: str = Reason.CLOUD_BAD_RESPONSE


class NoCredentials(CloudUnavailable):
    """AWS is not configured: no credentials or no region in boto3's standard chain.

    A subclass of :class:`CloudUnavailable` because the kiosk must keep working without AWS.
    """

    code: str = Reason.CLOUD_NO_CREDENTIALS


class AccessDenied(CloudError):
    """AWS refused the credentials or the IAM policy does not allow the call."""

    code: str = Reason.CLOUD_ACCESS_DENIED


class ImageRejected(CloudError):
    """Rekognition refused an image: bad format, too large, or too poor to index."""

    code: str = Reason.CLOUD_IMAGE_REJECTED


class NoFaceInImage(CloudError):
    """No usable face was found in an image (ID photo, enrolment photo or live frame)."""

    code: str = Reason.NO_FACE


class SeveralFaces(CloudError):
    """More than one face of comparable size in an image that must show exactly one person."""

    code: str = Reason.SEVERAL_FACES


class InvalidImage(CloudError, InputError):
    """An image file is unusable: missing, empty, too large, not a JPEG or PNG, or damaged."""

    code: str = Reason.INVALID_IMAGE


class CollectionNotFound(CloudError):
    """The configured Rekognition collection does not exist."""

    code: str = Reason.CLOUD_COLLECTION_NOT_FOUND


class NotEnrolled(CloudError):
    """No face is enrolled in the collection under the given member id."""

    code: str = Reason.NOT_ENROLLED


class LivenessSessionError(CloudError):
    """An AWS Face Liveness session id is unknown or expired."""

    code: str = Reason.CLOUD_LIVENESS_SESSION


#: Errors after which a verification may continue with the local matcher, marked offline.
#: AccessDenied is included: a revoked key must not lock a staffed desk, and the result still
#: carries the cause as a reason code so the operator sees it.
FALLBACK_ERRORS: tuple[type[CloudError], ...] = (CloudUnavailable, AccessDenied)
