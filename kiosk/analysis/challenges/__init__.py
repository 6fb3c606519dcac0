"""Challenge-response liveness: action detectors, the person's baseline, the prompt sequence.

Public API (what the session, the CLI and the GUI use)::

    from kiosk.analysis.challenges import (
        ActionDetector, detect_events,            # detectors over a stream
        askable, draw_sequence, draw_retry, ChallengeEngine,   # the randomized sequence
    )
"""

from kiosk.analysis.challenges.actions import (
    ACTIONS,
    CHALLENGE_ACTIONS,
    SPONTANEOUS,
    contradicts,
)
from kiosk.analysis.challenges.baseline import Baseline, BaselineEstimator
from kiosk.analysis.challenges.blink import BlinkDetector
from kiosk.analysis.challenges.continuity import FaceContinuity
from kiosk.analysis.challenges.detector import Detector
from kiosk.analysis.challenges.draw import askable, draw_retry, draw_sequence
from kiosk.analysis.challenges.events import ActionDetector, detect_events
from kiosk.analysis.challenges.head import PitchDetector, TurnDetector
from kiosk.analysis.challenges.results import (
    ChallengeOutcome,
    Progress,
    SequenceResult,
    event_dict,
)
from kiosk.analysis.challenges.sequence import ChallengeEngine
from kiosk.analysis.challenges.smile import SmileDetector
from kiosk.reasons import Reason

#: Every reason code a challenge sequence can fail with.
REASON_CODES = (Reason.CHALLENGE_TIMEOUT, Reason.WRONG_ACTION, Reason.ACTION_BEFORE_PROMPT,
                Reason.RESPONSE_TOO_FAST, Reason.FACE_LOST, Reason.MULTIPLE_FACES,
                Reason.FACE_CHANGED, Reason.NO_BASELINE)

__all__ = [
    "ACTIONS", "CHALLENGE_ACTIONS", "SPONTANEOUS", "REASON_CODES",
    "ActionDetector", "Baseline", "BaselineEstimator", "BlinkDetector", "ChallengeEngine",
    "ChallengeOutcome", "Detector", "FaceContinuity", "PitchDetector", "Progress",
    "SequenceResult", "SmileDetector", "TurnDetector", "contradicts", "detect_events",
    "askable", "draw_retry", "draw_sequence", "event_dict",
]
