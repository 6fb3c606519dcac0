"""The light challenge's colour sequence: its segments, its JSON file, and how one is drawn.

A :class:`LightSequence` is what the kiosk's screen shows, full screen, one colour after
another: a dark reference, then 7-9 saturated colours. Times are seconds in the time base of
whoever uses it (the frames' ``t`` at the kiosk, the recording's media time in a file); the
JSON shape is the issue's::

    {"segments": [{"start": 0.0, "end": 0.5, "rgb": [0, 0, 0]},
                  {"start": 0.5, "end": 0.92, "rgb": [0, 255, 0]}, ...]}

:func:`draw_sequence` draws one per session from the operating system's random source; a
sequence is never written anywhere before it has been shown (the audit row records it after).
:func:`max_changes_per_second` checks the photosensitivity rule on painted times.
"""

from __future__ import annotations

import json
import math
import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.errors import InputError

RGB = tuple[int, int, int]

# -- the rules a drawn sequence follows, and why -------------------------------------------

#: The dark reference: the screen black, so the face shows the room's light alone. Longer than
#: a colour (0.5 s) so that, after the camera's delay (up to ~0.35 s, see judge.py) and one
#: frame of exposure, a 15 fps camera still sees at least two clean frames of it.
DARK_RGB: RGB = (0, 0, 0)
DARK_S = 0.5

#: Colours after the reference: 7-9, as AWS Face Liveness shows about 7; every extra colour
#: is one more independent check of the timing and of the fit (the chance that a recording's
#: own colour changes follow k random colours falls geometrically with k).
MIN_COLOURS, MAX_COLOURS = 7, 9

#: Each colour lasts 350-450 ms. 350 ms is the shortest duration that keeps every full-screen
#: change at least 1/3 s from the next, so no 1 s window holds more than three changes
#: (WCAG 2.3.1, "Three Flashes or Below Threshold"); 450 ms keeps the whole sequence under
#: the session budget below. At 15 fps a 350 ms colour still spans five frames.
MIN_SEGMENT_S, MAX_SEGMENT_S = 0.35, 0.45

#: The whole sequence, reference included, stays within this (issue 16: the light check adds
#: under 4 s to a session). Durations drawn above it are shrunk toward MIN_SEGMENT_S.
MAX_TOTAL_S = 3.9

#: The colours: the six saturated primaries and secondaries of the display. Saturated
#: colours give the largest change in each camera channel; white is left out (it changes
#: luminance most, the flash that WCAG counts, and adds no colour contrast).
PALETTE: tuple[RGB, ...] = (
    (255, 0, 0),      # red
    (0, 255, 0),      # green
    (0, 0, 255),      # blue
    (255, 255, 0),    # yellow
    (0, 255, 255),    # cyan
    (255, 0, 255),    # magenta
)

#: Saturated red is rationed: WCAG 2.3.1 counts red flashes apart because photosensitive
#: seizures are most easily triggered by saturated red (the 1997 "Pokemon" broadcast; Harding
#: and Harding, Epilepsia 2008). At most two red colours per sequence, with at least two other
#: colours between them, so two red onsets are at least 3 x 350 ms = 1.05 s apart: no one
#: second holds more than one red change pair.
MAX_RED = 2
RED_GAP = 3

#: A colour is "saturated red" by WCAG's definition: R / (R + G + B) >= 0.8 on linear values.
RED_SHARE = 0.8

#: Each camera channel must be lit in at least this many segments and dark in at least this
#: many (the dark reference counts), so the fit can measure every channel's response.
MIN_PER_CHANNEL = 2

#: A sequence has at least this many segments: a response must be checked against at least
#: three changes (issue 16: "down to four segments of one colour each").
MIN_SEGMENTS = 4
#: And at most this many (a guard against absurd files; 40 s of 350 ms colours).
MAX_SEGMENTS = 120

#: Two segments are contiguous when the second starts within this of the first's end (s).
CONTIGUOUS_S = 1e-3

