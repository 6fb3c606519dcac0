"""The kiosk's words for its states and outcomes, as string enums.

Each member *is* its string (``Verdict.PASS == "pass"``), so JSON output, the audit log and
anything that compares with the plain string keep working unchanged; code that writes these
values uses the enums, so a typo is an error instead of a silent new state. The reason codes
have their own module, :mod:`kiosk.reasons`.
"""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    """The decision of one verification."""

    PASS = "pass"
    FAIL = "fail"
    REVIEW = "review"   # staff decide: the kiosk could not, or must not, decide alone


class Stage(StrEnum):
    """What a running session is doing (``SessionProgress.stage``)."""

    RATE_LIMIT = "rate_limit"
    LIGHT = "light"           # the screen lights the face with a colour sequence
    CHALLENGE = "challenge"
    ANALYSING = "analysing"
    MATCHING = "matching"


class FlowState(StrEnum):
    """The screen the kiosk shows (:class:`kiosk.flow.KioskFlow`)."""

    IDLE = "idle"
    CONSENT = "consent"
    IDENTITY = "identity"
    LIVE = "live"
    PROCESSING = "processing"
    RESULT = "result"
    OUT_OF_SERVICE = "out_of_service"
    OPERATOR = "operator"


class FaultCause(StrEnum):
    """Why the kiosk is out of service (several may hold at once)."""

    CAMERA = "camera"
    AUDIT = "audit"
    RECORDING = "recording"  # `kiosk record` has no room left for a session's video
    CONFIG = "config"
    STARTUP = "startup"
    SESSION = "session"
    INTERNAL = "internal"   # a bug (in the window, or one that stopped or hung the runtime)


class ChallengeStatus(StrEnum):
    """What happened to one prompt (``ChallengeOutcome.outcome``)."""

    PASSED = "passed"
    FAILED = "failed"
    RETRIED = "retried"       # failed, and replaced by a fresh prompt of another action
    NOT_SHOWN = "not_shown"   # the sequence ended before this prompt


class EngineState(StrEnum):
    """The challenge engine's state (``Progress.state``)."""

    PLACEMENT = "placement"   # waiting for the face to be placed in the oval
    BASELINE = "baseline"
    PROMPT = "prompt"
    SETTLE = "settle"
    DONE = "done"


class ControlState(StrEnum):
    """A camera's automatic exposure or white balance (``CameraHealth.exposure.state``)."""

    AUTO = "auto"                       # the camera adjusts it by itself
    LOCKED = "locked"                   # the kiosk switched auto off and holds the value
    MANUAL = "manual"                   # auto is off, but not by the kiosk's request
    NOT_SUPPORTED = "not_supported"     # the driver offers no switch (or no value) for it
    NOT_APPLICABLE = "not_applicable"   # a recording: there is no camera to control
    UNKNOWN = "unknown"                 # not connected yet, or the driver's answer made no sense
