"""Every sentence the person in front of the kiosk reads, as plain data (no Qt).

The screens only lay these out. Keeping the words here means they are tested without a window
and cannot drift into telling the person which check failed: a result says pass, one
actionable sentence for the class of failure (from :mod:`kiosk.reasons`), or, for a failure
with no reason the person can act on (only security ones), only that a member of staff will
help; never a score or a detector, and never whether a security check failed beside a reason
the person can act on (see :func:`result_message`).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kiosk.analysis.challenges.actions import (
    BLINK,
    LOOK_DOWN,
    LOOK_UP,
    NOD,
    SMILE,
    TURN_LEFT,
    TURN_RIGHT,
)
from kiosk.reasons import Reason, ReasonKind, describe
from kiosk.vocabulary import FaultCause, Verdict

# Icon names the UI knows how to draw (kiosk.ui.widgets.icons).
ICON_CHECK, ICON_CROSS, ICON_STAFF = "check", "cross", "staff"


@dataclass(frozen=True)
class Prompt:
    """One challenge as the screen shows it: large text, a smaller hint, an icon name."""

    action: str
    text: str
    hint: str
    icon: str


#: Directions are the person's own; the preview is mirrored, so "your left" is the left of
#: the screen and the turn_left icon points left.
PROMPTS: dict[str, Prompt] = {
    BLINK: Prompt(BLINK, "Blink", "Close your eyes briefly, then open them", BLINK),
    TURN_LEFT: Prompt(TURN_LEFT, "Turn your head to your left",
                      "Then face the camera again", TURN_LEFT),
    TURN_RIGHT: Prompt(TURN_RIGHT, "Turn your head to your right",
                       "Then face the camera again", TURN_RIGHT),
    SMILE: Prompt(SMILE, "Smile", "A big smile, then relax", SMILE),
    NOD: Prompt(NOD, "Nod", "Tip your head down and back up", NOD),
    LOOK_UP: Prompt(LOOK_UP, "Look up", "Tilt your head up, then back", LOOK_UP),
    LOOK_DOWN: Prompt(LOOK_DOWN, "Look down", "Tilt your head down, then back", LOOK_DOWN),
}

BASELINE_TEXT = "Look at the camera and hold still"
PLACE_TEXT = "Put your face in the oval"
GET_READY_TEXT = "Get ready"
BETWEEN_PROMPTS_TEXT = "Good. Face the camera again"
#: Between a missed prompt and its second chance: nothing to praise.
AGAIN_TEXT = "Face the camera again"
RETRY_HINT = "Let us try a different one"
PAUSED_TEXT = "Paused until your face is back in the oval"
FURTHER_HINT = "A little further"
PROCESSING_TEXT = "Checking, one moment please"
LIGHT_TEXT = "Hold still"
LIGHT_HINT = "The screen changes colour for a few seconds"
#: Placement before the light step: the warning comes before the colours, not with them.
LIGHT_LEAD_HINT = "Then hold still: the screen will change colour for a few seconds"
STOP_LABEL = "Stop"
STOP_DESCRIPTION = "Stop the check and go back to the start (the Escape key does the same)"


def timeout_warning(seconds: float) -> str:
    """The warning before a screen gives up: how long is left and how to stay."""
    left = max(math.ceil(seconds), 1)
    return (f"Are you still there? This screen closes in {left} second{'s' * (left != 1)}. "
            "Press any key or touch the screen to stay.")


def starting_in(seconds: float) -> str:
    """``"Starting in 2"`` (whole seconds, at least 1)."""
    return f"Starting in {max(math.ceil(seconds), 1)}"


def prompt_for(action: str) -> Prompt:
    """The on-screen prompt of ``action``; ValueError names the known actions otherwise."""
    try:
        return PROMPTS[action]
    except KeyError:
        raise ValueError(f"no wording for action {action!r}; known: "
                         + ", ".join(PROMPTS)) from None


def step_text(index: int, total: int) -> str:
    """``"Step 2 of 3"`` for the 0-based ``index``."""
    return f"Step {index + 1} of {total}"


@dataclass(frozen=True)
class ResultMessage:
    """What the result screen says. ``kind`` is pass, fail, review, locked or error."""

    kind: str
    title: str
    detail: str
    icon: str


def result_sentence(message: ResultMessage) -> str:
    """The result as one text: its title, then what to do next."""
    return f"{message.title}. {message.detail}"


#: A slow reading pace, words a minute: about 240 is an adult's average; readers with low
#: literacy or vision, or reading in a second language, manage 80-120.
SLOW_READING_WPM = 100


def reading_s(text: str, words_per_minute: float = SLOW_READING_WPM) -> float:
    """Seconds to read ``text`` at ``words_per_minute``."""
    return len(text.split()) * 60.0 / words_per_minute


RESULT_PASS = ResultMessage("pass", "You are verified", "Thank you. You can go ahead.",
                            ICON_CHECK)
RESULT_FAIL = ResultMessage(
    "fail", "We could not verify you",
    "Please try again: face the camera in good light, with nothing covering your face, and "
    "follow each instruction. If it still does not work, ask a member of staff.", ICON_CROSS)
RESULT_STAFF = ResultMessage("fail", "Please ask a member of staff",
                             "We could not complete your check here. A member of staff can "
                             "help you.", ICON_STAFF)
RESULT_REVIEW = ResultMessage("review", "A member of staff will help you",
                              "Please wait here; someone will be with you shortly.", ICON_STAFF)
RESULT_LOCKED = ResultMessage("locked", "Please ask a member of staff",
                              "Self-service checks are paused at the moment. A member of staff "
                              "can help you.", ICON_STAFF)
RESULT_LOCKED_PERSON = ResultMessage("locked", "Please ask a member of staff",
                                     "Checks for you are paused after several attempts. A "
                                     "member of staff can help you.", ICON_STAFF)
RESULT_ERROR = ResultMessage("error", "The check could not be completed",
                             "Please try again. If it happens again, ask a member of staff.",
                             ICON_CROSS)


def every_result() -> tuple[ResultMessage, ...]:
    """Every result a person can be shown: the fixed ones and each reason's own sentence."""
    own = (ResultMessage("fail", RESULT_FAIL.title, info.person, ICON_CROSS)
           for info in map(describe, Reason) if info.person is not None)
    return (RESULT_PASS, RESULT_FAIL, RESULT_STAFF, RESULT_REVIEW, RESULT_LOCKED,
            RESULT_LOCKED_PERSON, RESULT_ERROR, *own)


