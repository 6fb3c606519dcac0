"""Lock and unlock a camera's automatic exposure and white balance through OpenCV (V4L2).

The light challenge measures how the face's colour follows the screen's; a camera that
re-exposes or re-balances while the screen flashes would answer the flashes itself. So the
kiosk fixes both for the few seconds of the check, where the camera allows it.

OpenCV's V4L2 backend (``modules/videoio/src/cap_v4l.cpp``) maps

=============================  ========================================  =====================
OpenCV property                V4L2 control                              values
=============================  ========================================  =====================
``CAP_PROP_AUTO_EXPOSURE``     ``V4L2_CID_EXPOSURE_AUTO`` (menu)         0 auto, 1 manual,
                                                                         2 shutter priority,
                                                                         3 aperture priority
``CAP_PROP_EXPOSURE``          ``V4L2_CID_EXPOSURE_ABSOLUTE``            units of 100 us
``CAP_PROP_AUTO_WB``           ``V4L2_CID_AUTO_WHITE_BALANCE`` (bool)    1 auto, 0 manual
``CAP_PROP_WB_TEMPERATURE``    ``V4L2_CID_WHITE_BALANCE_TEMPERATURE``    kelvin
=============================  ========================================  =====================

UVC webcams usually offer auto-exposure modes 1 and 3 (3 by default). Since OpenCV 4 the
backend passes these values through unchanged, unless ``OPENCV_VIDEOIO_V4L_RANGE_NORMALIZED``
is set or ``CAP_PROP_MODE`` is non-zero: then exposure-type properties are mapped to [0, 1) of
the control's range and the auto-exposure menu to [0, 4), which is where the 0.25 (manual) and
0.75 (aperture priority) of forum answers come from. Before changing anything the kiosk sets
``CAP_PROP_MODE`` to 0 (raw values) and reads it back; if the backend still normalises, it
uses 0.25/0.75 and reports exposure values without a unit. White balance is never normalised.

``get`` returns -1 when the driver has no such control or ``VIDIOC_G_CTRL`` fails, and ``set``
returns False when it has none or ``VIDIOC_S_CTRL`` fails; drivers may also clamp a value. So
every change is read back, and the state reported is what the driver reads, never what was
asked. Caveat (no camera on the development machine to measure it): some UVC firmware reports
a stale exposure time while auto exposure is on; the value "read before locking" is then not
the one auto exposure had chosen, and the picture's brightness jumps when locked.

Only the capture thread may call these methods: a ``cv2.VideoCapture`` is not thread-safe.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import cv2

from kiosk.camera.health import ControlStatus
from kiosk.vocabulary import ControlState

log = logging.getLogger(__name__)

# Not a V4L2 backend (another OS): nothing is touched.
_OTHER_BACKEND = ("exposure and white balance are controlled only through OpenCV's V4L2 "
                  "backend (Linux)")


@dataclass(frozen=True)
class _Spec:
    """One automatic control: its switch, its value, and what the switch's readings mean."""

    label: str                       # "exposure", "white balance"
    auto_prop: int
    value_prop: int
    auto_control: str                # V4L2 control behind auto_prop
    value_control: str
    manual: float                    # the switch's "auto off"
    auto_modes: tuple[float, ...]    # switch readings that mean "automatic"
    restore: tuple[float, ...]       # values tried, in order, to switch automatic back on
    unit: str

    def is_auto(self, mode: float) -> bool | None:
        """True automatic, False manual, None a reading that is no known mode."""
        if _same(mode, self.manual):
            return False
        return True if any(_same(mode, m) for m in self.auto_modes) else None


def _exposure(normalised: bool) -> _Spec:
    scale = 0.25 if normalised else 1.0   # normalised: menu index / 4
    return _Spec("exposure", cv2.CAP_PROP_AUTO_EXPOSURE, cv2.CAP_PROP_EXPOSURE,
                 "V4L2_CID_EXPOSURE_AUTO", "V4L2_CID_EXPOSURE_ABSOLUTE", manual=1 * scale,
                 auto_modes=(0.0, 2 * scale, 3 * scale), restore=(3 * scale, 0.0),
                 unit="" if normalised else "100us")


WHITE_BALANCE = _Spec("white balance", cv2.CAP_PROP_AUTO_WB, cv2.CAP_PROP_WB_TEMPERATURE,
                      "V4L2_CID_AUTO_WHITE_BALANCE", "V4L2_CID_WHITE_BALANCE_TEMPERATURE",
                      manual=0.0, auto_modes=(1.0,), restore=(1.0,), unit="K")


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def _text(value: float) -> str:
    return f"{value:g}"


