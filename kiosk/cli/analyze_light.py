"""The light part of ``kiosk analyze --light SEQUENCE.json|random``: was the screen's colour
sequence answered by a face in the room?

A part of :data:`kiosk.cli.analyze.PARTS`: without ``--light`` it adds nothing. With a file,
the sequence's times are the recording's media time; with ``random`` a sequence is drawn
now (what a pre-recorded or injected stream faces) and placed ``--light-offset`` seconds
after the recording's first frame. Adds one key, ``light``::

    {"responded": bool, "fit": 0-1, "delay_ms", "delay_spread_ms", "ratio", "unevenness",
     "reasons": [codes], "confidence": 0-1, "segments_judged": int, "why": str (not judged),
     "sequence_source": "file" | "random", "offset_s": float (random), "sequence": {...}}
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from kiosk.errors import InputError
from kiosk.model import FaceObservation


class _DefaultOffset(float):
    """The default of ``--light-offset``: a float that also says it was not typed.

    argparse keeps a default that is not a string as it is, while a typed value goes through
    the option's type; so an offset given without ``--light random`` can be told from the
    default and refused instead of ignored.
    """


#: Where a random sequence starts after the recording's first frame (s): a session shows it
#: after placement and a hold-still, not at the first frame; 1 s is the hold-still's length.
RANDOM_OFFSET_S: float = _DefaultOffset(1.0)
#: ``--light-offset`` stays below a day: far beyond any recording.
MAX_OFFSET_S = 86400.0


def check_light_options(args: argparse.Namespace) -> None:
    """Refuse ``--light-offset`` where it would be ignored.

    It places a sequence drawn now (``--light random``); a file's times are already the
    recording's media time, and without ``--light`` nothing is judged.

    Raises
    ------
    InputError
        ``--light-offset`` was given without ``--light random``.
    """
    offset = getattr(args, "light_offset", RANDOM_OFFSET_S)
    if isinstance(offset, _DefaultOffset):
        return
    spec = getattr(args, "light", None)
    if not spec:
        raise InputError("--light-offset needs --light: it places a sequence drawn now "
                         "(--light random) after the first frame")
    if spec != "random":
        raise InputError("--light-offset needs --light random: the times of a sequence "
                         f"file ({spec}) are already the recording's media time")


def light_part(path: str, observations: Sequence[FaceObservation], settings,
               args: argparse.Namespace) -> dict:
    """The ``light`` key (see the module docstring), or nothing without ``--light``.

    Raises
    ------
    InputError
        The sequence file is missing or invalid, or ``--light-offset`` was given without
        ``--light random`` (:func:`check_light_options`).
    """
    check_light_options(args)
    spec = getattr(args, "light", None)
    if not spec:
        return {}
    from kiosk.analysis.light import LightAnalyzer, LightSequence, draw_sequence
    from kiosk.cli.analyze_passive import _paired

    first = next(iter(observations), None)
    start = first.media_t if first is not None else 0.0
    base = (first.t - first.media_t) if first is not None else 0.0
    out: dict = {}
    if spec == "random":
        offset = float(getattr(args, "light_offset", RANDOM_OFFSET_S))
        seq = draw_sequence().shifted(start + offset)
        out.update(sequence_source="random", offset_s=offset)
    else:
        seq = LightSequence.from_json_file(spec)
        out["sequence_source"] = "file"
    analyzer = LightAnalyzer(seq.shifted(base) if base else seq)
    for frame, obs in _paired(path, observations):
        analyzer.update(frame, obs)
    verdict = analyzer.verdict()
    result = verdict.as_dict()
    result.update(out)
    result["sequence"] = seq.to_dict()
    return {"light": result}


def light_line(light: dict) -> str:
    """One line for the text report."""
    head = "  light "
    if light.get("why"):
        return f"{head}not judged: {light['why']}"
    state = "answered by a face in the room" if light["responded"] else \
        f"not answered: {', '.join(light['reasons'])}"
    parts = [f"fit {light['fit']:.2f}"]
    if light.get("delay_ms") is not None:
        spread = light.get("delay_spread_ms")
        parts.append(f"delay {light['delay_ms']:.0f} ms"
                     + (f" (spread {spread:.0f} ms)" if spread is not None else ""))
    if light.get("ratio") is not None:
        parts.append(f"face/background {light['ratio']:.1f}")
    if light.get("unevenness") is not None:
        parts.append(f"relief {light['unevenness']:.2f}")
    parts.append(f"confidence {light['confidence']:.2f}")
    where = (f"random sequence at +{light['offset_s']:g} s"
             if light.get("sequence_source") == "random" else "sequence file")
    return f"{head}{state} ({', '.join(parts)}; {where})"
