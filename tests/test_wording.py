"""What the person reads: prompts, results and the consent notice."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from kiosk.analysis.challenges import ACTIONS
from kiosk.settings import Settings
from kiosk.wording import (
    RESULT_ERROR,
    RESULT_FAIL,
    RESULT_LOCKED,
    RESULT_LOCKED_PERSON,
    RESULT_PASS,
    RESULT_REVIEW,
    RESULT_STAFF,
    accessible_description,
    consent_text,
    every_result,
    idle_hint,
    idle_text,
    prompt_for,
    result_message,
    step_text,
    timeout_warning,
)


def test_every_action_has_a_prompt_and_an_icon():
    for action in ACTIONS:
        prompt = prompt_for(action)
        assert prompt.action == action and prompt.icon == action and prompt.text
    with pytest.raises(ValueError, match="known: blink"):
        prompt_for("wink")
    assert step_text(1, 3) == "Step 2 of 3"


def test_turn_prompts_use_the_persons_own_side():
    assert "your left" in prompt_for("turn_left").text
    assert "your right" in prompt_for("turn_right").text


@pytest.mark.parametrize("message", [RESULT_PASS, RESULT_FAIL, RESULT_REVIEW, RESULT_LOCKED,
                                     RESULT_LOCKED_PERSON, RESULT_ERROR, RESULT_STAFF])
def test_results_carry_no_numbers_or_codes(message):
    text = f"{message.title} {message.detail}"
    assert not re.search(r"\d", text) and not re.search(r"[A-Z]{2,}_", text)


def fail(*reasons, **fields):
    return SimpleNamespace(decision="fail", reasons=reasons, **fields)


@pytest.mark.parametrize("reasons, words", [
    (("CHALLENGE_TIMEOUT",), "We did not see the movement in time"),
    (("FACE_LOST",), "Your face left the picture"),
    (("MULTIPLE_FACES",), "Only one person at a time"),
    (("SESSION_TIMEOUT", "TOO_DARK"), "It is too dark here"),       # placement first
    (("SESSION_TIMEOUT", "NOT_PLACED"), "We could not see your face in the oval"),
    (("SESSION_TIMEOUT", "SEVERAL_IN_VIEW"), "Only one person at a time"),
    (("NO_USABLE_FRAME",), "We could not get a clear picture"),
])
def test_each_class_of_failure_gets_its_own_actionable_sentence(reasons, words):
    message = result_message(fail(*reasons))
    assert message.kind == "fail" and message.detail.startswith(words)
    assert message.title == RESULT_FAIL.title


@pytest.mark.parametrize("reasons", [
    ("LIVENESS_FAILED", "SCREEN_SUSPECTED"), ("FACE_CHANGED",), ("FACE_MISMATCH",),
    ("LIGHT_NOT_REFLECTED", "LIVENESS_FAILED", "GLARE"), ("RESPONSE_TOO_FAST",),
    ("ACTION_BEFORE_PROMPT",)])
def test_a_security_failure_only_says_ask_a_member_of_staff(reasons):
    message = result_message(fail(*reasons))
    assert message == RESULT_STAFF
    text = f"{message.title} {message.detail}".lower()
    assert "screen" not in text and "liveness" not in text and "try again" not in text


def test_a_lockout_never_says_try_again_and_says_whose_checks_are_paused():
    """A person's lockout said 'Self-service checks are paused at the moment', and the idle
    screen then offered Start to the next person."""
    t = datetime(2026, 5, 1, tzinfo=UTC)
    assert result_message(fail("RATE_LIMITED", refused_by="kiosk")) == RESULT_LOCKED
    assert result_message(fail("RATE_LIMITED", refused_by="subject")) == RESULT_LOCKED_PERSON
    # A fleet server silent under unreachable_policy = refuse pauses the kiosk for everyone.
    assert result_message(fail("FLEET_SILENT", refused_by="kiosk")) == RESULT_LOCKED
    # The very failure that started the lockout.
    started = fail("CHALLENGE_TIMEOUT", lockout_started=True, lockouts=(("subject", t),))
    assert result_message(started) == RESULT_LOCKED_PERSON
    both = fail("LIVENESS_FAILED", lockout_started=True,
                lockouts=(("subject", t), ("kiosk", t)))
    assert result_message(both) == RESULT_LOCKED
    for message in (RESULT_LOCKED, RESULT_LOCKED_PERSON):
        assert "try again" not in f"{message.title} {message.detail}".lower()
    assert "for you" in RESULT_LOCKED_PERSON.detail and "for you" not in RESULT_LOCKED.detail


def test_no_reason_and_the_other_verdicts():
    assert result_message(fail()) == RESULT_FAIL
    assert result_message(SimpleNamespace(decision="review", reasons=("X",))) == RESULT_REVIEW
    assert result_message(SimpleNamespace(decision="pass", reasons=())) == RESULT_PASS
    assert "member of staff will help" in RESULT_REVIEW.title


def test_every_sentence_for_the_person_is_plain():
    from kiosk.reasons import CATALOGUE

    for info in CATALOGUE.values():
        if info.person is not None:
            # No numbers and no codes; "ID" is the everyday word for the card.
            words = re.sub(r"\bID\b", "card", info.person)
            assert not re.search(r"\d", words) and not re.search(r"[A-Z]{2,}", words), info
            assert info.person.endswith(".")


def test_the_consent_notice_follows_the_settings():
    text = consent_text(Settings())
    assert "3 simple movements" in " ".join(text.checked)
    assert "for 30 days" in text.kept[0]
    assert "No picture or video of you is kept." in text.kept
    assert not any("ID" in line for line in text.checked)

    s = (Settings().replace("kiosk", mode="staffed")
         .replace("audit", retention_days=1, store_best_frame=True)
         .replace("liveness", challenge_count=4).replace("matching", matcher="local"))
    text = consent_text(s)
    assert "4 simple movements" in text.checked[0]
    assert any("photo on your ID" in line for line in text.checked)
    assert not any("Amazon" in line for line in text.checked)
    assert "for 1 day:" in text.kept[0]
    assert any("encrypted" in line for line in text.kept)
    # A keyed code, which whoever holds the key can test numbers against: not "one-way".
    assert any("a code made from it with this site's secret key" in line
               for line in text.kept)
    assert not any("one-way" in line for line in text.kept)


def test_the_consent_notice_describes_the_check_the_person_chose():
    # The accessible check: 2 prompts plus 2 in place of the light check, 12 s each, no
    # flashing. Before, the notice said "3 simple movements" and offered the choice it had.
    text = consent_text(Settings(), accessible=True)
    first = text.checked[0]
    assert "4 simple movements" in first and "up to 12 seconds for each" in first
    assert "blinking" not in first and "does not flash" in first
    assert not any("changes colour" in line for line in text.checked)
    usual = consent_text(Settings())
    assert any("changes colour" in line and '"More time, no flashing" below' in line
               for line in usual.checked)
    # A site without the light check: the same four (two alone would let a recording
    # through by chance three times as often as the usual three; see effective_liveness).
    dark = Settings().replace("liveness", light_challenge=False)
    assert "4 simple movements" in consent_text(dark, accessible=True).checked[0]
    assert not any("changes colour" in line for line in consent_text(dark).checked)


def test_the_accessible_choice_says_how_many_movements_it_asks():
    # Before: "fewer movements" while it asked 4 against the usual 3.
    assert accessible_description(Settings()) == (
        "A calmer check: 4 movements with more time for each, and no flashing light")
    dark = Settings().replace("liveness", light_challenge=False)
    assert accessible_description(dark).startswith("A calmer check: 4 movements")


def test_the_idle_screen_never_points_to_an_oval_it_does_not_show():
    assert "oval" not in idle_hint("OFF_CENTRE", "Centre your face in the oval")
    assert idle_hint("TOO_DARK", "More light is needed on your face") == (
        "More light is needed on your face")


def test_the_consent_notice_names_the_cloud_matcher_and_unlimited_retention():
    s = Settings().replace("kiosk", mode="staffed").replace("audit", retention_days=0)
    text = consent_text(s)
    assert any("Amazon Rekognition" in line for line in text.checked)
    assert "until a member of staff deletes it" in text.kept[0]


def test_a_member_check_in_says_the_face_is_searched_in_the_cloud():
    """An unattended kiosk with a members' collection searches every face among the members'
    at Amazon Rekognition; its notice said nothing of it (privacy audit, F1)."""
    members = Settings().replace("matching", collection_id="site-members")
    checked = " ".join(consent_text(members).checked)
    assert "searched among the faces of this site's enrolled members" in checked
    assert "sent to a cloud face-matching service (Amazon Rekognition)" in checked
    assert "enrolled members" not in " ".join(consent_text(Settings()).checked)
    # A staffed desk compares with the ID photo, collection or not.
    staffed = consent_text(members.replace("kiosk", mode="staffed"))
    assert not any("enrolled members" in line for line in staffed.checked)


def test_a_desk_with_a_scanner_says_what_becomes_of_the_scan():
    """The notice said "No picture or video of you is kept" while every ID scan stayed in the
    scanner folder (privacy audit, F4)."""
    desk = Settings().replace("kiosk", mode="staffed")
    kept = consent_text(desk, scanner=True).kept
    assert "The scan of your ID is deleted once it has been used for this check." in kept
    assert "No picture or video of you is kept." in kept
    kept = consent_text(desk.replace("kiosk", used_scans="keep"), scanner=True).kept
    assert "The scan of your ID is kept by the site, as its rules for ID copies require." in kept
    assert "No picture or video from the check is kept." in kept
    assert not any("scan" in line for line in consent_text(desk).kept)  # no scanner folder


def test_the_notice_ends_with_whom_to_ask_when_the_site_says():
    assert not any("Questions" in line for line in consent_text(Settings()).kept)
    s = Settings().replace("kiosk", privacy_contact="Acme Ltd, privacy@acme.example")
    assert consent_text(s).kept[-1] == (
        "Questions about your data: Acme Ltd, privacy@acme.example")


def test_idle_text_says_what_the_kiosk_is_for():
    assert "match your ID" in idle_text(Settings().replace("kiosk", mode="staffed"))
    assert "match your ID" not in idle_text(Settings())


def test_the_time_out_warning_says_how_long_is_left_and_how_to_stay():
    text = timeout_warning(19.2)
    assert "closes in 20 seconds" in text and "Press any key or touch the screen" in text


def test_every_result_lists_each_message_a_person_can_read():
    results = every_result()
    for message in (RESULT_PASS, RESULT_FAIL, RESULT_STAFF, RESULT_REVIEW, RESULT_LOCKED,
                    RESULT_LOCKED_PERSON, RESULT_ERROR):
        assert message in results
    decision = SimpleNamespace(decision="fail", reasons=("NOT_PLACED",))
    assert result_message(decision) in results
