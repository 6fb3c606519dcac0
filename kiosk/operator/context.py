"""OperatorContext: everything the operator panel does, without Qt.

Every method is a plain call that may touch the audit database or the file system, so the
panel runs them off the UI thread; :meth:`OperatorContext.camera_status` is the exception (it
reads a health snapshot and the device list cached by :meth:`camera_choices`). Methods raise
:class:`~kiosk.errors.KioskError` subclasses with plain messages for the operator: bad input
(``InputError``), a bad setting (``ConfigError``, naming the key and its allowed values) or
an audit failure (``AuditError``).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kiosk.audit import (
    AuditError,
    AuditLog,
    AuditUnavailable,
    ChainBreak,
    Lockout,
    OperatorAction,
    UnlockResult,
)
from kiosk.audit.clock import since_boot
from kiosk.audit.errors import TAMPERED
from kiosk.audit.records import refused_character
from kiosk.audit.register import unguarded
from kiosk.audit.startup import altered
from kiosk.camera import CameraHealth, SourceInfo, VideoDevice, list_devices
from kiosk.errors import ConfigError, InputError
from kiosk.operator.attempts import (
    MAX_ROWS,
    AttemptDetail,
    AttemptFilter,
    AttemptPage,
    attempt_detail,
    attempt_row,
    latest_overrides,
    matches,
)
from kiosk.operator.camera import (
    CameraChoice,
    CameraStatus,
    camera_choices,
    camera_status,
    find,
    unlisted_warning,
)
from kiosk.operator.charts import ChartData, chart_data
from kiosk.operator.fleet import fleet_clock_warning, fleet_pause_warning
from kiosk.operator.pin import PinGate, PinResult, PinState
from kiosk.operator.settings_edit import SettingField, keep_hint, propose, setting_fields
from kiosk.operator.verify import VerifyOutcome, verify
from kiosk.operator.zone import start_of_day
from kiosk.settings import Settings

log = logging.getLogger(__name__)

PANEL_ACTOR = "operator panel"
"""Actor recorded for refused PINs (nobody is known before the PIN is accepted)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SettingsChange:
    """An applied settings change.

    ``changed`` maps ``section.key`` to ``(old, new)`` (empty: nothing differed, nothing was
    applied); ``action_id`` is the recorded operator action, None when nothing changed;
    ``warning`` what staff should know about a change applied (a camera not listed now).
    """

    settings: Settings
    changed: dict[str, tuple[Any, Any]]
    action_id: int | None
    warning: str = ""


def check_who(actor: str, reason: str, *, name_field: str = "'Operator name'",
              reason_field: str = "", reason_limit: int = 500) -> tuple[str, str]:
    """The operator's name and reason, checked before anything is written, and stripped.

    ``name_field`` and ``reason_field`` say where they were typed (the panel's fields, or a
    command's options); ``reason_limit`` is the room left in the record for the reason.

    Raises
    ------
    InputError
        Empty, too long, or holding a character a record cannot hold (a line break, a
        direction override); the joiners and no-break spaces of names in several scripts
        are kept (:data:`~kiosk.audit.records.WORD_JOINERS`).
    """
    actor, reason = (actor or "").strip(), (reason or "").strip()
    where = f" in {reason_field}" if reason_field else ""
    if not actor or len(actor) > 100:
        raise InputError(f"type your name (1-100 characters) in {name_field}: it is recorded "
                         "with the action")
    if not reason or len(reason) > reason_limit:
        raise InputError(f"give a reason (1-{reason_limit} characters, one line){where}: it "
                         "is recorded with the action")
    for text, field in ((actor, name_field), (reason, reason_field or "the reason")):
        if (refused := refused_character(text)) is not None:
            raise InputError(f"{field} holds {refused}, which cannot be recorded: type it "
                             "without it")
    return actor, reason


