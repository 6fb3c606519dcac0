"""Single-frame context cues: screen moire, device edges, glare, lighting consistency.

Each analyzer measures a sample of the session's frames (see :mod:`.sampling`) and returns
one :class:`~kiosk.model.Signal`; they also answer for a still image (one ``update``). The
texture cue (:mod:`kiosk.analysis.texture`) shares the same sampling.
"""

from __future__ import annotations

from kiosk.analysis.context.edges import EdgeAnalyzer
from kiosk.analysis.context.glare import GlareAnalyzer
from kiosk.analysis.context.lighting import LightingAnalyzer
from kiosk.analysis.context.moire import MoireAnalyzer
from kiosk.analysis.context.sampling import FrameSampler, SampledAnalyzer

__all__ = [
    "EdgeAnalyzer", "FrameSampler", "GlareAnalyzer", "LightingAnalyzer", "MoireAnalyzer",
    "SampledAnalyzer", "single_frame_analyzers",
]


def single_frame_analyzers(stride: int = 6, texture_reference=None) -> list:
    """The five single-frame analyzers with staggered sampling phases.

    With ``stride`` >= 5 each frame with a face runs at most one of them (the first face
    frame runs all five, so a still gets every cue).

    Parameters
    ----------
    stride : int
        Each analyzer measures one face frame in ``stride``.
    texture_reference : TextureReference, optional
        Defaults to the shipped reference (read once).

    Returns
    -------
    list
        TextureAnalyzer, MoireAnalyzer, EdgeAnalyzer, GlareAnalyzer, LightingAnalyzer.
    """
    # Imported here: kiosk.analysis.texture itself imports this package's helpers.
    from kiosk.analysis.texture import TextureAnalyzer

    return [
        TextureAnalyzer(texture_reference, stride=stride, phase=0),
        MoireAnalyzer(stride=stride, phase=1),
        EdgeAnalyzer(stride=stride, phase=2),
        GlareAnalyzer(stride=stride, phase=3),
        LightingAnalyzer(stride=stride, phase=4),
    ]
