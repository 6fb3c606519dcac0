"""What the operator panel tells staff about this kiosk's place in its fleet (no Qt)."""

from __future__ import annotations

from kiosk.audit import AuditReader


def clock_warning(skew_s: float | None) -> str:
    """The sentence for staff when this kiosk's clock is further from the fleet server's than
    ``kiosk fleet status`` allows (:func:`kiosk.audit.fleet.skew.skew_warning`); empty within
    the bound or when unknown.

    Parameters
    ----------
    skew_s : float or None
        The server's clock minus this kiosk's, in seconds, as last measured.
    """
    # Imported here: the fleet package loads psycopg, which a kiosk without a fleet never
    # needs (with a fleet link open it is loaded already).
    from kiosk.audit.fleet.skew import skew_span, skew_warning

    if skew_s is None or skew_warning(skew_s) is None:
        return ""
    off = skew_span(skew_s)
    way = "behind" if skew_s > 0 else "ahead of"
    return (f"This kiosk's clock is {off} {way} the fleet server's. Lockouts shared with the "
            f"other kiosks still go by the server's clock, but the times this kiosk records, "
            f"shows and tells people are {off} off. Have its clock set right (NTP).")


def fleet_pause_warning(audit: AuditReader) -> str:
    """Why self-service checks are paused when the fleet's unreachable-server policy refuses
    sessions (the idle screen shows it as a kiosk lockout, but no lockout is listed); empty
    without a fleet or while it admits them."""
    refusal = audit.fleet_refusal()
    if refusal is None:
        return ""
    return (f"Self-service checks are paused: {refusal}. No lockout is in force: check the "
            "network and the fleet server (kiosk fleet status); Start comes back by itself "
            "when the server answers.")


def fleet_clock_warning(audit: AuditReader) -> str:
    """:func:`clock_warning` for the skew measured at the fleet link's last contact with the
    server (kept in the log, ``fleet_state.skew_s``); empty without a fleet."""
    if getattr(audit, "fleet", None) is None:
        return ""
    state = audit.fleet_state()
    return clock_warning(state.skew_s if state is not None else None)