class OperatorContext:
    """The Qt-free partner of the operator panel.

    Parameters
    ----------
    settings : Settings
        The settings in force; replaced by :meth:`apply_changes`.
    audit : AuditLog
        The kiosk's open audit log (thread-safe).
    camera_health : callable
        Returns the running camera's :class:`CameraHealth`, or None when none runs.
    camera_source : callable
        Returns what the kiosk reads frames from (:class:`SourceInfo`), or None when unknown.
    apply_settings : callable
        Puts new, validated settings into force (the composition root's job).
    clock : callable
        Returns the current aware datetime (PIN refusals, chart days).
    list_cameras : callable
        Returns the :class:`VideoDevice` list (``kiosk.camera.list_devices``).
    audit_fault : callable
        Puts the kiosk out of service with a reason for staff, as an audit log that fails its
        check at start does (the composition root's job; called from whichever thread runs
        :meth:`verify`). Nothing by default (tools and tests).
    monotonic : callable, optional
        Seconds of a clock a date change does not move, timing PIN refusals; the boot clock
        with the real ``clock``, ``clock`` itself with an injected one.
    """

    def __init__(self, *, settings: Settings, audit: AuditLog,
                 camera_health: Callable[[], CameraHealth | None],
                 apply_settings: Callable[[Settings], None],
                 camera_source: Callable[[], SourceInfo | None] = lambda: None,
                 clock: Callable[[], datetime] = _utc_now,
                 list_cameras: Callable[[], list] = list_devices,
                 audit_fault: Callable[[str], None] = lambda reason: None,
                 monotonic: Callable[[], float] | None = None) -> None:
        self.audit = audit
        self._settings = settings
        self._camera_health = camera_health
        self._camera_source = camera_source
        self._apply_settings = apply_settings
        self._clock = clock
        self._list_cameras = list_cameras
        self._audit_fault = audit_fault
        if monotonic is None and clock is _utc_now:
            monotonic = since_boot  # a change of the date does not shorten a PIN refusal
        self._pin = PinGate(clock, stored=self._stored_pin_state, monotonic=monotonic)
        self._devices: list[VideoDevice] = []
        self._settings_lock = threading.Lock()
        self._broken: ChainBreak | None = None  # found by verify(): no more overrides

    @property
    def settings(self) -> Settings:
        """The settings in force (after the last applied change)."""
        return self._settings

    @property
    def pin_enabled(self) -> bool:
        """False when ``kiosk.operator_pin`` is empty: the panel must not open."""
        return bool(self._settings.kiosk.operator_pin)

    @property
    def keep_hint(self) -> str:
        """That a change made in the panel lasts until the kiosk restarts, and where to make
        it to keep it (the settings file the kiosk read at start)."""
        return keep_hint(self._settings)

    @property
    def override_refused(self) -> str:
        """Why overrides are refused: :meth:`verify` found the chain broken (empty while it
        has not)."""
        if self._broken is None:
            return ""
        return ("the audit check found the log altered (see the Audit tab): no decision is "
                "overridden on a log that cannot be trusted")

    # -- PIN ---------------------------------------------------------------------------------

    def _stored_pin_state(self) -> PinState | None:
        try:
            return PinState(*self.audit.pin_state())
        except AuditError as exc:
            log.error("could not read the operator PIN count from the audit log: %s", exc)
            return None

    def pin_refused_until(self, *, stored: bool = False) -> datetime | None:
        """While entries are refused after too many wrong PINs, until when (else None).

        ``stored`` reads the count kept in the audit log (a refusal from before a restart):
        a database read, not for the UI thread.
        """
        return self._pin.refused_until(stored=stored)

    def check_pin(self, entered: str) -> PinResult:
        """Check a PIN; a wrong one is logged and recorded as a ``pin_refused`` action, a
        right one as ``pin_accepted``.

        Every 5 wrong PINs refuse every entry for a time that doubles each round, from 5
        minutes to a day (:mod:`kiosk.operator.pin`); the count lives in the audit log, so
        restarting the kiosk clears neither it nor the rounds. Digits count whatever their
        script (an Arabic keyboard's "٤٨٢١", a full-width "４８２１"); an empty entry is neither
        counted nor recorded. The PIN itself is never logged or recorded.
        """
        result = self._pin.check(entered, self._settings.kiosk.operator_pin)
        if result.wrong:
            # The gate itself logs each refusal with its round and length.
            log.warning("wrong operator PIN (%d since the last right one)",
                        result.wrong_in_a_row)
            details: dict[str, Any] = {"in_a_row": result.wrong_in_a_row,
                                       "refused": result.refused_until is not None}
            if result.refused_until is not None:
                details["refusal_s"] = self._pin.refusal.total_seconds()
            self._record_pin("pin_refused", "wrong operator PIN", details)
        elif result.accepted:
            self._record_pin("pin_accepted", "operator PIN accepted", None)
        return result

    def _record_pin(self, action: str, reason: str, details: dict[str, Any] | None) -> None:
        try:
            self.audit.record_action(action, actor=PANEL_ACTOR, reason=reason, details=details)
        except AuditError as exc:
            log.error("could not record an operator PIN entry (%s): %s", action, exc)

    # -- attempts ----------------------------------------------------------------------------

    def find_attempts(self, flt: AttemptFilter | None = None) -> AttemptPage:
        """Attempts matching the filter, newest first, with their overrides."""
        flt = AttemptFilter() if flt is None else flt
        # One row past the limit tells whether the limit cut the list. The reason, and the
        # text's candidates, are found by the database (a scan of whole records took 8 s at
        # 20,000 attempts).
        read = MAX_ROWS if flt.needs_scan else flt.limit + 1
        found = self.audit.list_attempts(decision=flt.decision, since=flt.since,
                                         until=flt.until, reason=flt.reason,
                                         mentioning=flt.search.strip() or None, limit=read)
        overrides = latest_overrides(self.audit.operator_actions(action="override", limit=None))
        matching = [a for a in found if matches(a, flt)]
        rows = tuple(attempt_row(a, overrides) for a in matching[:flt.limit])
        return AttemptPage(rows, len(found), flt.needs_scan and len(found) == read,
                           more=len(matching) > flt.limit)

    def reason_codes(self) -> list[str]:
        """Reason codes found in the log, most frequent first (for the reason filter)."""
        return list(self.audit.stats().by_reason)

    def attempt_detail(self, attempt_id: int) -> AttemptDetail:
        """One attempt with its signals, challenge timeline, match, cloud calls, overrides."""
        attempt = self.audit.get_attempt(int(attempt_id))
        overrides = self.audit.operator_actions(action="override", target=str(attempt.id),
                                                limit=None)
        return attempt_detail(attempt, overrides)

    def override(self, attempt_id: int, decision: str, *, actor: str,
                 reason: str) -> OperatorAction:
        """Record a changed decision for an attempt, with who and why.

        Raises
        ------
        AuditUnavailable
            :meth:`verify` found the chain broken: no decision is changed on a log that
            cannot be trusted.
        """
        actor, reason = check_who(actor, reason)
        if refused := self.override_refused:
            raise AuditUnavailable(refused, reason=TAMPERED, path=self.audit.path)
        try:
            return self.audit.override(int(attempt_id), decision, actor=actor, reason=reason)
        except ValueError as exc:
            raise InputError(str(exc)) from None

    # -- lockouts ----------------------------------------------------------------------------

    def lockouts(self, *, active_only: bool = True) -> list[Lockout]:
        """Lockouts, newest first (only those in force when ``active_only``).

        With a fleet (``fleet.url``), the lockouts of every kiosk of the site as the server
        holds them (``Lockout.kiosk_id`` names the kiosk; an unlock anywhere lifts them),
        plus this kiosk's not shipped yet; this kiosk's alone when the server does not answer.
        """
        local = self.audit.lockouts(active_only=active_only)
        fleet = getattr(self.audit, "fleet", None)
        if fleet is None:
            return local
        try:
            shared = fleet.lockouts(self.audit.now(), active_only=active_only)
        except AuditError as exc:
            log.warning("fleet lockouts unavailable, showing this kiosk's: %s", exc)
            return local
        held = {(lk.kiosk_id, lk.id) for lk in shared}
        merged = shared + [lk for lk in local if (lk.kiosk_id, lk.id) not in held]
        return sorted(merged, key=lambda lk: lk.started_at, reverse=True)

    def fleet_clock_warning(self) -> str:
        """Why staff must have this kiosk's clock set right, when it is further from the fleet
        server's than ``kiosk fleet status`` allows; empty otherwise or without a fleet."""
        return fleet_clock_warning(self.audit)

    def fleet_warning(self) -> str:
        """What the lockouts page tells staff of the fleet: that checks are paused while its
        server is silent (no lockout explains it), and the clock warning; empty when
        neither holds."""
        return "\n\n".join(w for w in (fleet_pause_warning(self.audit),
                                        self.fleet_clock_warning()) if w)

    def recent_actions(self, limit: int = 50) -> list[OperatorAction]:
        """Operator actions, newest first."""
        return self.audit.operator_actions(limit=limit)

    def unlock(self, scope: str, target: str, *, actor: str, reason: str) -> UnlockResult:
        """Lift the lockouts of a subject (``target`` its reference) or a kiosk (its id)."""
        actor, reason = check_who(actor, reason)
        try:
            return self.audit.unlock(scope, target, actor=actor, reason=reason)
        except ValueError as exc:
            raise InputError(str(exc)) from None

    def unlock_kiosk(self, *, actor: str, reason: str) -> UnlockResult:
        """Lift this kiosk's lockouts."""
        return self.unlock("kiosk", self.audit.config.kiosk_id, actor=actor, reason=reason)

    def unlock_subject_number(self, number: str, *, actor: str, reason: str) -> UnlockResult:
        """Lift a subject's lockouts given the badge or ID number (hashed, never stored)."""
        actor, reason = check_who(actor, reason)
        if not (number or "").strip():
            raise InputError("type the badge or ID number of the person to unlock")
        try:
            ref = self.audit.subject_ref(number)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        return self.unlock("subject", ref, actor=actor, reason=reason)

    # -- settings ----------------------------------------------------------------------------

    def setting_fields(self) -> list[SettingField]:
        """The editable settings with their current values."""
        return setting_fields(self._settings)

    def apply_changes(self, changes: Mapping[str, Any], *, actor: str,
                      reason: str = "changed in the operator panel") -> SettingsChange:
        """Validate ``changes`` (``section.key`` to text or value), apply, record.

        A change the audit log cannot record (a locked or full database) is taken back, as an
        override or an unlock is refused then: nobody who can hold the database's lock
        changes a threshold unrecorded. (It is applied first, so a change the kiosk cannot
        apply is never recorded; the panel being open, no session sees it meanwhile.)

        Raises
        ------
        ConfigError
            A value is not valid (the message names the key and the allowed values), or the
            camera chosen is virtual while ``camera.allow_virtual`` is off.
        InputError
            No operator name or reason.
        AuditError
            The audit log could not record the change; nothing was applied.
        """
        with self._settings_lock:
            new, changed = propose(self._settings, changes)
            actor, reason = check_who(actor, reason)
            if not changed:
                return SettingsChange(self._settings, {}, None)
            unlisted = self._check_camera(new) if "camera.device" in changed else ""
            details: dict[str, Any] = {name: [old, value]
                                       for name, (old, value) in changed.items()}
            details["settings_digest"] = new.digest()
            self._apply_settings(new)
            try:
                action = self.audit.record_action("settings", actor=actor, reason=reason,
                                                  details=details)
            except AuditError as exc:
                self._apply_settings(self._settings)
                log.error("settings change taken back: the audit log could not record it")
                raise AuditError(f"the audit log could not record the change, so it was not "
                                 f"applied: {exc}") from None
            self._settings = new
        log.info("settings changed by %s: %s", actor, ", ".join(changed))
        return SettingsChange(new, changed, action.id, unlisted.strip())

    def _check_camera(self, new: Settings) -> str:
        """Refuse a virtual camera (unless allowed); a warning (with a trailing space) when
        the device chosen is not among those listed now, else empty.

        An unlisted device is applied, not refused: a camera may be plugged in after it is
        chosen. But the kiosk cannot run without it, and staff should know that now.
        """
        device = find(self._list_cameras(), new.camera.device)
        if device is None:
            return unlisted_warning(new.camera.device, self._camera_source()) + " "
        if device.is_virtual and not new.camera.allow_virtual:
            raise ConfigError(f"camera.device = {new.camera.device!r} is a virtual camera "
                              f"({device.why_virtual}); the kiosk refuses virtual cameras "
                              "unless camera.allow_virtual is on")
        return ""

    # -- camera ------------------------------------------------------------------------------

    def camera_choices(self) -> list[CameraChoice]:
        """List the video devices again (file system and ioctl: not on the UI thread)."""
        self._devices = list(self._list_cameras())
        cam = self._settings.camera
        return camera_choices(self._devices, cam.device, cam.allow_virtual,
                              self._camera_source())

    def camera_status(self) -> CameraStatus:
        """Live health of the camera in use; cheap (safe to call from a UI timer)."""
        cam = self._settings.camera
        return camera_status(self._camera_health(), cam.device, self._devices,
                             cam.allow_virtual, self._camera_source())

    def choose_camera(self, spec: str, *, actor: str,
                      reason: str = "camera chosen in the operator panel") -> SettingsChange:
        """Switch ``camera.device`` (see :meth:`apply_changes`)."""
        return self.apply_changes({"camera.device": spec}, actor=actor, reason=reason)

    # -- audit -------------------------------------------------------------------------------

    def verify(self) -> VerifyOutcome:
        """Walk the audit hash chain; the outcome names the first broken row, and whether
        the log's loss would go unnoticed.

        A broken chain puts the kiosk out of service (``audit_fault``), in the words a start
        on the same log would use, and no override is recorded from then on.

        Raises
        ------
        AuditUnavailable
            The log's file was moved, deleted or replaced (see
            :func:`kiosk.operator.verify.verify`).
        """
        outcome = verify(self.audit)
        if outcome.first_break is not None:
            self._broken = outcome.first_break
            fault = altered(self.audit.path, outcome.first_break)
            log.error("the operator panel's audit check: %s", fault)
            self._audit_fault(str(fault))
        gap = unguarded(self.audit.path, self.audit.chain_head().db_id,
                        key_file=self.settings.audit.key_file or None)
        return dataclasses.replace(outcome, unguarded=gap or "")

    def chart_data(self, days: int = 14) -> ChartData:
        """Passes, failures and reviews per local day over the last ``days`` days, counted
        by their effective decision (overrides included), and reasons."""
        if not 1 <= days <= 366:
            raise InputError(f"days must be from 1 to 366, got {days}")
        last = self._clock().astimezone().date()
        first = last - timedelta(days=days - 1)
        since, until = start_of_day(first), start_of_day(last + timedelta(days=1))
        overrides = latest_overrides(self.audit.operator_actions(limit=None, action="override"))
        return chart_data(self.audit.outcomes(since=since, until=until), overrides, first, last)
