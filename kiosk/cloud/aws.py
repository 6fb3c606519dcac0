"""Calling Rekognition: every botocore failure becomes a typed error with a plain message.

Retries are botocore's (standard or adaptive mode, configured on the client by
:func:`kiosk.cloud.client.make_rekognition_client`): throttling and transient faults are
retried with exponential back-off inside the one call, and what still fails after the last
attempt is mapped here. Only the operation name and AWS's error code are logged, never request
or response bodies (they hold images).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    HTTPClientError,
    InvalidRegionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from kiosk.cloud.errors import (
    AccessDenied,
    CloudError,
    CloudOffline,
    CloudThrottled,
    CloudTimeout,
    CloudUnavailable,
    CollectionNotFound,
    ImageRejected,
    LivenessSessionError,
    MalformedResponse,
    NoCredentials,
    NoFaceInImage,
)

log = logging.getLogger(__name__)

THROTTLING_CODES = frozenset({"ThrottlingException", "ProvisionedThroughputExceededException",
                              "LimitExceededException", "TooManyRequestsException"})
SERVICE_FAULT_CODES = frozenset({"InternalServerError", "ServiceUnavailable",
                                 "ServiceUnavailableException", "InternalFailure"})
DENIED_CODES = frozenset({"AccessDeniedException", "UnrecognizedClientException",
                          "InvalidSignatureException", "ExpiredTokenException",
                          "InvalidClientTokenId", "MissingAuthenticationToken",
                          "SignatureDoesNotMatch", "IncompleteSignature"})
#: Operations whose InvalidParameterException means "no face in the image".
IMAGE_OPERATIONS = frozenset({"CompareFaces", "SearchFacesByImage", "IndexFaces", "DetectFaces"})


#: Exceptions botocore's response parser lets through on a body of the wrong shape (a list
#: where the model has an object, text where it has a structure).
PARSER_ERRORS = (AttributeError, TypeError, ValueError, KeyError, IndexError)


def map_client_error(operation: str, code: str, attempts: int | None = None,
                     status: int | None = None) -> CloudError:
    """The typed error for an AWS error code returned by ``operation`` (``aws_code`` set).

    ``status`` is the HTTP status: any 5xx is a service or proxy fault, so a
    :class:`CloudUnavailable` (eligible for the offline fallback) whatever its code; a proxy's
    HTML error page has none, and botocore then reports the status number as the code.
    """
    error = _client_error(operation, code, attempts, status)
    error.aws_code = code
    return error


def _client_error(operation: str, code: str, attempts: int | None,
                  status: int | None) -> CloudError:
    tried = f" after {attempts} attempts" if attempts and attempts > 1 else ""
    if code in THROTTLING_CODES:
        return CloudThrottled(f"Rekognition is throttling this account ({operation} refused"
                              f"{tried}); try again shortly or raise the account's quota")
    if code in SERVICE_FAULT_CODES:
        return CloudUnavailable(f"Rekognition had an internal fault ({operation}, {code}{tried})")
    if status is not None and 500 <= status <= 599:
        return CloudUnavailable(f"Rekognition or a proxy on the way answered HTTP {status} "
                                f"({operation}{tried})")
    if code in DENIED_CODES:
        return AccessDenied(f"AWS refused the Rekognition {operation} call ({code}): check the "
                            "kiosk's AWS credentials and their IAM policy")
    if code == "InvalidImageFormatException":
        return ImageRejected(f"Rekognition cannot read the image format ({operation})")
    if code == "ImageTooLargeException":
        return ImageRejected(f"Rekognition says the image is too large ({operation})")
    if code == "InvalidParameterException" and operation in IMAGE_OPERATIONS:
        return NoFaceInImage(f"Rekognition found no face it could use in the image "
                             f"({operation})")
    if code == "ResourceNotFoundException":
        return CollectionNotFound(f"the Rekognition collection does not exist ({operation}); "
                                  "enrol a member to create it, or check matching.collection_id")
    if code == "SessionNotFoundException":
        return LivenessSessionError("the Face Liveness session does not exist or has expired")
    return CloudError(f"Rekognition {operation} failed ({code})")


#: Failures that happen before a request leaves the kiosk: nothing reached AWS (botocore's
#: retries: the last attempt's failure decides).
NOT_SENT = (NoRegionError, InvalidRegionError, NoCredentialsError, PartialCredentialsError,
            CredentialRetrievalError, ParamValidationError, ConnectTimeoutError,
            EndpointConnectionError)


def map_botocore_error(operation: str, exc: BotoCoreError) -> CloudError:
    """The typed error for a failure before or outside an AWS answer."""
    if isinstance(exc, NoRegionError):
        return NoCredentials("no AWS region is configured (set one in ~/.aws/config or "
                             "AWS_DEFAULT_REGION)")
    if isinstance(exc, InvalidRegionError):
        return NoCredentials("the configured AWS region is not a region name (check "
                             "AWS_DEFAULT_REGION, AWS_REGION or the profile's region)")
    if isinstance(exc, NoCredentialsError | PartialCredentialsError | CredentialRetrievalError):
        return NoCredentials("AWS credentials are not configured or incomplete (boto3 looked in "
                             "the environment, ~/.aws and the instance role)")
    # ConnectTimeoutError is also an EndpointConnectionError: test time-outs first.
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        kind = "connecting to" if isinstance(exc, ConnectTimeoutError) else "waiting for"
        return CloudTimeout(f"time-out {kind} Rekognition ({operation}); the network is slow "
                            "or down")
    if isinstance(exc, EndpointConnectionError | ConnectionClosedError | HTTPClientError):
        return CloudOffline(f"Rekognition cannot be reached ({operation}); the network is down "
                            "or blocks AWS")
    if isinstance(exc, ParamValidationError):
        return CloudError(f"the kiosk built an invalid {operation} request; this is a bug")
    return CloudUnavailable(f"Rekognition {operation} failed ({type(exc).__name__})")


class RekognitionCaller:
    """Calls a boto3 Rekognition client, counts operations and maps every failure.

    Parameters
    ----------
    client : botocore client
        A ``rekognition`` client (built by :func:`make_rekognition_client`, or stubbed).
    limit_s : float, optional
        Longest one call may take in all (:func:`kiosk.cloud.timing.call_limit_s`): past it
        the call is abandoned as :class:`CloudTimeout` (botocore's read time-out bounds each
        wait for bytes, not an answer trickling in). None: no limit of its own.

    Attributes
    ----------
    count : int
        Operations called so far (each may have made several HTTP attempts).
    """

    def __init__(self, client: Any, *, limit_s: float | None = None) -> None:
        self.client = client
        self.limit_s = limit_s
        self.count = 0
        self._recording: list[list[str]] = []

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[str]]:
        """The operations called while the block runs whose requests may have reached AWS
        (answered, refused, timed out, unreadable); not those that never left the kiosk
        (:data:`NOT_SENT`). A face sent is on record even when no answer came back."""
        sent: list[str] = []
        self._recording.append(sent)
        try:
            yield sent
        finally:
            self._recording.remove(sent)

    def __call__(self, operation: str, **params: Any) -> dict[str, Any]:
        """Call ``operation`` (API name, e.g. ``"CompareFaces"``) and return the response.

        Raises
        ------
        CloudError
            A subclass naming what went wrong, with a plain message.
        """
        method = getattr(self.client, _snake(operation))
        self.count += 1
        try:
            response = self._within_limit(method, params)
        except _Overdue:
            self._sent(operation)
            log.warning("Rekognition %s took longer than %.0f s in all; abandoned", operation,
                        self.limit_s)
            raise CloudTimeout(f"Rekognition {operation} did not answer within "
                               f"{self.limit_s:.0f} s in all") from None
        except (ClientError, BotoCoreError, *PARSER_ERRORS) as exc:
            if not isinstance(exc, NOT_SENT):
                self._sent(operation)
            raise _typed(operation, exc) from None
        self._sent(operation)
        if not isinstance(response, dict):
            raise MalformedResponse(f"Rekognition's answer to {operation} could not be read")
        return response

    def _within_limit(self, method: Callable[..., Any], params: dict[str, Any]) -> Any:
        """``method(**params)``, on a daemon thread when there is a limit: an abandoned call
        ends there when its socket does, and never holds the process open at exit."""
        if self.limit_s is None:
            return method(**params)
        box: dict[str, Any] = {}
        done = threading.Event()

        def run() -> None:
            try:
                box["value"] = method(**params)
            except BaseException as exc:  # noqa: BLE001 (re-raised on the caller's thread)
                box["error"] = exc
            finally:
                done.set()

        threading.Thread(target=run, name="rekognition-call", daemon=True).start()
        if not done.wait(self.limit_s):
            raise _Overdue
        if "error" in box:
            raise box["error"]
        return box["value"]

    def _sent(self, operation: str) -> None:
        for sent in self._recording:
            sent.append(operation)


class _Overdue(Exception):
    """A call past :attr:`RekognitionCaller.limit_s` (internal)."""


def _typed(operation: str, exc: Exception) -> CloudError:
    """The typed error for a failed call, logged by operation and code only."""
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code") or "Unknown")
        metadata = exc.response.get("ResponseMetadata", {})
        attempts = metadata.get("RetryAttempts")
        attempts = None if attempts is None else attempts + 1
        status = metadata.get("HTTPStatusCode")
        log.warning("Rekognition %s failed: %s (HTTP %s, attempts: %s)", operation, code,
                    status, attempts)
        return map_client_error(operation, code, attempts,
                                status if isinstance(status, int) else None)
    if isinstance(exc, ParamValidationError):
        # Not logged in full: botocore's report quotes parameter values (image bytes).
        log.error("invalid %s request rejected by botocore's parameter validation", operation)
        return map_botocore_error(operation, exc)
    if isinstance(exc, BotoCoreError):
        log.warning("Rekognition %s failed: %s", operation, type(exc).__name__)
        return map_botocore_error(operation, exc)
    # botocore's parser met a body of the wrong shape; nothing of it is logged.
    log.warning("Rekognition %s answer unreadable: %s", operation, type(exc).__name__)
    return MalformedResponse(f"Rekognition's answer to {operation} could not be read (not the "
                             "shape of its API)")


def _snake(operation: str) -> str:
    """``"CompareFaces"`` -> ``"compare_faces"``."""
    out = []
    for i, ch in enumerate(operation):
        if ch.isupper() and i:
            out.append("_")
        out.append(ch.lower())
    return "".join(out)
