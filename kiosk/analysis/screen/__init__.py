"""Screen cues: what a display filmed by the camera shows that a live face does not.

The cues here judge a replay that fills the view, where no bezel or desk gives the screen
away: the display's flicker (:mod:`.flicker`), reflections that stay on the glass while the
face moves under them (:mod:`.reflection`) and a display's tones (:mod:`.display`). Device
edges and moire live in :mod:`kiosk.analysis.context`, which these cues may use.
"""

from __future__ import annotations

from kiosk.analysis.screen.display import DisplayAnalyzer
from kiosk.analysis.screen.flicker import FlickerAnalyzer
from kiosk.analysis.screen.reflection import ReflectionAnalyzer

__all__ = ["DisplayAnalyzer", "FlickerAnalyzer", "ReflectionAnalyzer"]
