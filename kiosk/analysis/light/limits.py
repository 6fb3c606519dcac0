"""The light judge's limits, each with its physical or statistical reason.

Used by :mod:`.checks` and :mod:`.judge`; nothing here is tuned to a file.
"""

from __future__ import annotations

# -- what the recording must offer --------------------------------------------------------

#: Below this frame rate a 350 ms colour holds fewer than three frames, one of which mixes
#: two colours: the judge needs 15 fps (issue 16) and refuses below 12 fps.
MIN_FPS = 12.0
#: Segments with at least one clean frame needed to judge (three changes, as the shortest
#: sequence file has), and the number at which confidence is full (a dark reference and seven
#: colours, the shortest drawn sequence).
MIN_SEGMENTS = 4
FULL_SEGMENTS = 8
#: A linear drift term (head motion, slow auto exposure) costs one degree of freedom per
#: channel; it is fitted from this many segments on.
TREND_SEGMENTS = 6
#: The background bands must be measurable in this share of the face frames.
MIN_BACKGROUND_SHARE = 0.5

# -- the delay ------------------------------------------------------------------------------

#: Delays searched (s): wider than any camera's, so that a late answer is found and called
#: late (LIGHT_TIMING) rather than missed.
SEARCH_DELAY_S = (-0.2, 1.0)
#: The latest a camera's own delay can be (s): from the painted colour to the frame time at
#: which the face shows half of the change = display latency (a 60 Hz panel scans out in
#: 17 ms and switches in under 10 ms) + exposure (at most one frame, 67 ms at 15 fps) +
#: readout, transfer and decoding (one to two frames: 67-133 ms at 15 fps; UVC webcams
#: measure 50-150 ms from light to buffer). 350 ms leaves a frame of margin at 15 fps. A
#: device that watches the kiosk's screen and answers in the stream adds its own camera's
#: frame, processing and display to that.
MAX_DELAY_S = 0.35
#: A frame's time can precede its exposure's middle by up to half a frame (timestamping at
#: the start of exposure): earlier than that, the face answered before the light.
MIN_DELAY_FRAMES = -0.5
#: "Within about a frame across all changes": the robust spread (1.4826 x MAD) of the
#: per-change delays may reach half a frame interval (a uniform error over one frame has a
#: standard deviation of 0.29 frame), and never less than 15 ms (timestamp jitter of USB
#: cameras and of a painted time's vsync).
MAX_SPREAD_FRAMES = 0.5
MIN_SPREAD_LIMIT_S = 0.015
#: A change's delay is measured only when its size is this many times the frame noise.
CHANGE_SNR = 4.0

# -- reflection -----------------------------------------------------------------------------

#: The light term must be significant at this level (F-test of the fit against drift alone),
#: divided by the number of independent alignments the delay search tries (its span over the
#: mean segment: about 3 for drawn sequences), a Bonferroni correction for the search.
MAX_P_VALUE = 1e-3
#: And it must explain at least this share of the segment-to-segment variance left by the
#: drift: the screen's light on a face 0.3-0.6 m away changes its colour by 10-50 % (Face
#: Flashing's capture: chromaticity shifts of 0.07-0.15 on cheeks and chin), far more than a
#: still head's shading within a second; relit developer faces reach 0.94-0.98. For recordings
#: that do not answer (drift and noise as random walks, scripts/light_figures.py null) the
#: fit's 99.9th percentile is 0.59-0.62 over drawn sequences: 0.7 lies above it. (For a
#: four-segment file the fit alone separates nothing, 99.9th percentile 0.89-0.92; the
#: p-value carries the decision, and the confidence is lower.)
MIN_FIT = 0.7
#: Face-to-background response ratio: about 10 for a real face (the inverse-square law and
#: Face Flashing's capture, 0.07-0.15 against 0.006), about 1 for a global tint; the limit is
#: their geometric middle, a factor of 3 from each.
MIN_RATIO = 3.0
#: Ratios are reported up to this (a background that does not answer at all divides by its
#: noise).
MAX_RATIO = 100.0

# -- shape ----------------------------------------------------------------------------------

#: The relief of the response is the nose's relative response against the cheeks' (log
#: ratio). The nose (tip, alae, lower dorsum) faces the screen while the cheeks turn 30-50
#: degrees away: computed from the face meshes of four developer clips under a 14-24 inch
#: screen below the camera at kiosk distances (0.2-0.4 m), the screen's light on the nose
#: region exceeds the cheeks' by 0.13-0.27 in log units (0.03-0.06 only for a 27-inch screen
#: at 0.15 m, nearer than the oval places a face). On a plane, any smooth light field takes
#: at the nose (the cheeks' midpoint) the cheeks' mean to first order: 0. A response is flat
#: when its relief is below this with two standard errors to spare, under half of a face's
#: smallest figure at a kiosk.
MAX_FLAT = 0.06
#: The shape could have shown a flat answer only with a relief error up to half that.
MAX_SHAPE_NOISE = 0.5 * MAX_FLAT
#: Every skin region of a face turned to the screen answers: the least lit, the forehead
#: (tilted up, away from a screen below the camera), receives 0.32-0.88 of the chin's screen
#: light over the four developer meshes (the table behind MAX_FLAT), and the room's light
#: from above lowers its relative answer by at most about half. A region whose answer is
#: below this share of the face's, with two standard errors to spare, did not answer: a
#: phone's glass mirrors the screen over part of the face only.
MIN_REGION_SHARE = 0.15

# -- light ----------------------------------------------------------------------------------

#: A clipped channel cannot show added light. When the face did not answer and at least this
#: share of its skin pixels was clipped, the room (or the exposure) is too bright to judge:
#: LIGHT_TOO_BRIGHT_AMBIENT, not a failure.
MAX_CLIPPED = 0.2
#: A region with more clipped pixels than MAX_CLIPPED is measured by the mean of its darker
#: half (per channel), which clipped pixels cannot reach while fewer than half of them clip
#: (they rank above every other): it must stay below this in every frame judged, which
#: leaves a tenth of the region for the camera's knee (codes just under the clip, already
#: compressed). Above it the nose or a cheek cannot show its share of the light, the shape
#: cannot be judged, and the check is too bright to judge (LIGHT_TOO_BRIGHT_AMBIENT: review,
#: never a pass).
MAX_HALF_CLIPPED = 0.4