#: Which failure's sentence the person reads when several reasons were given: what they can
#: fix first (where they stand, then what they were asked, then the picture, then the kiosk).
_CLASS_ORDER = (ReasonKind.PLACEMENT, ReasonKind.CHALLENGE, ReasonKind.QUALITY,
                ReasonKind.SYSTEM)


def _fix_first(kind: str) -> int:
    """Rank of a reason class in :data:`_CLASS_ORDER` (a class not in it comes last)."""
    return _CLASS_ORDER.index(kind) if kind in _CLASS_ORDER else len(_CLASS_ORDER)


def result_message(decision: Any) -> ResultMessage:
    """The plain-words result of a :class:`kiosk.session.Decision`.

    - pass, review: their fixed messages;
    - a lockout, in force or started by this very failure: "Please ask a member of staff",
      never "try again", saying whether checks are paused for everyone (the kiosk) or for
      this person;
    - any reason with a sentence for the person: the sentence of the most actionable one
      (placement first), whatever security reasons came with it;
    - only reasons whose catalogue entry has no sentence for the person (a liveness cue, a
      changed face, a mismatch ...): "Please ask a member of staff", never which check fired;
    - no reason at all: a generic failure.

    The security reasons never change the sentence when a reason the person can act on is
    present. Before, "Please ask a member of staff" replaced "We did not see the movement in
    time" whenever a cue had also fired: an attacker who let every prompt time out, or pressed
    Stop, read whether his replay had beaten the passive cues without risking a pass. Staff
    still see every reason.
    """
    if decision.decision == Verdict.PASS:
        return RESULT_PASS
    if decision.decision == Verdict.REVIEW:
        return RESULT_REVIEW
    reasons = tuple(decision.reasons)
    # A session refused before it began (a lockout, or the fleet's refuse policy) is a
    # reason of the lockout kind.
    if (any(describe(r).kind == ReasonKind.LOCKOUT for r in reasons)
            or getattr(decision, "lockout_started", False)):
        # The kiosk paused for everyone, or only this person (the next may start at once).
        scopes = {scope for scope, _ in getattr(decision, "lockouts", ())}
        scopes.add(getattr(decision, "refused_by", None) or "")
        return RESULT_LOCKED if "kiosk" in scopes else RESULT_LOCKED_PERSON
    sentences = [(_fix_first(info.kind), info.person) for info in map(describe, reasons)
                 if info.person is not None]
    if sentences:
        # min keeps the first given of the most actionable class.
        _, sentence = min(sentences, key=lambda ranked: ranked[0])
        return ResultMessage("fail", RESULT_FAIL.title, sentence, ICON_CROSS)
    return RESULT_STAFF if reasons else RESULT_FAIL


