"""Mask cues: a paper, plastic or printed face worn or held in front of a live one.

:mod:`.smile`: a mask cannot smile, its cheeks stay still while the wearer's mouth moves. This
package may use the challenges' smile detector; the context and motion packages may not.
(An eye-hole cue, a brightness step around the eyes, was measured and left out: on the
developer set live faces step as often as the one real eye-hole mask; see the README.)
"""

from __future__ import annotations

from kiosk.analysis.mask.smile import RigidSmileAnalyzer

__all__ = ["RigidSmileAnalyzer"]
