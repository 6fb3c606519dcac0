"""Whole sessions through the kiosk window, the real worker and the real session code.

A synthetic camera (three times real time) and a synthetic person who answers each prompt when it
appears replace the camera and the face tracker; the audit log is a real one in tmp_path.
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
import time
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt

import kiosk.flow as flow_module
from kiosk import pacing
from kiosk.analysis.challenges import draw_sequence
from kiosk.audit import AuditUnavailable, open_kiosk_log
from kiosk.cloud.errors import CloudUnavailable
from kiosk.reasons import Reason
from kiosk.runtime.events import LockoutState
from kiosk.ui.app import KioskWindow
from kiosk.vocabulary import FlowState
from kiosk.wording import (
    IDLE_LOCKED_TITLE,
    IDLE_TITLE,
    IDLE_WAIT_TITLE,
    OUT_OF_SERVICE_WAIT,
    RESULT_FAIL,
    RESULT_LOCKED,
    RESULT_LOCKED_PERSON,
    RESULT_PASS,
    RESULT_REVIEW,
    RESULT_STAFF,
    SUBJECT_LOCKED_NOTICE,
)
from tests.ui.harness import (
    FixedFusion,
    FixedMatcher,
    Responder,
    SyntheticCamera,
    make_worker,
    match,
    members_found,
)

SEED = 7
SESSION_TIMEOUT_MS = 30000


@pytest.fixture
def kiosk(qtbot, tmp_path):
    """Builds a started kiosk window; every window is shut down at the end of the test."""
    windows = []

    def build(settings, *, responder=None, fusion=None, matcher=None, audit_factory=None,
              approach=False, camera=None, scan_folder=None):
        responder = responder or Responder()
        camera = camera or SyntheticCamera(speed=3.0)
        audit_factory = audit_factory or (lambda s: open_kiosk_log(s, tmp_path))
        worker = make_worker(settings, camera=camera, responder=responder,
                             audit_factory=audit_factory, fusion=fusion, matcher=matcher,
                             seed=SEED)
        window = KioskWindow(settings, worker, scan_folder=scan_folder)
        if not approach:
            window.flow.config = dataclasses.replace(window.flow.config, approach_s=1e9)
        qtbot.addWidget(window)
        window.resize(1024, 768)
        window.show()
        window.start()
        windows.append(window)
        qtbot.waitUntil(lambda: window.flow.state == FlowState.IDLE, timeout=10000)
        return window, worker, responder, camera

    yield build
    for window in windows:
        window.shutdown()


def progress_log(worker):
    """Every (session id, progress) the worker reported, in order (a lambda without a
    context object runs in the emitting thread; list.append is thread-safe)."""
    seen = []
    worker.progress_made.connect(lambda sid, p: seen.append((sid, p)))
    return seen


def run_unattended(qtbot, window):
    """Start with the Start button, consent with the keyboard, wait for the result."""
    qtbot.mouseClick(window.idle.start, Qt.MouseButton.LeftButton)
    assert window.current_screen() is window.consent
    assert window.consent.accept.hasFocus()
    qtbot.keyClick(window.consent.accept, Qt.Key.Key_Return)  # animated: clicks ~100 ms later
    qtbot.waitUntil(lambda: window.flow.state != FlowState.CONSENT, timeout=2000)
    qtbot.waitUntil(lambda: window.flow.state == FlowState.RESULT, timeout=SESSION_TIMEOUT_MS)
    return window.result.kind


def last_attempt(tmp_path, settings):
    log = open_kiosk_log(settings, tmp_path)
    try:
        return log.list_attempts()[0]
    finally:
        log.close()


def shown_text(window):
    return f"{window.result.title.text()} {window.result.detail.text()}"


def test_a_live_person_passes(qtbot, kiosk, settings, tmp_path):
    window, worker, responder, _ = kiosk(settings)
    seen = progress_log(worker)
    assert run_unattended(qtbot, window) == "pass"
    assert window.result.title.text() == RESULT_PASS.title
    assert window.current_screen() is window.result and window.result.finish.hasFocus()
    # The prompts came in the order the seeded draw gives, one at a time.
    expected = list(draw_sequence(settings.liveness.challenge_count, rng=random.Random(SEED)))
    assert [a for _, a, _ in responder.prompts] == expected
    prompts = [p.prompt for _, p in seen if p.prompt is not None]
    assert [k for i, k in enumerate(prompts) if i == 0 or prompts[i - 1] != k] == expected
    # The live screen showed each prompt with its icon and countdown while it ran.
    assert any(p.time_left is not None and 0 < p.time_left <= p.window_s for _, p in seen)
    assert window.live.preview.frames_shown > 10
    stored = last_attempt(tmp_path, settings)
    assert stored.decision == "pass"
    assert [c["outcome"] for c in stored.record.challenges] == ["passed"] * 3
    # Done goes back to idle; the person still in view does not restart it by itself.
    qtbot.keyClick(window.result.finish, Qt.Key.Key_Space)
    assert window.flow.state == FlowState.IDLE and not window.flow.auto_start_armed


def test_a_missed_prompt_says_what_to_do(qtbot, kiosk, settings, tmp_path):
    # A photo never moves: the prompt and its second chance both time out.
    window, *_ = kiosk(settings, responder=Responder("still"))
    assert run_unattended(qtbot, window) == "fail"
    assert window.result.title.text() == RESULT_FAIL.title
    assert window.result.detail.text().startswith("We did not see the movement in time")
    assert last_attempt(tmp_path, settings).record.reasons[0] == "CHALLENGE_TIMEOUT"


def test_a_spoof_that_answers_the_prompts_is_rejected(qtbot, kiosk, settings, tmp_path):
    fusion = FixedFusion(12.0, ("SCREEN_SUSPECTED",))
    window, *_ = kiosk(settings, fusion=fusion)
    assert run_unattended(qtbot, window) == "fail"
    text = shown_text(window)
    # Only "ask a member of staff": no score, no detector.
    assert (window.result.title.text(), window.result.detail.text()) == (
        RESULT_STAFF.title, RESULT_STAFF.detail)
    assert "SCREEN" not in text.upper() and not re.search(r"\d", text)
    stored = last_attempt(tmp_path, settings)
    assert stored.record.reasons[:2] == ("LIVENESS_FAILED", "SCREEN_SUSPECTED")


def staffed(settings, **matching):
    s = settings.replace("kiosk", mode="staffed")
    return s.replace("matching", **matching) if matching else s


def run_staffed(qtbot, window, photo_path, number="ID-42"):
    """Through the identity step with a photo file, then the live check."""
    qtbot.mouseClick(window.idle.start, Qt.MouseButton.LeftButton)
    qtbot.keyClick(window.consent.accept, Qt.Key.Key_Space)
    assert window.flow.state == FlowState.IDENTITY
    window.identity.file_chosen.emit(str(photo_path))
    qtbot.waitUntil(lambda: window.identity.proceed.isEnabled(), timeout=5000)
    window.identity.number_edit.setText(number)
    qtbot.mouseClick(window.identity.proceed, Qt.MouseButton.LeftButton)
    assert window.identity.photo is None  # the widget forgot the photo at once
    qtbot.waitUntil(lambda: window.flow.state == FlowState.RESULT, timeout=SESSION_TIMEOUT_MS)
    return window.result.kind


@pytest.fixture
def id_photo(tmp_path):
    path = tmp_path / "id.png"
    cv2.imwrite(str(path), np.full((300, 240, 3), 128, np.uint8))
    return path


def test_a_face_mismatch_fails(qtbot, kiosk, settings, tmp_path, id_photo):
    s = staffed(settings)
    matcher = FixedMatcher(match(False, similarity=None))
    window, *_ = kiosk(s, matcher=matcher)
    screens = []
    window.flow.add_listener(lambda old, new: screens.append(new))
    assert run_staffed(qtbot, window, id_photo) == "fail"
    assert matcher.calls == 1
    assert screens == [FlowState.CONSENT, FlowState.IDENTITY, FlowState.LIVE, FlowState.PROCESSING, FlowState.RESULT]
    stored = last_attempt(tmp_path, s)
    assert "FACE_MISMATCH" in stored.record.reasons
    assert stored.record.subject_ref is not None  # the number, hashed


@pytest.mark.parametrize("case", ["cloud_down", "offline_match_review_policy"])
def test_a_cloud_failure_follows_the_offline_policy(qtbot, kiosk, settings, tmp_path, id_photo,
                                                    case):
    if case == "cloud_down":
        s, matcher = staffed(settings), FixedMatcher(error=CloudUnavailable("network down"))
    else:
        s = staffed(settings, offline_policy="review")
        matcher = FixedMatcher(match(True, offline=True))
    window, *_ = kiosk(s, matcher=matcher)
    assert run_staffed(qtbot, window, id_photo) == "review"
    assert window.result.title.text() == RESULT_REVIEW.title
    assert last_attempt(tmp_path, s).decision == "review"


def test_the_staffed_desk_passes_with_an_offline_match_by_default(qtbot, kiosk, settings,
                                                                   id_photo):
    window, *_ = kiosk(staffed(settings), matcher=FixedMatcher(match(True, offline=True)))
    assert run_staffed(qtbot, window, id_photo) == "pass"


def scanned(folder, name):
    """An ID scan the scanner finished writing a few seconds ago."""
    path = folder / name
    cv2.imwrite(str(path), np.full((300, 240, 3), 128, np.uint8))
    done = time.time() - 5
    os.utime(path, (done, done))
    return path


@pytest.mark.parametrize("used_scans", ["delete", "keep"])
def test_use_scan_never_takes_the_scan_an_earlier_check_used(qtbot, kiosk, settings,
                                                             tmp_path, used_scans):
    """Before, "Use scan" pressed before the next person's ID was scanned took the last
    person's scan and showed their ID photo at the desk; and every scan stayed in the
    folder, where the next person could open it (privacy audit, F4)."""
    scans = tmp_path / "scans"
    scans.mkdir()
    first = scanned(scans, "scan-0001.png")
    window, *_ = kiosk(staffed(settings).replace("kiosk", used_scans=used_scans),
                       matcher=FixedMatcher(match(True)), scan_folder=str(scans))
    identity = window.identity

    def use_scan() -> None:
        qtbot.mouseClick(window.idle.start, Qt.MouseButton.LeftButton)
        qtbot.keyClick(window.consent.accept, Qt.Key.Key_Space)
        assert window.flow.state == FlowState.IDENTITY
        qtbot.mouseClick(identity.use_scan, Qt.MouseButton.LeftButton)

    use_scan()
    qtbot.waitUntil(lambda: identity.proceed.isEnabled(), timeout=5000)
    identity.number_edit.setText("ID-42")
    qtbot.mouseClick(identity.proceed, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.flow.state == FlowState.RESULT, timeout=SESSION_TIMEOUT_MS)
    assert window.result.kind == "pass"
    qtbot.mouseClick(window.result.finish, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.flow.state == FlowState.IDLE, timeout=10000)

    kept = window.consent.kept.text()
    use_scan()  # the next person, whose ID is not scanned yet
    if used_scans == "keep":
        assert "The scan of your ID is kept by the site" in kept
        qtbot.waitUntil(lambda: "was used for an earlier check" in identity.message.text(),
                        timeout=5000)
        assert identity.message.text().startswith("the newest scan, scan-0001.png, was used")
        assert first.exists()
    else:
        assert "The scan of your ID is deleted once it has been used" in kept
        qtbot.waitUntil(lambda: "no scanned image" in identity.message.text(), timeout=5000)
        assert not first.exists()
    assert identity.photo is None and not identity.proceed.isEnabled()
    scanned(scans, "scan-0002.png")
    qtbot.mouseClick(identity.use_scan, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: identity.photo is not None, timeout=5000)
    assert identity.photo.name == "scan-0002.png" and identity.proceed.isEnabled()


def test_the_failure_that_locks_the_kiosk_says_so_and_idle_shows_it(qtbot, kiosk, settings,
                                                                       tmp_path):
    s = settings.replace("audit", kiosk_max_failures=2, max_failures=2)
    window, *_ = kiosk(s, responder=Responder("wrong"))
    assert run_unattended(qtbot, window) == "fail"
    qtbot.mouseClick(window.result.finish, Qt.MouseButton.LeftButton)
    # The second failure locks the kiosk: it never says "try again".
    assert run_unattended(qtbot, window) == "locked"
    assert window.result.title.text() == RESULT_LOCKED.title
    assert "try again" not in shown_text(window).lower()
    qtbot.mouseClick(window.result.finish, Qt.MouseButton.LeftButton)
    # Before anyone reads the consent notice, the idle screen says to ask staff.
    qtbot.waitUntil(lambda: window.idle.locked, timeout=10000)
    assert window.idle.title.text() == IDLE_LOCKED_TITLE
    assert not window.idle.start.isVisible() and not window.flow.start()
    assert window.flow.state == FlowState.IDLE
    log = open_kiosk_log(s, tmp_path)
    try:
        assert log.active_lockout() is not None
        assert len(log.list_attempts()) == 2
    finally:
        log.close()


def test_the_camera_fails_and_the_kiosk_recovers_by_itself(qtbot, kiosk, settings, tmp_path):
    window, worker, _, camera = kiosk(settings)
    qtbot.mouseClick(window.idle.start, Qt.MouseButton.LeftButton)
    qtbot.keyClick(window.consent.accept, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.flow.state == FlowState.LIVE, timeout=2000)
    camera.unplug()
    qtbot.waitUntil(lambda: window.flow.state == FlowState.OUT_OF_SERVICE, timeout=10000)
    assert "unplugged" in window.out_of_service.detail
    assert window.out_of_service.retry.isVisibleTo(window.out_of_service)
    camera.plug()
    qtbot.waitUntil(lambda: window.flow.state == FlowState.IDLE, timeout=10000)
    # The interrupted session was recorded as a failure, not dropped.
    qtbot.waitUntil(lambda: _count(settings, tmp_path) == 1, timeout=10000)
    assert last_attempt(tmp_path, settings).decision == "fail"
    assert run_unattended(qtbot, window) == "pass"


def _count(settings, tmp_path):
    log = open_kiosk_log(settings, tmp_path)
    try:
        return len(log.list_attempts())
    finally:
        log.close()


def test_an_unusable_audit_log_is_out_of_service_until_it_opens(qtbot, kiosk, settings,
                                                               tmp_path):
    tries = []

    def audit_factory(s):
        tries.append(1)
        if len(tries) < 3:
            raise AuditUnavailable("database kiosk.db is locked", reason="locked")
        return open_kiosk_log(s, tmp_path)

    responder = Responder()
    camera = SyntheticCamera(speed=3.0)
    worker = make_worker(settings, camera=camera, responder=responder,
                         audit_factory=audit_factory)
    window = KioskWindow(settings, worker)
    qtbot.addWidget(window)
    window.start()
    try:
        qtbot.waitUntil(lambda: "locked" in window.out_of_service.detail, timeout=5000)
        assert window.flow.state == FlowState.OUT_OF_SERVICE
        qtbot.waitUntil(lambda: window.flow.state == FlowState.IDLE, timeout=10000)
        assert len(tries) == 3
    finally:
        window.shutdown()


def test_a_face_held_in_view_starts_the_kiosk(qtbot, kiosk, settings):
    window, *_ = kiosk(settings, approach=True)
    qtbot.waitUntil(lambda: window.flow.state == "consent", timeout=5000)
    qtbot.mouseClick(window.consent.decline, Qt.MouseButton.LeftButton)
    assert window.flow.state == FlowState.IDLE and not window.flow.auto_start_armed


def test_closing_during_a_session_stops_the_worker_and_records_the_attempt(
        qtbot, kiosk, settings, tmp_path):
    window, worker, responder, _ = kiosk(settings)
    qtbot.mouseClick(window.idle.start, Qt.MouseButton.LeftButton)
    qtbot.keyClick(window.consent.accept, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(responder.prompts) >= 1, timeout=10000)
    with qtbot.waitSignal(worker.stopped, timeout=10000):
        window.close()
    assert _count(settings, tmp_path) == 1


def test_five_liveness_failures_lock_the_subject_and_the_idle_screen_shows_it(
        qtbot, kiosk, settings, tmp_path, id_photo):
    s = staffed(settings)
    window, *_ = kiosk(s, fusion=FixedFusion(12.0, ("SCREEN_SUSPECTED",)),
                       matcher=FixedMatcher(match(True)))
    for attempt in range(5):
        kind = run_staffed(qtbot, window, id_photo, number="ZX-4471")
        assert kind == ("locked" if attempt == 4 else "fail")
        qtbot.mouseClick(window.result.finish, Qt.MouseButton.LeftButton)
    # Back on the idle screen, before the next person consents: a notice, Start still there.
    assert window.flow.state == FlowState.IDLE
    assert window.idle.notice.text() == SUBJECT_LOCKED_NOTICE
    assert window.idle.start.isVisible() and not window.idle.locked
    # The next person starts afresh.
    qtbot.mouseClick(window.idle.start, Qt.MouseButton.LeftButton)
    assert window.flow.state == FlowState.CONSENT and not window.flow.subject_locked


def test_a_person_who_misses_a_prompt_gets_a_second_chance(qtbot, kiosk, settings):
    window, _, responder, _ = kiosk(settings, responder=Responder(skip=1))
    assert run_unattended(qtbot, window) == "pass"
    assert len(responder.prompts) == settings.liveness.challenge_count + 1


def test_a_log_moved_away_while_the_window_runs_is_waited_for(qtbot, kiosk, settings,
                                                              tmp_path):
    window, *_ = kiosk(settings)
    assert run_unattended(qtbot, window) == "pass"
    qtbot.mouseClick(window.result.finish, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.flow.state == FlowState.IDLE, timeout=10000)
    moved = tmp_path / "moved"
    moved.mkdir()
    for part in tmp_path.glob("kiosk.db*"):
        part.rename(moved / part.name)
    # The next person's session cannot be recorded in the moved file: the kiosk is out of
    # service for staff, and stays so (an empty log in its place would forget every lockout)
    # until its log is back; then it serves the next person in that same log.
    qtbot.mouseClick(window.idle.start, Qt.MouseButton.LeftButton)
    qtbot.keyClick(window.consent.accept, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.flow.state in (FlowState.OUT_OF_SERVICE, FlowState.RESULT),
                    timeout=SESSION_TIMEOUT_MS)
    assert window.flow.state == FlowState.OUT_OF_SERVICE
    assert "was moved, deleted or replaced" in window.out_of_service.detail
    qtbot.waitUntil(lambda: "is gone" in window.out_of_service.detail, timeout=15000)
    assert "kiosk audit new-log" in window.out_of_service.detail
    # No promise that it starts again by itself: staff must put the log back.
    assert window.out_of_service.retry.text() == OUT_OF_SERVICE_WAIT
    assert window.flow.state == FlowState.OUT_OF_SERVICE
    for part in moved.glob("kiosk.db*"):
        part.rename(tmp_path / part.name)
    qtbot.waitUntil(lambda: window.flow.state == FlowState.IDLE, timeout=15000)
    assert run_unattended(qtbot, window) == "pass"
    assert last_attempt(tmp_path, settings).id == 2  # the log's own next row


@pytest.mark.parametrize(("found", "kind", "title"), [
    (("M-1042",), "pass", RESULT_PASS.title),
    ((), "fail", RESULT_STAFF.title),  # never whether a face is enrolled
])
def test_an_unattended_kiosk_with_members_checks_people_in(qtbot, kiosk, settings, tmp_path,
                                                           found, kind, title):
    """The window with ``matching.collection_id`` set: no identity step, the live face is
    searched among the members after the liveness check (before: the setting changed
    nothing, and everyone live passed)."""
    s = settings.replace("matching", collection_id="members")
    matcher = FixedMatcher(found=members_found(*found))
    window, *_ = kiosk(s, matcher=matcher)
    screens: list = []
    window.flow.add_listener(lambda old, new: screens.append(new))
    assert run_unattended(qtbot, window) == kind
    assert window.result.title.text() == title and matcher.calls == 1
    assert FlowState.IDENTITY not in screens
    assert "M-1042" not in shown_text(window)  # the person sees pass or fail, no id
    stored = last_attempt(tmp_path, s)
    assert stored.record.cloud_calls == ("SearchFacesByImage",)
    assert stored.record.reasons == (() if found else (Reason.MEMBER_NOT_FOUND,))


def lock_out_one_person(qtbot, kiosk, settings, id_photo, **build):
    """A staffed kiosk where one failure locks the subject out; its person, just locked out,
    is back on the idle screen (Done pressed at once), still in view."""
    s = staffed(settings).replace("audit", max_failures=1)
    window, worker, responder, camera = kiosk(
        s, fusion=FixedFusion(12.0, ("SCREEN_SUSPECTED",)), matcher=FixedMatcher(match(True)),
        **build)
    assert run_staffed(qtbot, window, id_photo, number="ZX-4471") == "locked"
    assert window.result.detail.text() == RESULT_LOCKED_PERSON.detail  # never "try again"
    qtbot.mouseClick(window.result.finish, Qt.MouseButton.LeftButton)
    assert window.flow.state == FlowState.IDLE
    assert window.idle.notice.text() == SUBJECT_LOCKED_NOTICE  # theirs, right after
    return window, worker, responder


def test_the_next_person_who_steps_up_and_declines_does_not_inherit_the_notice(
        qtbot, kiosk, settings, id_photo):
    """The auditor's window: B auto-started the consent screen by stepping up, declined, and
    the idle screen went on telling everyone that "the last person" (now B) was locked out."""
    window, worker, responder = lock_out_one_person(qtbot, kiosk, settings, id_photo)
    window.flow.config = dataclasses.replace(window.flow.config, approach_s=0.5)
    responder.present = False  # A leaves
    qtbot.waitUntil(lambda: window.flow.auto_start_armed, timeout=5000)
    responder.present = True  # B steps up
    qtbot.waitUntil(lambda: window.flow.state == FlowState.CONSENT, timeout=5000)
    assert not window.flow.subject_locked
    qtbot.mouseClick(window.consent.decline, Qt.MouseButton.LeftButton)
    assert window.flow.state == FlowState.IDLE
    assert window.idle.notice.text() == "" and not window.idle.locked
    # The runtime reports A's lockout again (as it does when the kiosk's own lockout state
    # changes): it still holds, but the notice about A does not come back.
    until = datetime.now(UTC) + timedelta(minutes=30)
    worker.lockouts_changed.emit(LockoutState(kiosk_until=until, subject_until=until))
    worker.lockouts_changed.emit(LockoutState(kiosk_until=None, subject_until=until))
    assert window.idle.notice.text() == "" and window.idle.start.isVisible()


def test_a_silent_fleet_server_under_refuse_pauses_the_idle_screen(qtbot, kiosk, settings,
                                                                     tmp_path):
    """With fleet.unreachable_policy = refuse, a silent server refused every session, but only
    once the person had pressed Start and read the consent notice; the idle screen still
    offered Start. Now it shows the kiosk paused, as a kiosk lockout does."""
    silent = settings.replace("fleet", url=f"postgresql:///kiosks?host={tmp_path / 'none'}",
                              unreachable_policy="refuse", refuse_after_min=0.0,
                              query_timeout_s=0.2)
    window, worker, _, _ = kiosk(silent)
    qtbot.waitUntil(lambda: window.idle.locked, timeout=15000)
    assert window.idle.title.text() == IDLE_LOCKED_TITLE and not window.idle.start.isVisible()
    assert window.flow.state == FlowState.IDLE
    # The server answers again (the runtime's next check): Start comes back.
    worker.lockouts_changed.emit(LockoutState(kiosk_until=None, subject_until=None))
    assert not window.idle.locked and window.idle.start.isVisible()


def test_the_notice_about_the_last_person_goes_by_itself(qtbot, kiosk, settings, id_photo,
                                                         monkeypatch):
    """Before, it stayed until someone pressed Start (30, 60, 90 s on in the auditor's
    window). Its time is shortened here; tests/test_flow.py checks the real one."""
    monkeypatch.setattr(flow_module, "SUBJECT_NOTICE_S", 1.5, raising=False)
    window, *_ = lock_out_one_person(qtbot, kiosk, settings, id_photo)
    qtbot.waitUntil(lambda: window.idle.notice.text() == "", timeout=5000)
    assert window.flow.state == FlowState.IDLE and window.idle.start.isVisible()
    assert window.idle.title.text() != IDLE_LOCKED_TITLE  # the kiosk itself is not locked


def test_checks_stopped_one_after_another_make_the_next_one_wait(qtbot, kiosk, settings,
                                                                  monkeypatch):
    """The lock-down audit's loop (Start, I agree, Stop at once, again and again): from the
    third in a row the idle screen says to wait, counts down, offers nothing to press, and
    gives Start back (with the focus, for a keyboard's Return) when the time is up. The first
    pause is shortened here; tests/test_flow_pacing.py checks the real ones."""
    monkeypatch.setattr(pacing, "FIRST_PAUSE_S", 2.0)
    window, *_ = kiosk(settings)
    for n in range(3):
        assert window.idle.start.isVisible(), n
        qtbot.mouseClick(window.idle.start, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(window.consent.accept, Qt.MouseButton.LeftButton)
        assert window.flow.state == FlowState.LIVE
        qtbot.mouseClick(window.live.stop, Qt.MouseButton.LeftButton)
        assert window.flow.state == FlowState.IDLE
    idle = window.idle
    assert window.current_screen() is idle and idle.title.text() == IDLE_WAIT_TITLE
    assert idle.text.text() == "The next check can start in 2 seconds."
    assert not idle.start.isVisible() and not idle.accessible.isVisible()
    assert not window.flow.start()
    qtbot.waitUntil(lambda: idle.text.text() == "The next check can start in 1 second.",
                    timeout=2000)
    qtbot.waitUntil(idle.start.isVisible, timeout=3000)
    assert idle.title.text() == IDLE_TITLE and idle.start.hasFocus()
