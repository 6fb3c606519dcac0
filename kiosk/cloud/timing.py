"""How long one face comparison may take at most, from ``settings.matching``.

The matcher's child process and the window's stall watch wait this long before giving up on a
comparison, so both must come after the cloud's own time-outs and the local matcher's
fallback: a shorter fixed wait (120 s before) ended a session in review without the local
match the settings ask for, whenever the time-outs allowed more (``read_timeout_s`` 45 s).
"""

from __future__ import annotations

from typing import Any

#: Rekognition calls in one comparison at most: a DetectFaces quality check for each of up to
#: two live frames (``kiosk.cloud.rekognition.MAX_FRAMES``), then one CompareFaces.
MAX_CALLS = 3
#: The local matcher's part after the cloud failed (five frames' descriptors, about a
#: second), or a new child process loading dlib's models (a few seconds), with room.
LOCAL_MARGIN_S = 30.0
#: botocore's standard retry mode pauses up to 2**i s (at most 20 s) before retry i + 1.
MAX_BACKOFF_S = 20.0


def call_limit_s(matching: Any) -> float:
    """Longest one Rekognition call may take in all (s): connect and read time-outs for each
    attempt, and the pauses between attempts.

    The read time-out bounds each wait for bytes, not the whole answer: an answer that
    trickles in (a byte a second) would otherwise hold a session for as long as it lasts, so
    the call is abandoned at this limit (:class:`kiosk.cloud.aws.RekognitionCaller`).

    Parameters
    ----------
    matching : MatchingSettings
        Uses ``connect_timeout_s``, ``read_timeout_s`` and ``max_attempts``.
    """
    attempts = int(matching.max_attempts)
    pauses = sum(min(MAX_BACKOFF_S, 2.0 ** i) for i in range(attempts - 1))
    return (float(matching.connect_timeout_s) + float(matching.read_timeout_s)) * attempts \
        + pauses


def cloud_worst_case_s(matching: Any) -> float:
    """Longest wait for Rekognition in one comparison (s): every call at its limit."""
    return MAX_CALLS * call_limit_s(matching)


def comparison_limit_s(matching: Any) -> float:
    """Longest one comparison may take, the local fallback included (s)."""
    return cloud_worst_case_s(matching) + LOCAL_MARGIN_S
