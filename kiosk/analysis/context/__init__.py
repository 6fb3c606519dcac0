"""Single-frame context cues: screen moire, device edges, glare, lighting consistency.

Each analyzer measures a sample of the session's frames (see :mod:`.sampling`) and returns
one :class:`~kiosk.model.Signal`; they also answer for a still image (one ``update``). The
texture cue (:mod:`kiosk.analysis.texture`) shares the same sampling; the set of single-frame
analyzers is composed in :mod:`kiosk.analysis.passive`, so nothing here imports texture.
"""

from __future__ import annotations

from kiosk.analysis.context.edges import EdgeAnalyzer
from kiosk.analysis.context.glare import GlareAnalyzer
from kiosk.analysis.context.lighting import LightingAnalyzer
from kiosk.analysis.context.moire import MoireAnalyzer
from kiosk.analysis.context.sampling import FrameSampler, SampledAnalyzer

__all__ = [
    "EdgeAnalyzer", "FrameSampler", "GlareAnalyzer", "LightingAnalyzer", "MoireAnalyzer",
    "SampledAnalyzer",
]