@dataclass(frozen=True)
class ConsentText:
    """The consent and privacy notice: what is checked, what is kept and for how long."""

    title: str
    checked: tuple[str, ...]
    kept: tuple[str, ...]
    question: str


def accessible_liveness(settings: Any) -> Any:
    """The liveness settings of the accessible check (as the session applies them)."""
    # Imported when asked: the words stay importable without the session's analysis stack.
    from kiosk.session import SessionRequest
    from kiosk.session.attempt import effective_liveness

    return effective_liveness(settings.liveness, SessionRequest(accessible=True))


def consent_text(settings: Any, *, accessible: bool = False, recording: bool = False,
                 scanner: bool = False, sees_screen: bool = True) -> ConsentText:
    """The notice for these settings (challenge count, mode, retention, best-frame storage)
    and for the check this person chose (``accessible``: more time, no flashing);
    ``sees_screen``: the frames come from a camera before the screen, so the light step runs
    (a recording given with ``--source`` cannot see it, and none is promised);
    ``recording``: the kiosk films every check to validate it (``kiosk record``), which the
    person must be told before it starts; ``scanner``: a staffed desk takes ID scans from a
    scanner folder, and says what becomes of them (``kiosk.used_scans``)."""
    staffed = settings.kiosk.mode == "staffed"
    if accessible:
        calm = accessible_liveness(settings)
        checked = [f"You chose more time and no flashing: you will be asked to do "
                   f"{calm.challenge_count} simple movements, such as smiling or turning your "
                   f"head, one at a time, with up to {calm.response_window_s:.0f} seconds "
                   "for each. The screen does not flash."]
    else:
        n = int(settings.liveness.challenge_count)
        checked = [f"You will be asked to do {n} simple movements, such as blinking or "
                   "turning your head, one at a time."]
    checked.append("The kiosk checks that the camera sees a live person, not a photo, a "
                   "screen or a mask.")
    if settings.liveness.light_challenge and not accessible and sees_screen:
        checked.append("The screen changes colour for about three seconds to light your face "
                       "(no more than three changes a second). If flashing light is a problem "
                       f"for you, choose \"{ACCESSIBLE_LABEL}\" below.")
    if staffed:
        checked.append("Your face is compared with the photo on your ID.")
        if settings.matching.matcher != "local":
            checked.append("For that comparison one picture of your face may be sent to a "
                           "cloud face-matching service (Amazon Rekognition), which does not "
                           "keep it.")
    elif _checks_members(settings):
        # A search among every enrolled member's face (1:N), always in the cloud: the person
        # is told before it, as at a staffed desk (privacy audit, F1).
        checked.append("To check you in, your face is searched among the faces of this "
                       "site's enrolled members.")
        checked.append("For that search one picture of your face is sent to a cloud "
                       "face-matching service (Amazon Rekognition), which does not keep it.")
    days = int(settings.audit.retention_days)
    how_long = (f"for {days} day{'s' if days != 1 else ''}" if days > 0
                else "until a member of staff deletes it")
    kept = [f"A record of this check is kept {how_long}: the time, the result and the "
            "measurements behind it."]
    scan_kept = staffed and scanner and settings.kiosk.used_scans == "keep"
    if recording:
        kept.append("This kiosk is being tested: a video of your whole check is recorded "
                    "and kept by staff to measure how well the kiosk works, until they delete "
                    "it. If you do not want that, do not continue.")
    elif settings.audit.store_best_frame:
        kept.append("One picture of your face from the check is kept with it, encrypted.")
    else:
        kept.append("No picture or video from the check is kept." if scan_kept
                    else "No picture or video of you is kept.")
    if staffed and scanner:
        kept.append("The scan of your ID is kept by the site, as its rules for ID copies "
                    "require." if scan_kept else
                    "The scan of your ID is deleted once it has been used for this check.")
    if staffed:
        # A keyed code, not a one-way form: whoever holds the site's key can test numbers
        # against it (privacy audit, F5).
        kept.append("If staff enter your ID number, it is kept only as a code made from it "
                    "with this site's secret key, not as the number.")
    if settings.kiosk.privacy_contact:
        kept.append(f"Questions about your data: {settings.kiosk.privacy_contact}")
    return ConsentText(title="Before we start", checked=tuple(checked), kept=tuple(kept),
                       question="Do you want to continue?")