#: The longest gap between two painted colours that is the wipe from one to the other (s).
#: The kiosk's window reports each colour from the end of its wipe to the start of the next
#: (:mod:`kiosk.ui.screens.light_show`: a 0.1 s wipe, painted on a timer), so every change
#: of a painted sequence has such a gap; a longer one is a pause, not a change.
MAX_WIPE_S = 0.2


@dataclass(frozen=True)
class Segment:
    """One colour on the screen.

    Attributes
    ----------
    start, end : float
        Seconds, ``end > start``, in the sequence's time base.
    rgb : tuple of int
        The colour as the screen was asked to paint it, sRGB 0-255 (red, green, blue).
    """

    start: float
    end: float
    rgb: RGB

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class LightSequence:
    """Colours shown one after another, in time order, never overlapping.

    Build one with :meth:`from_dict`, :meth:`from_json_file` or :func:`draw_sequence`; the
    constructor checks the same rules and raises :class:`~kiosk.errors.InputError`.
    """

    segments: tuple[Segment, ...]

    def __post_init__(self) -> None:
        _check_segments(self.segments)

    # -- reading and writing ----------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any) -> LightSequence:
        """A sequence from the issue's JSON shape (already parsed).

        Raises
        ------
        InputError
            Not an object with a ``segments`` list; a segment without ``start``, ``end`` or
            ``rgb``; times not finite numbers, or negative (a file's times are media time,
            which starts at 0); ``end <= start``; segments overlapping or out of order;
            ``rgb`` not three whole numbers in 0..255; fewer than four segments.
        """
        if not isinstance(data, Mapping) or "segments" not in data:
            raise InputError('a light sequence must be an object {"segments": [...]}')
        raw = data["segments"]
        if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
            raise InputError("the sequence's segments must be a list")
        segments = []
        for i, item in enumerate(raw):
            if not isinstance(item, Mapping):
                raise InputError(f"segment {i} must be an object with start, end and rgb")
            missing = [k for k in ("start", "end", "rgb") if k not in item]
            if missing:
                raise InputError(f"segment {i} lacks {', '.join(missing)}")
            start = _media_seconds(item["start"], f"segment {i} start")
            end = _media_seconds(item["end"], f"segment {i} end")
            segments.append(Segment(start, end, _rgb(item["rgb"], i)))
        return cls(tuple(segments))

    @classmethod
    def from_json_file(cls, path: str | Path) -> LightSequence:
        """Read a sequence file (see the module docstring).

        Raises
        ------
        InputError
            The file cannot be read, is not JSON, or breaks a rule of :meth:`from_dict` (the
            message names the file).
        """
        p = Path(path).expanduser()
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(f"light sequence {p}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"light sequence {p} cannot be read: {exc}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"light sequence {p} is not JSON: {exc.msg} at line {exc.lineno} "
                             f"column {exc.colno}") from None
        try:
            return cls.from_dict(data)
        except InputError as exc:
            raise InputError(f"light sequence {p}: {exc}") from None

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        """The issue's JSON shape; times rounded to the microsecond."""
        return {"segments": [{"start": round(s.start, 6), "end": round(s.end, 6),
                              "rgb": list(s.rgb)} for s in self.segments]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    # -- derived ----------------------------------------------------------------------------

    def shifted(self, dt: float) -> LightSequence:
        """The same colours ``dt`` seconds later (another time base)."""
        if not math.isfinite(dt):
            raise ValueError(f"dt must be finite, got {dt}")
        return LightSequence(tuple(Segment(s.start + dt, s.end + dt, s.rgb)
                                   for s in self.segments))

    @property
    def start(self) -> float:
        return self.segments[0].start

    @property
    def end(self) -> float:
        return self.segments[-1].end

    @property
    def duration(self) -> float:
        """From the first segment's start to the last one's end (s)."""
        return self.end - self.start

    def changes(self) -> list[int]:
        """Indices ``j`` (>= 1) where segment ``j`` follows segment ``j - 1`` with another
        colour, without a gap or across a wipe (at most ``MAX_WIPE_S``): the changes whose
        timing the analysis can measure. Before, a painted sequence (a wipe at every change)
        had none, and the check that every change has one delay never ran at the kiosk."""
        segs = self.segments
        return [j for j in range(1, len(segs))
                if -CONTIGUOUS_S <= segs[j].start - segs[j - 1].end <= MAX_WIPE_S
                and segs[j].rgb != segs[j - 1].rgb]

    def change_time(self, j: int) -> float:
        """When the light changes at change ``j`` (see :meth:`changes`): the middle of the
        wipe, where half the screen shows the new colour (the start of segment ``j`` when
        there is no wipe)."""
        return (self.segments[j - 1].end + self.segments[j].start) / 2.0


def _seconds(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(float(value)):
        raise InputError(f"{what} must be a finite number of seconds, got {value!r}")
    return float(value)


def _media_seconds(value: Any, what: str) -> float:
    """A file's time: media time, which starts at 0. The constructor allows any time base
    (the kiosk's monotonic clock), so the sign is checked here, where the base is known."""
    seconds = _seconds(value, what)
    if seconds < 0:
        raise InputError(f"{what} is {value!r} s: times are seconds of the recording's media "
                         "time, from 0, never negative")
    return seconds


def _time_pair(a: float, b: float) -> tuple[str, str]:
    """``a`` and ``b`` as text, with the fewest significant digits that tell them apart
    (``:g`` alone would print 2.7 and 2.7000001 alike)."""
    for digits in (6, 9, 12):
        ta, tb = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if ta != tb:
            return ta, tb
    return repr(a), repr(b)


def _check_length(i: int, s: Segment) -> None:
    """InputError unless segment ``i`` lasts some time: one that starts where it ends
    shows nothing, one that ends before it starts is out of order."""
    if s.end == s.start:
        raise InputError(f"segment {i} has no length: it starts and ends at {s.start:g} s "
                         "(each segment must end after it starts)")
    if s.end < s.start:
        end, start = _time_pair(s.end, s.start)
        raise InputError(f"segment {i} ends ({end} s) before it starts ({start} s)")


def _rgb(value: Any, i: int) -> RGB:
    if not isinstance(value, Sequence) or isinstance(value, str | bytes) or len(value) != 3:
        raise InputError(f"segment {i} rgb must be three numbers [r, g, b], got {value!r}")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int | float) or not float(v).is_integer() \
                or not 0 <= v <= 255:
            raise InputError(f"segment {i} rgb must hold whole numbers 0..255, got {value!r}")
        out.append(int(v))
    return out[0], out[1], out[2]


def _check_segments(segments: Any) -> None:
    if not isinstance(segments, tuple) or not all(isinstance(s, Segment) for s in segments):
        raise InputError("a light sequence holds a tuple of Segment")
    if len(segments) < MIN_SEGMENTS:
        raise InputError(f"a light sequence needs at least {MIN_SEGMENTS} segments, got "
                         f"{len(segments)}")
    if len(segments) > MAX_SEGMENTS:
        raise InputError(f"a light sequence has at most {MAX_SEGMENTS} segments, got "
                         f"{len(segments)}")
    for i, s in enumerate(segments):
        if not (math.isfinite(s.start) and math.isfinite(s.end)):
            raise InputError(f"segment {i} times must be finite")
        _check_length(i, s)
        if len(s.rgb) != 3 or any(not 0 <= c <= 255 for c in s.rgb):
            raise InputError(f"segment {i} rgb must hold three values 0..255, got {s.rgb}")
        if i and s.start < segments[i - 1].end - CONTIGUOUS_S:
            raise InputError(f"segment {i} starts at {s.start:g} s, before segment {i - 1} "
                             f"ends at {segments[i - 1].end:g} s (segments must be in time "
                             "order and must not overlap)")


# -- drawing ---------------------------------------------------------------------------------

def is_saturated_red(rgb: RGB) -> bool:
    """WCAG's saturated red: R / (R + G + B) >= 0.8 on linear (gamma-decoded) values."""
    lin = [srgb_to_linear(c) for c in rgb]
    total = sum(lin)
    return total > 0 and lin[0] / total >= RED_SHARE


def srgb_to_linear(code: float) -> float:
    """One sRGB code value (0-255) as linear light in [0, 1] (IEC 61966-2-1)."""
    v = float(code) / 255.0
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def _colours_ok(colours: list[RGB]) -> bool:
    if any(a == b for a, b in zip(colours, colours[1:], strict=False)):
        return False
    reds = [i for i, c in enumerate(colours) if is_saturated_red(c)]
    if len(reds) > MAX_RED or any(b - a < RED_GAP for a, b in zip(reds, reds[1:], strict=False)):
        return False
    for ch in range(3):
        lit = sum(1 for c in colours if c[ch] > 127)
        dark = len(colours) + 1 - lit   # the dark reference is dark in every channel
        if lit < MIN_PER_CHANNEL or dark < MIN_PER_CHANNEL:
            return False
    return True


def draw_sequence(rng: random.Random | None = None) -> LightSequence:
    """A fresh sequence: the dark reference from 0, then 7-9 colours of 350-450 ms.

    Adjacent colours differ, at most :data:`MAX_RED` saturated reds at least
    :data:`RED_GAP` colours apart, every camera channel lit and dark at least twice, and the whole under
    :data:`MAX_TOTAL_S` seconds.

    Parameters
    ----------
    rng : random.Random, optional
        The source of randomness; ``secrets.SystemRandom()`` (the operating system's) when
        None. Pass a seeded ``random.Random`` only in tests and simulations.

    Returns
    -------
    LightSequence
        Times from 0 (shift it with :meth:`LightSequence.shifted`).
    """
    r = rng if rng is not None else secrets.SystemRandom()
    n = r.randint(MIN_COLOURS, MAX_COLOURS)
    while True:
        colours = [r.choice(PALETTE)]
        while len(colours) < n:
            colours.append(r.choice([c for c in PALETTE if c != colours[-1]]))
        if _colours_ok(colours):
            break
    # Whole milliseconds: painted times are what the analysis uses anyway.
    durations = [r.randint(round(MIN_SEGMENT_S * 1000), round(MAX_SEGMENT_S * 1000)) / 1000.0
                 for _ in range(n)]
    budget = MAX_TOTAL_S - DARK_S
    extra = sum(durations) - n * MIN_SEGMENT_S
    room = budget - n * MIN_SEGMENT_S
    if extra > room:
        k = room / extra
        durations = [math.floor((MIN_SEGMENT_S + (d - MIN_SEGMENT_S) * k) * 1000) / 1000.0
                     for d in durations]
    segments = [Segment(0.0, DARK_S, DARK_RGB)]
    t = DARK_S
    for colour, d in zip(colours, durations, strict=True):
        end = round(t + d, 6)
        segments.append(Segment(t, end, colour))
        t = end
    return LightSequence(tuple(segments))


def max_changes_per_second(seq: LightSequence, window_s: float = 1.0) -> int:
    """The most full-screen changes within any ``window_s`` (half-open) window.

    A change is every instant the whole screen's colour changes: the first segment's start
    (from the user interface to the sequence), each segment start whose colour differs from
    the one before or that follows a gap, and the last segment's end (back to the user
    interface). Run it on a drawn sequence to check WCAG 2.3.1 (at most three). Painted
    times leave a gap for each wipe between two colours, which this counts as two changes;
    there the starts alone count (one change per wipe).
    """
    if not window_s > 0:
        raise ValueError(f"window_s must be > 0, got {window_s}")
    segs = seq.segments
    times = [segs[0].start]
    for j in range(1, len(segs)):
        gap = segs[j].start - segs[j - 1].end > CONTIGUOUS_S
        if gap:
            times.append(segs[j - 1].end)
        if gap or segs[j].rgb != segs[j - 1].rgb:
            times.append(segs[j].start)
    times.append(segs[-1].end)
    times.sort()
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= window_s:
            lo += 1
        best = max(best, hi - lo + 1)
    return best
