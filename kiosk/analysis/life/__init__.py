"""Evidence of life: what only a live face does before the camera.

Cues here give the fusion positive evidence (a low score is evidence of life, see
:mod:`kiosk.analysis.fusion`): :mod:`.expression` (eyelids and mouth deform as skin does).
The planar cue's 3D parallax (:mod:`kiosk.analysis.motion.planar`), the rigid-smile cue's
cheeks (:mod:`kiosk.analysis.mask.smile`) and the skin texture (:mod:`kiosk.analysis.texture`)
count as evidence of life the same way; the light challenge's response will join them.
"""

from __future__ import annotations

from kiosk.analysis.life.expression import ExpressionAnalyzer

__all__ = ["ExpressionAnalyzer"]