def _checks_members(settings: Any) -> bool:
    """Whether this kiosk's sessions are member check-ins (imported when asked, as above)."""
    from kiosk.session.members import checks_members

    return checks_members(settings)


IDLE_TITLE = "Identity check"
IDLE_LOCKED_TITLE = "Please ask a member of staff"
IDLE_LOCKED_TEXT = ("Self-service checks are paused at this kiosk at the moment. A member of "
                    "staff can help you.")
SUBJECT_LOCKED_NOTICE = ("Checks for the last person are paused after repeated attempts. A "
                         "member of staff can help.")
#: The idle screen while the next check must wait (kiosk.pacing): to wait, and how long; never
#: why (that the last checks were stopped is nobody's business in the queue).
IDLE_WAIT_TITLE = "Please wait a moment"
ACCESSIBLE_LABEL = "More time, no flashing"
ACCESSIBLE_LABEL_ON = "\u2713 More time, no flashing: on"


def accessible_description(settings: Any) -> str:
    """What the accessible check is, for these settings: how many movements (more than the
    usual check's: they stand in for the light check it never has), more time, no flashing."""
    count = accessible_liveness(settings).challenge_count
    return (f"A calmer check: {count} movements with more time for each, and no flashing "
            "light")


#: Live guidance the idle screen shows to someone approaching (no picture or oval there).
IDLE_GUIDANCE = {"OFF_CENTRE": "Stand in the middle, in front of the camera"}
#: For a face well placed at idle that does not start the kiosk by itself (the one just
#: served, or the next in a queue who took their place: see kiosk.flow.START_HINT_S).
IDLE_START_HINT = "Press Start to begin your check"


def idle_wait_text(seconds: float) -> str:
    """The idle screen's countdown while the next check must wait (whole seconds, at
    least 1)."""
    left = max(math.ceil(seconds), 1)
    return f"The next check can start in {left} second{'s' * (left != 1)}."


def idle_hint(code: str, message: str) -> str:
    """The idle screen's version of a guidance instruction (``code``, ``message``)."""
    return IDLE_GUIDANCE.get(code, message)


