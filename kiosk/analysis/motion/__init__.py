"""Multi-frame passive presentation-attack cues: planar motion, face/background coupling, pulse.

Each analyzer follows :class:`kiosk.analysis.signals.Analyzer` (``single_frame`` is False): feed
it every frame of a session with its observation, then read one Signal.
"""

from kiosk.analysis.motion.coupling import CouplingAnalyzer, coupling_counts, coupling_score
from kiosk.analysis.motion.fit import (
    fit_homography,
    homography_residuals,
    planar_residual,
    similarity_residual,
    similarity_residuals,
)
from kiosk.analysis.motion.planar import PlanarAnalyzer
from kiosk.analysis.motion.pulse import PulseAnalyzer
from kiosk.analysis.motion.rppg import pos_pulse, pos_signal, pulse_spectrum, spectral_peak

__all__ = [
    "CouplingAnalyzer",
    "PlanarAnalyzer",
    "PulseAnalyzer",
    "coupling_counts",
    "coupling_score",
    "fit_homography",
    "homography_residuals",
    "planar_residual",
    "pos_pulse",
    "pos_signal",
    "pulse_spectrum",
    "similarity_residual",
    "similarity_residuals",
    "spectral_peak",
]
