"""The passive presentation-attack analyzers of one session, and how to run them.

One set of analyzers serves one session (they keep per-session state); build a fresh set with
:func:`default_analyzers` for every verification and :func:`still_analyzers` for a still
image. :func:`run_analyzers` feeds recorded frames through a set and returns the Signals,
which :class:`kiosk.analysis.fusion.Fusion` turns into a liveness score.

Which analyzers (issues 4 and 12):

- single-frame (also run on stills, which the fusion refuses to judge): texture, moire,
  edges, glare, lighting (:mod:`kiosk.analysis.context`), display tones
  (:mod:`kiosk.analysis.screen`);
- multi-frame (sessions only): planar motion, face/background coupling, pulse
  (:mod:`kiosk.analysis.motion`), screen flicker and reflections
  (:mod:`kiosk.analysis.screen`), expression dynamics (:mod:`kiosk.analysis.life`), rigid
  smile (:mod:`kiosk.analysis.mask`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kiosk.analysis.context import EdgeAnalyzer, GlareAnalyzer, LightingAnalyzer, MoireAnalyzer
from kiosk.analysis.life import ExpressionAnalyzer
from kiosk.analysis.mask import RigidSmileAnalyzer
from kiosk.analysis.motion import CouplingAnalyzer, PlanarAnalyzer, PulseAnalyzer
from kiosk.analysis.screen import DisplayAnalyzer, FlickerAnalyzer, ReflectionAnalyzer
from kiosk.analysis.signals import Analyzer
from kiosk.analysis.texture import TextureAnalyzer
from kiosk.model import FaceObservation, Frame, Signal

# Each single-frame analyzer measures one face frame in STRIDE, with staggered phases, so a
# 30 fps session runs at most one of the six per frame (the per-frame budget, issue 4).
STRIDE = 6

#: Names of the single-frame and the multi-frame analyzers, in the order they are built.
SINGLE_FRAME = ("texture", "moire", "edges", "glare", "lighting", "display")
MULTI_FRAME = ("planar", "coupling", "pulse", "flicker", "reflection", "expression",
               "rigid_smile")


def single_frame_analyzers(stride: int = STRIDE, texture_reference=None) -> list[Analyzer]:
    """The single-frame analyzers with staggered sampling phases.

    Each frame with a face runs at most one of them (the first face frame runs all of them,
    so a still gets every cue).

    Parameters
    ----------
    stride : int
        Each analyzer measures one face frame in ``stride``.
    texture_reference : TextureReference, optional
        Defaults to the shipped reference (read once).

    Returns
    -------
    list
        In the order of :data:`SINGLE_FRAME`.
    """
    return [
        TextureAnalyzer(texture_reference, stride=stride, phase=0),
        MoireAnalyzer(stride=stride, phase=1),
        EdgeAnalyzer(stride=stride, phase=2),
        GlareAnalyzer(stride=stride, phase=3),
        LightingAnalyzer(stride=stride, phase=4),
        DisplayAnalyzer(stride=stride, phase=5),
    ]


def default_analyzers(settings=None, *, camera_fixed: bool = False, texture_reference=None,
                      stride: int = STRIDE) -> list[Analyzer]:
    """A fresh set of every passive analyzer for one session.

    Parameters
    ----------
    settings : kiosk.settings.Settings, optional
        ``liveness.baseline_s`` sets the resting face of the rigid-smile cue (1 s without
        settings).
    camera_fixed : bool
        True for a mounted camera that cannot move (the kiosk's): the coupling cue then
        treats anything that moves with the face as carried with it. False for hand-held
        recordings (the developer set, ``kiosk analyze``/``evaluate``), where the camera's own
        motion is measured on the far scene.
    texture_reference : kiosk.analysis.texture.TextureReference, optional
        The live-skin reference of the texture cue; read from resources once per call when
        None (pass one loaded with :func:`kiosk.analysis.texture.load_texture_reference` to
        avoid re-reading it for every session).
    stride : int
        Sampling stride of the single-frame analyzers.

    Returns
    -------
    list of Analyzer
        In the order of :data:`SINGLE_FRAME` then :data:`MULTI_FRAME`.

    Raises
    ------
    ResourceError
        The texture reference is missing or invalid.
    """
    baseline_s = float(settings.liveness.baseline_s) if settings is not None else 1.0
    return [*single_frame_analyzers(stride=stride, texture_reference=texture_reference),
            PlanarAnalyzer(), CouplingAnalyzer(camera_fixed=camera_fixed), PulseAnalyzer(),
            FlickerAnalyzer(), ReflectionAnalyzer(), ExpressionAnalyzer(),
            RigidSmileAnalyzer(baseline_s=baseline_s)]


def still_analyzers(texture_reference=None) -> list[Analyzer]:
    """A fresh set of the single-frame analyzers, for one still image (one ``update``).

    The fusion refuses stills (:mod:`kiosk.analysis.fusion`); their cues are measured for
    ``kiosk analyze`` and the evaluation's record only.

    Raises
    ------
    ResourceError
        The texture reference is missing or invalid.
    """
    return single_frame_analyzers(stride=STRIDE, texture_reference=texture_reference)


def run_analyzers(frames_and_observations: Iterable[tuple[Frame, FaceObservation]],
                  analyzers: Sequence[Analyzer]) -> list[Signal]:
    """Feed a recording through ``analyzers`` and return one Signal per analyzer.

    Parameters
    ----------
    frames_and_observations : iterable of (Frame, FaceObservation)
        In time order; each observation belongs to its frame (same ``seq``).
    analyzers : sequence of Analyzer
        Reset first, so a set can be reused for another recording.

    Returns
    -------
    list of Signal
        In the order of ``analyzers``.

    Raises
    ------
    ValueError
        An observation's ``seq`` differs from its frame's.
    """
    for analyzer in analyzers:
        analyzer.reset()
    for frame, obs in frames_and_observations:
        if obs.seq != frame.seq:
            raise ValueError(f"frames_and_observations pairs frame {frame.seq} with the "
                             f"observation of frame {obs.seq}")
        for analyzer in analyzers:
            analyzer.update(frame, obs)
    return [analyzer.result() for analyzer in analyzers]