def idle_text(settings: Any) -> str:
    """What the kiosk is for and how to start."""
    what = ("This kiosk checks that you are a real person in front of the camera and that "
            "you match your ID." if settings.kiosk.mode == "staffed" else
            "This kiosk checks that you are a real person in front of the camera.")
    return f"{what}\nPress Start, or step in front of the camera."


OUT_OF_SERVICE_TITLE = "Out of service"
OUT_OF_SERVICE_ADVICE = "Please ask a member of staff for help."
OUT_OF_SERVICE_RETRY = "The kiosk keeps trying and will start again by itself."
OUT_OF_SERVICE_WAIT = "The kiosk keeps trying and starts again once the fault is put right."
"""An audit log fault: most (a log gone, altered, or keyed otherwise; a full disk) need staff,
so nothing is promised; the kiosk still retries and starts again once the log can be used."""
OUT_OF_SERVICE_FIX = "A member of staff needs to correct how the kiosk is set up."
OUT_OF_SERVICE_RESTART = "A member of staff needs to restart the kiosk."
OUT_OF_SERVICE_RESTARTING = "The kiosk restarts by itself in a moment."
"""An internal error under a service manager (``--supervised``): the kiosk exits for it to
start a fresh one."""

def unbroken(command: str) -> str:
    """``command`` kept on one line where a screen wraps it (broken at a hyphen or a space,
    it reads as other words): non-breaking hyphens and spaces, which look the same."""
    return command.replace("-", "\u2011").replace(" ", "\u00a0")


#: Where staff read the detail of a fault: the kiosk's log, which a service unit's journal
#: keeps (README, Running unattended).
STAFF_LOG = f"the kiosk's log ({unbroken('journalctl --user -u liveness-kiosk')})"
#: What each cause of being out of service is about, in the public's words. The screen
#: faces the public: it names the class of fault, never its detail (a path, a setting's
#: key or value, an exception's text), which goes to :data:`STAFF_LOG`.
FAULT_CLASSES = {
    FaultCause.CAMERA: "the camera",
    FaultCause.AUDIT: "the audit log",
    FaultCause.RECORDING: "the room for recordings",
    FaultCause.CONFIG: "the settings",
    FaultCause.STARTUP: "a part the kiosk loads at start",
    FaultCause.SESSION: "the verification",
    FaultCause.INTERNAL: "the kiosk's software",
}
#: A settings error is printed by ``kiosk settings`` as well (it reads the same file).
SETTINGS_COMMAND = f"the command {unbroken('kiosk settings')} prints it too"


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
"""Month names of the English sentences: ``%b`` follows the locale Qt sets at start (a German
desk read "since 5 Dez 15:00" inside English text)."""


def out_of_service_for_staff(causes: Collection[str], since: datetime, now: datetime) -> str:
    """The out-of-service screen's line for staff: what failed, since when, and where the
    detail is; never the detail.

    Parameters
    ----------
    causes : collection of str
        The active :class:`~kiosk.vocabulary.FaultCause` values.
    since, now : datetime
        When the oldest of them began, and now (both local time): the day is named when it
        is not today's, in English whatever the locale (the sentence is English), and the
        zone when ``since`` knows it.
    """
    names = [FAULT_CLASSES[cause] for cause in FaultCause if cause in causes]
    what = (" and ".join(names) if len(names) < 3
            else f"{', '.join(names[:-1])} and {names[-1]}") or "the kiosk"
    when = (f"{since:%H:%M}" if since.date() == now.date()
            else f"{since.day} {MONTHS[since.month - 1]} {since:%H:%M}")
    if since.tzname():
        when += f" {since.tzname()}"
    where = f"The detail is in {STAFF_LOG}"
    if FaultCause.CONFIG in causes:
        where += f"; {SETTINGS_COMMAND}"
    return f"For staff: a fault with {what} since {when}. {where}."
