"""Mask cues: a paper, plastic or printed face worn or held in front of a live one.

:mod:`.smile`: a mask cannot smile, its cheeks stay still while the wearer's mouth moves. This
package may use the challenges' smile detector; the context and motion packages may not.
(An eye-hole cue, a sharp step running round both eyes, was measured and left out: the one
real eye-hole mask of the developer set is too thin a margin over live faces' lid folds; see
scripts/probe_eye_holes.py and the README.)
"""

from __future__ import annotations

from kiosk.analysis.mask.smile import RigidSmileAnalyzer

__all__ = ["RigidSmileAnalyzer"]
