"""The passive part of ``kiosk analyze``: every passive cue and the fused liveness score.

A part of :data:`kiosk.cli.analyze.PARTS`: it gets the tracked observations, decodes the
frames once more (the part interface carries observations only) and runs the passive analyzers
over them, then :class:`kiosk.analysis.fusion.Fusion`. A single image is a still: only the
single-frame cues run (they are shown for the record) and the fusion refuses it (reason
SINGLE_IMAGE: a single image cannot show life).

Adds one key, ``passive``::

    {"still": bool, "refused": bool, "liveness": 0-100, "attack_probability": float,
     "passed": bool, "threshold": settings.liveness.confidence_threshold, "reasons": [codes],
     "evidence": float, "contributions": {cue: log-odds toward attack, negative for life},
     "life": {cue: log-odds toward live},
     "signals": [{"name", "score", "confidence", "reason", "details": {scalars}}]}
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence

from kiosk.errors import InputError
from kiosk.model import FaceObservation, Frame


def _paired(path: str, observations: Sequence[FaceObservation]
            ) -> Iterator[tuple[Frame, FaceObservation]]:
    """The frames of ``path`` decoded again, each with its observation (same ``seq``)."""
    from kiosk.camera import open_source

    with open_source(path, paced=False) as source:
        for frame, obs in zip(source, observations, strict=False):
            if frame.seq != obs.seq:
                raise InputError(f"{path} decoded differently the second time (frame {frame.seq}"
                                 f" against observation {obs.seq}); cannot analyse it")
            yield frame, obs


def passive_part(path: str, observations: Sequence[FaceObservation], settings,
                 args: argparse.Namespace) -> dict:
    """Every passive Signal and the fused liveness of the recording (see the module docstring).

    Raises
    ------
    ResourceError
        The fusion model or the texture reference is missing or invalid.
    """
    from pathlib import Path

    from kiosk.analysis.capture import frame_rate
    from kiosk.analysis.fusion import Fusion
    from kiosk.analysis.passive import default_analyzers, run_analyzers, still_analyzers
    from kiosk.analysis.signals import signal_dict
    from kiosk.camera import is_image_path

    fusion = Fusion.load()
    # A recording of one frame (a photo named .mp4) is a still too: it cannot show life.
    still = (Path(path).is_file() and is_image_path(Path(path))) or len(observations) == 1
    analyzers = still_analyzers() if still else default_analyzers(settings)
    signals = run_analyzers(_paired(path, observations), analyzers)
    fused = fusion.fuse(signals, still=still, frame_rate=None if still else
                        frame_rate([o.t for o in observations]))
    threshold = float(settings.liveness.confidence_threshold)
    liveness = round(float(fused.score), 2)
    return {"passive": {
        "still": still,
        "refused": bool(fused.refused),
        "frame_rate": None if fused.frame_rate is None else round(float(fused.frame_rate), 2),
        "liveness": liveness,
        "attack_probability": round(float(fused.attack_probability), 6),
        "passed": liveness >= threshold and not fused.refused,
        "threshold": threshold,
        "reasons": list(fused.reasons),
        "evidence": round(float(fused.evidence), 4),
        "contributions": {k: round(float(v), 4) for k, v in fused.contributions.items()},
        "life": {k: round(float(v), 4) for k, v in fused.life.items()},
        "signals": [{"name": s.name, **signal_dict(s)} for s in signals],
    }}
