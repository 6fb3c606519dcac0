"""Every reason code the kiosk records, with what it means for staff and for the person.

A reason code is the machine word behind a failure, a review or a quality note (``FACE_LOST``,
``SCREEN_SUSPECTED``, ``CLOUD_TIMEOUT`` ...). Codes are :class:`Reason` members, each equal to
its string, so the audit log and JSON output hold plain strings. :data:`CATALOGUE` gives each
code its class (:class:`ReasonKind`), a meaning for staff (operator panel, ``kiosk audit``,
``kiosk verify``), and the sentence the person in front of the kiosk may read, or None when
the person must not learn which check fired: security failures only ever say "Please ask a
member of staff" (see :mod:`kiosk.wording`).

``attack`` marks the codes that suggest an attack rather than an honest miss; the per-kiosk
lockout counts only attempts that carry one of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    """Every reason code (the value is the code)."""

    # challenge-response (kiosk.analysis.challenges)
    CHALLENGE_TIMEOUT = "CHALLENGE_TIMEOUT"
    WRONG_ACTION = "WRONG_ACTION"
    ACTION_BEFORE_PROMPT = "ACTION_BEFORE_PROMPT"
    RESPONSE_TOO_FAST = "RESPONSE_TOO_FAST"
    NO_BASELINE = "NO_BASELINE"
    FACE_LOST = "FACE_LOST"
    MULTIPLE_FACES = "MULTIPLE_FACES"
    FACE_CHANGED = "FACE_CHANGED"
    SESSION_TIMEOUT = "SESSION_TIMEOUT"
    # placement (kiosk.analysis.guidance), when the session ends without a placed face
    NOT_PLACED = "NOT_PLACED"
    TOO_DARK = "TOO_DARK"
    TOO_BRIGHT = "TOO_BRIGHT"
    SEVERAL_IN_VIEW = "SEVERAL_IN_VIEW"
    # passive presentation-attack cues (kiosk.analysis)
    LIVENESS_FAILED = "LIVENESS_FAILED"
    PASSIVE_INSUFFICIENT = "PASSIVE_INSUFFICIENT"
    PRINT_SUSPECTED = "PRINT_SUSPECTED"
    SCREEN_SUSPECTED = "SCREEN_SUSPECTED"
    PLANAR_FACE = "PLANAR_FACE"
    DEVICE_EDGES = "DEVICE_EDGES"
    GLARE = "GLARE"
    FACE_MOVES_WITH_BACKGROUND = "FACE_MOVES_WITH_BACKGROUND"
    NO_PULSE = "NO_PULSE"
    LIGHTING_MISMATCH = "LIGHTING_MISMATCH"
    TEXTURE_SUSPECTED = "TEXTURE_SUSPECTED"
    # the session (kiosk.session)
    RATE_LIMITED = "RATE_LIMITED"
    FLEET_SILENT = "FLEET_SILENT"
    NO_USABLE_FRAME = "NO_USABLE_FRAME"
    SOURCE_ENDED = "SOURCE_ENDED"
    STOPPED = "STOPPED"
    INTERRUPTED = "INTERRUPTED"
    CAPTURE_TOO_SLOW = "CAPTURE_TOO_SLOW"
    # identity (kiosk.session, kiosk.cloud)
    FACE_MISMATCH = "FACE_MISMATCH"
    MATCH_UNAVAILABLE = "MATCH_UNAVAILABLE"
    MATCH_BELOW_THRESHOLD = "MATCH_BELOW_THRESHOLD"
    MATCH_NO_FACE_LIVE = "MATCH_NO_FACE_LIVE"
    MATCH_SEVERAL_FACES_LIVE = "MATCH_SEVERAL_FACES_LIVE"
    MATCH_OTHER_FACE = "MATCH_OTHER_FACE"
    MATCH_OFFLINE = "MATCH_OFFLINE"
    MATCH_OFFLINE_REVIEW = "MATCH_OFFLINE_REVIEW"
    MATCH_QUALITY_REVIEW = "MATCH_QUALITY_REVIEW"
    # Rekognition's DetectFaces cross-check (kiosk.cloud)
    CLOUD_QUALITY_NO_FACE = "CLOUD_QUALITY_NO_FACE"
    CLOUD_QUALITY_MULTIPLE_FACES = "CLOUD_QUALITY_MULTIPLE_FACES"
    CLOUD_EYES_CLOSED = "CLOUD_EYES_CLOSED"
    CLOUD_POSE = "CLOUD_POSE"
    CLOUD_BLURRY = "CLOUD_BLURRY"
    CLOUD_DARK = "CLOUD_DARK"
    CLOUD_OCCLUDED = "CLOUD_OCCLUDED"
    CLOUD_BOX_MISMATCH = "CLOUD_BOX_MISMATCH"
    # AWS Face Liveness results (kiosk.cloud.liveness)
    CLOUD_LIVENESS_BELOW_THRESHOLD = "CLOUD_LIVENESS_BELOW_THRESHOLD"
    CLOUD_LIVENESS_NOT_FINISHED = "CLOUD_LIVENESS_NOT_FINISHED"
    CLOUD_LIVENESS_FAILED = "CLOUD_LIVENESS_FAILED"
    # cloud and image errors (kiosk.cloud.errors), recorded as the cause of a fallback
    CLOUD_ERROR = "CLOUD_ERROR"
    CLOUD_UNAVAILABLE = "CLOUD_UNAVAILABLE"
    CLOUD_THROTTLED = "CLOUD_THROTTLED"
    CLOUD_TIMEOUT = "CLOUD_TIMEOUT"
    CLOUD_OFFLINE = "CLOUD_OFFLINE"
    CLOUD_NO_CREDENTIALS = "CLOUD_NO_CREDENTIALS"
    CLOUD_ACCESS_DENIED = "CLOUD_ACCESS_DENIED"
    CLOUD_IMAGE_REJECTED = "CLOUD_IMAGE_REJECTED"
    CLOUD_COLLECTION_NOT_FOUND = "CLOUD_COLLECTION_NOT_FOUND"
    CLOUD_LIVENESS_SESSION = "CLOUD_LIVENESS_SESSION"
    NO_FACE = "NO_FACE"
    SEVERAL_FACES = "SEVERAL_FACES"
    INVALID_IMAGE = "INVALID_IMAGE"
    NOT_ENROLLED = "NOT_ENROLLED"
    # passive cues of issue 12 (kiosk.analysis.screen, .mask, .life) and the fusion's verdicts
    SINGLE_IMAGE = "SINGLE_IMAGE"
    LIFE_UNSEEN = "LIFE_UNSEEN"
    SCREEN_FLICKER = "SCREEN_FLICKER"
    SCREEN_REFLECTION = "SCREEN_REFLECTION"
    DISPLAY_COLOUR = "DISPLAY_COLOUR"
    RIGID_SMILE = "RIGID_SMILE"
    NO_EXPRESSION = "NO_EXPRESSION"
    # unreadable cloud answers (kiosk.cloud.parse), issue 13
    CLOUD_BAD_RESPONSE = "CLOUD_BAD_RESPONSE"
    # the quality gate before matching (kiosk.cloud.face_quality, kiosk.session.gate), issue 14
    LIVE_FACE_TOO_SMALL = "LIVE_FACE_TOO_SMALL"
    LIVE_FACE_BLURRED = "LIVE_FACE_BLURRED"
    LIVE_FACE_DARK = "LIVE_FACE_DARK"
    LIVE_FACE_NOT_FRONTAL = "LIVE_FACE_NOT_FRONTAL"
    LIVE_EYES_CLOSED = "LIVE_EYES_CLOSED"
    LIVE_FACE_COVERED = "LIVE_FACE_COVERED"
    ID_PHOTO_TOO_SMALL = "ID_PHOTO_TOO_SMALL"
    ID_PHOTO_BLURRED = "ID_PHOTO_BLURRED"
    ID_PHOTO_DARK = "ID_PHOTO_DARK"
    ID_PHOTO_NOT_FRONTAL = "ID_PHOTO_NOT_FRONTAL"
    ID_PHOTO_ROTATED = "ID_PHOTO_ROTATED"
    # the active light challenge (kiosk.analysis.light)
    LIGHT_NOT_REFLECTED = "LIGHT_NOT_REFLECTED"
    LIGHT_TIMING = "LIGHT_TIMING"
    LIGHT_FLAT = "LIGHT_FLAT"
    LIGHT_TOO_BRIGHT_AMBIENT = "LIGHT_TOO_BRIGHT_AMBIENT"
    LIGHT_NOT_SEEN = "LIGHT_NOT_SEEN"
    MEMBER_NOT_FOUND = "MEMBER_NOT_FOUND"
    LIGHT_UNAVAILABLE = "LIGHT_UNAVAILABLE"


class ReasonKind(StrEnum):
    """The class of failure a reason belongs to."""

    CHALLENGE = "challenge"          # a prompt was not answered as asked
    PLACEMENT = "placement"          # where the face is, the light, the number of people
    PRESENTATION = "presentation"    # liveness: a print, a screen, a mask, a changed face
    IDENTITY = "identity"            # the face does not match, or could not be compared
    QUALITY = "quality"              # a picture too poor to judge
    CLOUD = "cloud"                  # the cloud service could not be used
    SYSTEM = "system"                # the kiosk itself (camera stopped, crash)
    LOCKOUT = "lockout"              # refused before it began (failures, fleet policy)


@dataclass(frozen=True)
class ReasonInfo:
    """One reason code explained.

    Attributes
    ----------
    code : str
        The code.
    kind : ReasonKind
    staff : str
        What it means, for staff.
    person : str or None
        One actionable sentence for the person in front of the kiosk; None when the person
        must not learn which check fired (they are asked to see staff).
    attack : bool
        The code suggests an attack rather than an honest miss.
    """

    code: str
    kind: ReasonKind
    staff: str
    person: str | None = None
    attack: bool = False


_ASK_STAFF = None  # the person is only asked to see a member of staff

_C, _P, _S = ReasonKind.CHALLENGE, ReasonKind.PLACEMENT, ReasonKind.PRESENTATION
_I, _Q, _CL = ReasonKind.IDENTITY, ReasonKind.QUALITY, ReasonKind.CLOUD
_SY, _L = ReasonKind.SYSTEM, ReasonKind.LOCKOUT

_ENTRIES: tuple[ReasonInfo, ...] = (
    ReasonInfo(Reason.CHALLENGE_TIMEOUT, _C,
               "A prompt was not answered within its response window.",
               "We did not see the movement in time. Please try again and follow each instruction "
               "as it appears."),
    ReasonInfo(Reason.WRONG_ACTION, _C,
               "A clear, deliberate head movement other than the one asked for.",
               "We saw a different movement from the one asked for. Please try again and do only "
               "what the screen asks.", attack=True),
    ReasonInfo(Reason.ACTION_BEFORE_PROMPT, _C,
               "The asked movement started before the prompt was shown: a recording "
               "cannot know the prompt in advance.", _ASK_STAFF, attack=True),
    ReasonInfo(Reason.RESPONSE_TOO_FAST, _C,
               "The answer came faster than a human can react to a prompt.",
               _ASK_STAFF, attack=True),
    ReasonInfo(Reason.NO_BASELINE, _P,
               "The face was not seen steadily enough to measure its resting state.",
               "Please look at the camera and hold still until the first instruction, then try "
               "again."),
    ReasonInfo(Reason.FACE_LOST, _P,
               "The face left the picture during the check.",
               "Your face left the picture. Please try again and stay in front of the camera."),
    ReasonInfo(Reason.MULTIPLE_FACES, _P,
               "More than one face was in view during the check.",
               "Only one person at a time, please. Try again alone in front of the camera.", attack=True),
    ReasonInfo(Reason.SESSION_TIMEOUT, _C,
               "The session reached its time limit (liveness.session_limit_s) before every "
               "prompt was answered.",
               "The check took too long. Please try again and follow each instruction."),
    ReasonInfo(Reason.NOT_PLACED, _P,
               "The face was never placed in the oval (too far, too close, off centre or "
               "turned away) long enough to start.",
               "We could not see your face in the oval. Please try again with your face in the "
               "oval."),
    ReasonInfo(Reason.SEVERAL_IN_VIEW, _P,
               "A second face of comparable size stayed in view, so the check never started "
               "(a second person beside the first, or a photo held up). Not counted as an "
               "attack: nothing was checked.",
               "Only one person at a time, please. Ask anyone beside you to step back, then "
               "try again."),
    ReasonInfo(Reason.TOO_DARK, _P, "The face was too dark to measure.",
               "It is too dark here. Please ask a member of staff."),
    ReasonInfo(Reason.TOO_BRIGHT, _P,
               "Too much light on the face (clipped skin) to measure.",
               "There is too much light on your face. Step out of direct light and try again."),
    ReasonInfo(Reason.FACE_CHANGED, _S,
               "The face jumped in position, size or proportions between frames: possibly "
               "a picture swapped in.", _ASK_STAFF, attack=True),
    ReasonInfo(Reason.LIVENESS_FAILED, _S,
               "The liveness score was below the threshold (see the cues that pushed it).",
               _ASK_STAFF, attack=True),
    ReasonInfo(Reason.PASSIVE_INSUFFICIENT, _S,
               "Too little evidence from the passive cues to judge liveness (face too small, "
               "too few frames, too dark).", _ASK_STAFF),
    ReasonInfo(Reason.PRINT_SUSPECTED, _S, "A cue suggests a printed photo.", _ASK_STAFF,
               attack=True),
    ReasonInfo(Reason.SCREEN_SUSPECTED, _S,
               "Screen moire or pixel structure on the face suggests a display.", _ASK_STAFF,
               attack=True),
    ReasonInfo(Reason.PLANAR_FACE, _S,
               "The face moved as one flat plane, as a photo or a screen does.", _ASK_STAFF,
               attack=True),
    ReasonInfo(Reason.DEVICE_EDGES, _S,
               "Straight edges frame the face like a phone, tablet or paper sheet.",
               _ASK_STAFF, attack=True),
    ReasonInfo(Reason.GLARE, _S,
               "Highlights inconsistent with skin: a screen's or glossy print's reflection.",
               _ASK_STAFF, attack=True),
    ReasonInfo(Reason.FACE_MOVES_WITH_BACKGROUND, _S,
               "The face moved together with its surroundings, as a held picture does.",
               _ASK_STAFF, attack=True),
    ReasonInfo(Reason.NO_PULSE, _S, "No pulse signal was found in the skin colour.",
               _ASK_STAFF, attack=True),
    ReasonInfo(Reason.LIGHTING_MISMATCH, _S,
               "The face is lit from a different side than its surroundings.", _ASK_STAFF,
               attack=True),
    ReasonInfo(Reason.TEXTURE_SUSPECTED, _S,
               "The skin texture differs from live skin (print or screen texture).",
               _ASK_STAFF, attack=True),
    ReasonInfo(Reason.RATE_LIMITED, _L,
               "The subject or this kiosk is locked out after repeated failures.",
               _ASK_STAFF, attack=True),
    # Not a lockout and not an attack: the site chose to refuse sessions while the kiosks
    # cannot share their lockouts. The person reads that checks are paused, as for a locked
    # kiosk; staff must be sent to the network, not to a lockout that does not exist.
    ReasonInfo(Reason.FLEET_SILENT, _L,
               "No session may start: the fleet server has not answered for longer than "
               "fleet.refuse_after_min and fleet.unreachable_policy is refuse (nothing was "
               "recorded, no lockout is in force). Check the network and the server; `kiosk "
               "fleet status` says whether it answers.", _ASK_STAFF),
    ReasonInfo(Reason.NO_USABLE_FRAME, _Q,
               "No frame was sharp, frontal and well lit enough to compare faces.",
               "We could not get a clear picture of your face. Please face the camera in good "
               "light and try again."),
    ReasonInfo(Reason.SOURCE_ENDED, _SY,
               "The camera or recording stopped before the check finished.",
               "The check was interrupted. Please try again."),
    ReasonInfo(Reason.STOPPED, _SY,
               "The check was stopped at the kiosk before it finished: the person pressed "
               "Stop or Escape, staff opened the operator panel, or the kiosk window was "
               "hidden or lost the keyboard (the kiosk's log says which).",
               "You stopped the check. Press Start when you are ready."),
    # Not the person's failure and not an attack by itself: the frames came too slowly for a
    # live face to show life (kiosk.analysis.capture). Staff must look at the camera or the
    # kiosk's load; a cue that is attack evidence on its own is listed beside it and counts.
    ReasonInfo(Reason.CAPTURE_TOO_SLOW, _SY,
               "The frames reached the analysis at under 10 per second, too few to see every "
               "blink (a blink closes the lids for 100 ms or more) or the face's motion: "
               "liveness was not judged. Check the camera (its frame rate in the camera tab; "
               "many webcams slow down in dim light) and the kiosk's load.",
               # Either the camera or a kiosk too loaded to analyse its frames: the sentence
               # must be true of both (kiosk.feed.FrameFeed.note_slow_analysis).
               "The kiosk could not run the check properly just now. Please ask a member of "
               "staff."),
    ReasonInfo(Reason.INTERRUPTED, _SY,
               "The attempt was still open when the kiosk stopped (crash, kill or power "
               "cut) and was closed as a failure at the next start.", _ASK_STAFF),
    ReasonInfo(Reason.FACE_MISMATCH, _I,
               "The live face does not match the ID photo or member.", _ASK_STAFF),
    # Not an attack sign by itself: a person who is not (yet) a member. Only "ask a member
    # of staff": the kiosk never tells anyone whether a face is enrolled.
    ReasonInfo(Reason.MEMBER_NOT_FOUND, _I,
               "Member check-in: no enrolled member's face in matching.collection_id matched "
               "the live face at the similarity threshold.", _ASK_STAFF),
    ReasonInfo(Reason.MATCH_UNAVAILABLE, _I,
               "The faces could not be compared: the matcher failed, and no other could "
               "stand in (the local matcher is not configured as a fallback, or failed too).",
               _ASK_STAFF),
    ReasonInfo(Reason.MATCH_BELOW_THRESHOLD, _I,
               "The similarity is below the matching threshold.", _ASK_STAFF),
    ReasonInfo(Reason.MATCH_NO_FACE_LIVE, _I, "The matcher found no face in the live frame.",
               _ASK_STAFF),
    ReasonInfo(Reason.MATCH_SEVERAL_FACES_LIVE, _I,
               "Several faces in the live frame and no tracked face to choose.", _ASK_STAFF,
               attack=True),
    ReasonInfo(Reason.MATCH_OTHER_FACE, _I,
               "The matching face is not the one the kiosk tracked.", _ASK_STAFF, attack=True),
    ReasonInfo(Reason.MATCH_OFFLINE, _I,
               "The local matcher answered because the cloud could not be used.", _ASK_STAFF),
    ReasonInfo(Reason.MATCH_OFFLINE_REVIEW, _I,
               "Matched offline; the offline policy sends it to staff for review.",
               _ASK_STAFF),
    ReasonInfo(Reason.MATCH_QUALITY_REVIEW, _I,
               "Matched, but the quality cross-check found problems; staff review.",
               _ASK_STAFF),
    ReasonInfo(Reason.CLOUD_QUALITY_NO_FACE, _Q, "Rekognition found no face in the frame.",
               _ASK_STAFF),
    ReasonInfo(Reason.CLOUD_QUALITY_MULTIPLE_FACES, _Q,
               "Rekognition found several faces in the frame.", _ASK_STAFF, attack=True),
    ReasonInfo(Reason.CLOUD_EYES_CLOSED, _Q, "Rekognition reports closed eyes.", _ASK_STAFF),
    ReasonInfo(Reason.CLOUD_POSE, _Q, "Rekognition reports a face turned too far.",
               _ASK_STAFF),
    ReasonInfo(Reason.CLOUD_BLURRY, _Q, "Rekognition reports a blurred face.", _ASK_STAFF),
    ReasonInfo(Reason.CLOUD_DARK, _Q, "Rekognition reports a face too dark.", _ASK_STAFF),
    ReasonInfo(Reason.CLOUD_OCCLUDED, _Q, "Rekognition reports a covered face.", _ASK_STAFF),
    ReasonInfo(Reason.CLOUD_BOX_MISMATCH, _Q,
               "Rekognition's face is not where the kiosk tracked one.", _ASK_STAFF,
               attack=True),
    ReasonInfo(Reason.CLOUD_LIVENESS_BELOW_THRESHOLD, _S,
               "AWS Face Liveness confidence below the liveness threshold.", _ASK_STAFF,
               attack=True),
    ReasonInfo(Reason.CLOUD_LIVENESS_NOT_FINISHED, _CL,
               "The AWS Face Liveness session has not finished.", _ASK_STAFF),
    ReasonInfo(Reason.CLOUD_LIVENESS_FAILED, _CL,
               "The AWS Face Liveness session failed or expired.", _ASK_STAFF),
    ReasonInfo(Reason.CLOUD_ERROR, _CL, "An unexpected error from the cloud service.",
               _ASK_STAFF),
    ReasonInfo(Reason.CLOUD_UNAVAILABLE, _CL, "The cloud service could not be reached.",
               _ASK_STAFF),
    ReasonInfo(Reason.CLOUD_THROTTLED, _CL, "The cloud service refused: too many requests.",
               _ASK_STAFF),
    ReasonInfo(Reason.CLOUD_TIMEOUT, _CL, "The cloud service did not answer in time.",
               _ASK_STAFF),
    ReasonInfo(Reason.CLOUD_OFFLINE, _CL, "No network connection to the cloud service.",
               _ASK_STAFF),
    ReasonInfo(Reason.CLOUD_NO_CREDENTIALS, _CL,
               "AWS is not (fully) configured: no credentials, no region, or an endpoint URL "
               "that is not valid.",
               _ASK_STAFF),
    ReasonInfo(Reason.CLOUD_ACCESS_DENIED, _CL,
               "The AWS credentials lack permission for the call.", _ASK_STAFF),
    ReasonInfo(Reason.CLOUD_IMAGE_REJECTED, _CL, "The cloud service rejected the image.",
               _ASK_STAFF),
    ReasonInfo(Reason.CLOUD_COLLECTION_NOT_FOUND, _CL,
               "The Rekognition collection of members does not exist.", _ASK_STAFF),
    ReasonInfo(Reason.CLOUD_LIVENESS_SESSION, _CL,
               "The AWS Face Liveness session could not be created or read.", _ASK_STAFF),
    ReasonInfo(Reason.NO_FACE, _Q, "No face was found in the image.", _ASK_STAFF),
    ReasonInfo(Reason.SEVERAL_FACES, _Q, "Several faces were found in the image.",
               _ASK_STAFF),
    ReasonInfo(Reason.INVALID_IMAGE, _Q, "The file is not a usable image.", _ASK_STAFF),
    ReasonInfo(Reason.NOT_ENROLLED, _I, "The face matches no enrolled member.", _ASK_STAFF),
    ReasonInfo(Reason.SINGLE_IMAGE, _S,
               "A single image cannot be checked for liveness: it holds no movement, no "
               "expression and no response, so it is refused rather than judged.",
               _ASK_STAFF),
    ReasonInfo(Reason.LIFE_UNSEEN, _S,
               "No cue showed evidence of a live face (skin-like expression changes, 3D head "
               "motion, cheeks moving with a smile, skin texture).", _ASK_STAFF),
    ReasonInfo(Reason.SCREEN_FLICKER, _S,
               "The whole picture's brightness jittered from frame to frame as a display's "
               "refresh does when filmed.", _ASK_STAFF, attack=True),
    ReasonInfo(Reason.SCREEN_REFLECTION, _S,
               "A reflection stayed fixed on a glass surface while the face moved under it.",
               _ASK_STAFF, attack=True),
    ReasonInfo(Reason.DISPLAY_COLOUR, _S,
               "The face's tones look displayed: raised blacks and squeezed skin colour.",
               _ASK_STAFF, attack=True),
    ReasonInfo(Reason.RIGID_SMILE, _S,
               "The mouth corners moved but the cheeks did not: a mask or a cut-out cannot "
               "smile.", _ASK_STAFF, attack=True),
    ReasonInfo(Reason.NO_EXPRESSION, _S,
               "The face never deformed as skin does (no blink, no smile, no speech): a rigid "
               "picture or mask.", _ASK_STAFF, attack=True),
    ReasonInfo(Reason.CLOUD_BAD_RESPONSE, _CL,
               "The cloud service's answer could not be read (empty, not JSON, wrong types or "
               "a server error page); treated as the service being unavailable.", _ASK_STAFF),
    ReasonInfo(Reason.LIVE_FACE_TOO_SMALL, _Q,
               "The live face was too small to compare (fewer than 16 pixels between the "
               "eyes): the faces were not compared.",
               "We need a closer picture of your face. Please come closer to the camera and "
               "try again."),
    ReasonInfo(Reason.LIVE_FACE_BLURRED, _Q,
               "The live face was too blurred to compare: the faces were not compared.",
               "The picture of your face was blurred. Please hold still and try again."),
    ReasonInfo(Reason.LIVE_FACE_DARK, _Q,
               "The live face was too dark to compare: the faces were not compared.",
               "Your face was too dark in the picture. Please find better light and try "
               "again."),
    ReasonInfo(Reason.LIVE_FACE_NOT_FRONTAL, _Q,
               "The live face was turned too far from the camera (about 20 degrees or more) "
               "to compare: the faces were not compared.",
               "Please look straight at the camera and try again."),
    ReasonInfo(Reason.LIVE_EYES_CLOSED, _Q,
               "The live face had its eyes closed in every frame offered for comparison: the "
               "faces were not compared.",
               "Please keep your eyes open and look at the camera, then try again."),
    ReasonInfo(Reason.LIVE_FACE_COVERED, _Q,
               "Part of the live face was covered (hand, mask, hair): the faces were not "
               "compared.",
               "Please make sure nothing covers your face and try again."),
    ReasonInfo(Reason.ID_PHOTO_TOO_SMALL, _Q,
               "The ID photo's face is too small to compare (fewer than 16 pixels between the "
               "eyes); scan it at a higher resolution.",
               "Your ID photo could not be read clearly. Please ask a member of staff."),
    ReasonInfo(Reason.ID_PHOTO_BLURRED, _Q,
               "The ID photo's face is too blurred to compare; rescan or retake it.",
               "Your ID photo could not be read clearly. Please ask a member of staff."),
    ReasonInfo(Reason.ID_PHOTO_DARK, _Q,
               "The ID photo's face is too dark to compare; rescan it with more light.",
               "Your ID photo could not be read clearly. Please ask a member of staff."),
    ReasonInfo(Reason.ID_PHOTO_NOT_FRONTAL, _Q,
               "The ID photo's face is turned too far (about 20 degrees or more) to compare.",
               "Your ID photo could not be read clearly. Please ask a member of staff."),
    ReasonInfo(Reason.ID_PHOTO_ROTATED, _Q,
               "The ID photo is sideways or upside down (its face is found far more clearly "
               "with the picture turned); rescan it upright or rotate the file.",
               "Your ID photo could not be read clearly. Please ask a member of staff."),
    ReasonInfo(Reason.LIGHT_NOT_REFLECTED, _S,
               "The face did not answer the colours the screen showed (or answered them no "
               "more than the background did, as an injected tint does): a recording, a "
               "replayed or injected picture.", _ASK_STAFF, attack=True),
    ReasonInfo(Reason.LIGHT_TIMING, _S,
               "The face followed the screen's colours, but too late or with an uneven delay "
               "across changes: no camera's own delay, but something reacting to the screen.",
               _ASK_STAFF, attack=True),
    ReasonInfo(Reason.LIGHT_FLAT, _S,
               "The face answered the screen's colours evenly, as one flat surface does (a "
               "print, a screen's glass), not unevenly as a face in relief.", _ASK_STAFF,
               attack=True),
    # Not a failure of the person: the room is too bright (or the skin clipped) for the
    # screen's light to show on the face. The person cannot fix the room's light, so the
    # sentence sends them to staff in plain words that name the light, not a security check;
    # it does not count toward the kiosk's lockout.
    ReasonInfo(Reason.LIGHT_TOO_BRIGHT_AMBIENT, _P,
               "The room's light was too strong (or the skin clipped) for the screen's colours "
               "to show on the face, or for the shape of their answer to show (a nose or "
               "cheek clipped in 40 % of it): the light check could not be judged. Check the "
               "kiosk's surroundings (direct sun, spotlights) and the screen's brightness.",
               "There is too much light here for the check. Please ask a member of staff."),
    # A light check that could not be judged never passes a session: a presentation kept out
    # of view while the colours play would otherwise meet only the prompts. Not an attack
    # sign by itself (a person may step aside); the next session draws new colours.
    ReasonInfo(Reason.LIGHT_NOT_SEEN, _P,
               "The face was not seen, or nothing beside it, through enough of the screen's "
               "colours to judge the light check (out of view, at the picture's edge or "
               "filling it).",
               "We could not see your face while the screen changed colour. Please try again "
               "and keep your face in the oval until the colours stop."),
    ReasonInfo(Reason.LIGHT_UNAVAILABLE, _SY,
               "The light check could not be run: the frames came at under 12 a second during "
               "it, or the screen did not report showing the colours. Check the camera's frame "
               "rate (the camera tab) and the kiosk's load.",
               "The kiosk could not run the check properly just now. Please ask a member of "
               "staff."),
)

#: Every reason code, explained.
CATALOGUE: dict[str, ReasonInfo] = {info.code: info for info in _ENTRIES}


def describe(code: str) -> ReasonInfo:
    """The entry of ``code``; an unknown code (an older log, a newer kiosk) gets a neutral
    entry naming it rather than an error, so staff always see something."""
    info = CATALOGUE.get(code)
    if info is None:
        return ReasonInfo(code, ReasonKind.SYSTEM, f"Unknown reason code {code}.", _ASK_STAFF)
    return info


def staff_text(codes: Iterable[str]) -> str:
    """``"CODE: meaning; CODE: meaning"`` for staff (operator panel, CLI)."""
    return "; ".join(f"{code}: {describe(code).staff}" for code in codes)


def suggests_attack(codes: Iterable[str]) -> bool:
    """True when any of ``codes`` suggests an attack (counts toward the kiosk lockout)."""
    return any(describe(code).attack for code in codes)
