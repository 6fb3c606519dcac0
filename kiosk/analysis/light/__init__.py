"""The active light challenge: the kiosk's screen lights the face with a random colour
sequence, and only a face in the room answers it (issue 16).

- :mod:`.sequence`: the sequence, its JSON file, drawing one, the photosensitivity check;
- :mod:`.regions`: per-frame linear-light colour of skin regions and background;
- :mod:`.fit`, :mod:`.judge`: the fit, the delay, the ratio, the shape, and the verdict;
- :mod:`.analyzer`: :class:`LightAnalyzer`, the session's analyzer.

Pure numpy/OpenCV; independent of the other analysis sub-packages.
"""

from kiosk.analysis.light.analyzer import LightAnalyzer
from kiosk.analysis.light.judge import judge
from kiosk.analysis.light.result import LightResult, Unjudged
from kiosk.analysis.light.sequence import (
    LightSequence,
    Segment,
    draw_sequence,
    max_changes_per_second,
)

__all__ = ["LightAnalyzer", "LightResult", "LightSequence", "Segment", "Unjudged",
           "draw_sequence", "judge", "max_changes_per_second"]