class LightControls:
    """Exposure and white balance of one open capture.

    Parameters
    ----------
    capture : cv2.VideoCapture or a fake with ``get`` and ``set``
        Open; used only from the thread that reads it.
    v4l2 : bool
        The capture uses OpenCV's V4L2 backend. Otherwise every control is reported
        ``not_supported`` and nothing is touched.

    Notes
    -----
    Each method returns ``(exposure, white_balance)`` as :class:`ControlStatus` read back from
    the driver. The automatic mode found before locking is remembered and restored by
    :meth:`unlock`; when there was none (auto was already off), aperture priority (3) and then
    full auto (0) are tried.
    """

    def __init__(self, capture: Any, *, v4l2: bool = True) -> None:
        self._capture = capture
        self._v4l2 = v4l2
        self._raw_asked = False
        self._prior: dict[str, float] = {}

    def apply(self, locked: bool | None) -> tuple[ControlStatus, ControlStatus]:
        """Lock (True), unlock (False), or only read the state (None)."""
        if locked is None:
            return self.probe()
        return self.lock() if locked else self.unlock()

    def probe(self) -> tuple[ControlStatus, ControlStatus]:
        """The current state, changing nothing."""
        return self._each(self._probe_one, switch_to_raw=False)

    def lock(self) -> tuple[ControlStatus, ControlStatus]:
        """Read the values auto chose, switch auto off, and hold those values."""
        return self._each(self._lock_one, switch_to_raw=True)

    def unlock(self) -> tuple[ControlStatus, ControlStatus]:
        """Switch auto back on."""
        return self._each(self._unlock_one, switch_to_raw=True)

    # -- per control -------------------------------------------------------------------------
    def _each(self, action: Any, *, switch_to_raw: bool) -> tuple[ControlStatus, ControlStatus]:
        if not self._v4l2:
            status = ControlStatus(ControlState.NOT_SUPPORTED, detail=_OTHER_BACKEND)
            return status, status
        exposure = _exposure(self._normalised(switch_to_raw))
        return action(exposure), action(WHITE_BALANCE)

    def _probe_one(self, spec: _Spec) -> ControlStatus:
        mode = self._get(spec.auto_prop)
        if mode is None:
            return _unsupported(spec)
        auto = spec.is_auto(mode)
        if auto:
            return ControlStatus(ControlState.AUTO)
        if auto is False:
            return ControlStatus(ControlState.MANUAL, self._get(spec.value_prop), spec.unit,
                                 f"auto {spec.label} is off, not by the kiosk (another program, "
                                 "or a kiosk run that stopped while it was locked)")
        return ControlStatus(ControlState.UNKNOWN,
                             detail=f"{spec.auto_control} reads {_text(mode)}, no known mode")

    def _lock_one(self, spec: _Spec) -> ControlStatus:
        mode = self._get(spec.auto_prop)
        if mode is None:
            return _unsupported(spec)
        value = self._get(spec.value_prop)
        if value is None:
            return ControlStatus(self._state(spec, mode), detail=(
                f"not locked: the driver has no readable {spec.value_control} control to hold "
                f"the {spec.label} at"))
        was_auto = spec.is_auto(mode)
        if was_auto:
            self._prior[spec.label] = mode
        self._set(spec.auto_prop, spec.manual)
        now = self._get(spec.auto_prop)
        if now is None or not _same(now, spec.manual):
            return ControlStatus(self._state(spec, now), detail=(
                f"the driver refused to switch auto {spec.label} off ({spec.auto_control}: "
                f"asked {_text(spec.manual)}, reads {'nothing' if now is None else _text(now)})"))
        self._set(spec.value_prop, value)
        held = self._get(spec.value_prop)
        notes = []
        if not was_auto:
            notes.append(f"auto {spec.label} was already off ({spec.auto_control} = "
                         f"{_text(mode)}) before the kiosk locked it")
        if held is None:
            notes.append(f"the driver does not read back {spec.value_control}")
        elif not _same(held, value):
            notes.append(f"{spec.value_control}: asked {_text(value)}, the driver holds "
                         f"{_text(held)}")
        return ControlStatus(ControlState.LOCKED, held, spec.unit, "; ".join(notes))

    def _unlock_one(self, spec: _Spec) -> ControlStatus:
        now = self._get(spec.auto_prop)
        if now is None:
            return _unsupported(spec)
        if spec.is_auto(now):
            return ControlStatus(ControlState.AUTO)
        prior = self._prior.get(spec.label)
        tried = [prior] if prior is not None else []
        tried += [m for m in spec.restore if not any(_same(m, t) for t in tried)]
        for mode in tried:
            self._set(spec.auto_prop, mode)
            now = self._get(spec.auto_prop)
            if now is not None and spec.is_auto(now):
                return ControlStatus(ControlState.AUTO)
        return ControlStatus(self._state(spec, now), self._get(spec.value_prop), spec.unit,
                             f"the driver refused to switch auto {spec.label} back on "
                             f"({spec.auto_control}: tried {', '.join(map(_text, tried))})")

    def _state(self, spec: _Spec, mode: float | None) -> ControlState:
        """What a switch reading means, for a control the kiosk did not lock."""
        auto = None if mode is None else spec.is_auto(mode)
        return {True: ControlState.AUTO, False: ControlState.MANUAL,
                None: ControlState.UNKNOWN}[auto]

    # -- OpenCV ------------------------------------------------------------------------------
    def _normalised(self, switch_to_raw: bool) -> bool:
        """Whether the backend maps exposure values to [0, 1) (see the module notes)."""
        if switch_to_raw and not self._raw_asked:
            self._raw_asked = True
            self._set(cv2.CAP_PROP_MODE, 0)
        mode = self._get(cv2.CAP_PROP_MODE)
        return mode is not None and mode != 0

    def _get(self, prop: int) -> float | None:
        """The property's value; None when OpenCV reports failure (-1) or raises."""
        try:
            value = float(self._capture.get(prop))
        except (cv2.error, TypeError, ValueError) as exc:
            log.debug("capture.get(%d) failed: %s", prop, exc)
            return None
        return None if math.isnan(value) or value == -1.0 else value

    def _set(self, prop: int, value: float) -> bool:
        try:
            return bool(self._capture.set(prop, value))
        except cv2.error as exc:
            log.debug("capture.set(%d, %s) failed: %s", prop, value, exc)
            return False


def _unsupported(spec: _Spec) -> ControlStatus:
    return ControlStatus(ControlState.NOT_SUPPORTED,
                         detail=f"the driver has no {spec.auto_control} control")
