"""Blink detection: both eyes close quickly and open again, measured against the person.

The evidence, and why each piece is there:

- **Landmark EAR relative to the person's open eye** (:func:`eye_closure`) is the main signal:
  it follows even a one-frame blink, which the eyeBlink blendshapes can miss, and being
  relative it works for narrow eyes and glasses (open EAR 0.2) as well as wide ones (0.4).
- **A fast onset.** A blink closes the lids within about 100 ms. An episode starts only when
  an eye's closure is past ``closed`` *and* has risen by ``rise`` above its lowest level of
  the preceding ``ref_window_s`` (always including the two previous frames); the slow lowering
  of the lids when someone looks down (about 0.1 per 30 fps frame on the developer clips,
  against 0.3-0.8 for blinks), or the narrowing of the eyes as a smile builds, never starts
  one. Comparing with the recent level also means a squinting eye must close further to count,
  and a blink on top of a squint is still seen.
- **Both eyes.** A blink closes both eyes together; a wink closes one while the other only
  narrows. Both eyes must pass ``closed`` in at least one frame, and in ``bilateral_share`` of
  the frames where one eye is closed the other must be at least ``partner`` closed.
- **Blendshapes confirm.** MediaPipe's eyeBlink scores (relative to their own resting values,
  which are ~0.5 behind some glasses) must rise by ``blend_confirm`` on both eyes at some point
  of the episode: a landmark glitch does not move them.
- **Context.** When the closure starts during a smile (cheeks push the lower lids up) or while
  the person looks down (the upper lids follow the gaze), the closure must go deeper
  (``strict_closed``); under a downward look it must also be brief (``strict_max_s``): a
  lowered gaze with the lids nearly shut can last for seconds, a blink does not.

At 15 fps a 100 ms blink is one or two frames: every rule above works on a single closed frame
with an open frame before and after it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from kiosk.analysis.challenges.actions import BLINK
from kiosk.analysis.challenges.baseline import Baseline, blink_rise, eye_closure, smile_score
from kiosk.analysis.challenges.detector import GapGuard, ramp
from kiosk.model import Event, FaceObservation


@dataclass
class _Episode:
    start: float
    last: float
    frames: int = 0
    both: int = 0
    peak_both: float = 0.0
    peak_either: float = 0.0
    peak_blend: float = -1.0
    open_level: float = 0.0
    smiling: bool = False
    looking_down: bool = False


class BlinkDetector:
    """Streaming blink detector (``blink``; long closures are reported as blinks too).

    Parameters
    ----------
    closed : float
        Per-eye closure (0 open, 1 shut) at which an eye counts as closed.
    reopened : float
        Both eyes below this closure end an episode (hysteresis)...
    reopen_margin : float
        ... or below the closure they had just before it plus this margin, whichever is
        higher: eyes that were narrower than the baseline (a lowered gaze, tiredness) have
        reopened when they are back where they were...
    reopen_share : float
        ... or once the closure has come back this share of the way from its peak to the
        level before the onset. Blink durations are conventionally measured at half
        amplitude; people often reopen to a squint and stay there (after a wink, in a frown),
        and without this rule such a blink lasts until the squint ends and is refused as too
        long.
    rise : float
        Closure gain over the preceding ``ref_window_s`` needed at the onset.
    ref_window_s : float
        How far back the onset looks for the open level.
    bilateral_share : float
        Least share of the closed frames in which the other eye is at least ``partner`` closed.
    partner : float
        Closure of the less-closed eye that counts as taking part in the blink.
    blend_confirm : float
        Least rise of the eyeBlink blendshapes (both eyes) above rest during the episode.
    strict_closed : float
        Closure of both eyes needed when the onset happens during a smile or a downward gaze.
    strict_max_s : float
        Longest closure that counts when the onset happens during a downward look.
    max_duration_s : float
        Longer closures are not blinks (sleep, looking down for long).
    smile_rise : float
        Smile score above rest that marks a smile at the onset.
    look_down_deg : float
        Head pitch below rest that marks a downward look.
    gaze_down : float
        eyeLookDown score held through the reference window that marks a downward gaze.
    max_gap_s : float
        Longest face dropout bridged inside an episode.
    """

    actions: tuple[str, ...] = (BLINK,)

    def __init__(self, *, closed: float = 0.4, reopened: float = 0.25,
                 reopen_margin: float = 0.15, reopen_share: float = 0.5, rise: float = 0.4,
                 ref_window_s: float = 0.12,
                 bilateral_share: float = 0.5, partner: float = 0.35,
                 blend_confirm: float = 0.1, strict_closed: float = 0.7,
                 strict_max_s: float = 0.5, max_duration_s: float = 1.5,
                 smile_rise: float = 0.25, look_down_deg: float = 12.0, gaze_down: float = 0.4,
                 max_gap_s: float = 0.4) -> None:
        if not 0.0 < reopened < closed < 1.0:
            raise ValueError("need 0 < reopened < closed < 1")
        if not 0.0 < reopen_share < 1.0:
            raise ValueError("need 0 < reopen_share < 1")
        self.closed = closed
        self.reopened = reopened
        self.reopen_margin = reopen_margin
        self.reopen_share = reopen_share
        self.rise = rise
        self.ref_window_s = ref_window_s
        self.bilateral_share = bilateral_share
        self.partner = partner
        self.blend_confirm = blend_confirm
        self.strict_closed = max(strict_closed, closed)
        self.strict_max_s = strict_max_s
        self.max_duration_s = max_duration_s
        self.smile_rise = smile_rise
        self.look_down_deg = look_down_deg
        self.gaze_down = gaze_down
        self._gap = GapGuard(max_gap_s)
        # (t, max closure of the two eyes, mean eyeLookDown) of recent frames.
        self._history: deque[tuple[float, float, float]] = deque()
        self._episode: _Episode | None = None
        self._closure = 0.0

    def reset(self) -> None:
        self._history.clear()
        self._episode = None
        self._gap.reset()
        self._closure = 0.0

    @property
    def pending(self) -> Event | None:
        ep = self._episode
        return Event(BLINK, ep.start, ep.last, 0.5) if ep is not None else None

    @property
    def active(self) -> bool:
        return self._episode is not None or self._closure >= self.reopened

    @property
    def ongoing(self) -> Event | None:
        return None

    def finish(self) -> list[Event]:
        # A closure still in progress when the stream ends was never seen to reopen.
        return []

    def update(self, obs: FaceObservation, baseline: Baseline) -> list[Event]:
        if self._gap.broken(obs):
            self.reset()
            if obs.face is not None:
                self._gap.broken(obs)
        face = obs.face
        if face is None:
            return []
        left, right = eye_closure(face, baseline)
        either, both = max(left, right), min(left, right)
        blend = min(blink_rise(face, baseline))
        gaze = (face.blend("eyeLookDownLeft") + face.blend("eyeLookDownRight")) / 2.0
        self._closure = either
        while len(self._history) > 2 and obs.t - self._history[0][0] > self.ref_window_s:
            self._history.popleft()

        events: list[Event] = []
        episode = self._episode
        open_level = min((c for _, c, _ in self._history), default=0.0)
        if episode is None and either >= max(self.closed, open_level + self.rise):
            episode = self._episode = _Episode(start=obs.t, last=obs.t, open_level=open_level)
            episode.smiling = smile_score(face) - baseline.smile >= self.smile_rise
            episode.looking_down = self._looking_down(face, baseline)
        if episode is not None:
            episode.peak_either = max(episode.peak_either, either)
            back = episode.peak_either - self.reopen_share * (
                episode.peak_either - episode.open_level)
            if either >= max(self.reopened, episode.open_level + self.reopen_margin) and (
                    either > back):
                episode.last = obs.t
                if either >= self.closed:
                    episode.frames += 1
                    episode.both += both >= self.partner
                episode.peak_both = max(episode.peak_both, both)
                episode.peak_blend = max(episode.peak_blend, blend)
            else:
                event = self._finish(episode)
                if event is not None:
                    events.append(event)
                self._episode = None
        self._history.append((obs.t, either, gaze))
        return events

    def _looking_down(self, face, baseline: Baseline) -> bool:
        """True when the head is pitched down, or the gaze was down through the window."""
        if face.pitch - baseline.pitch <= -self.look_down_deg:
            return True
        gazes = [g for _, _, g in self._history]
        return bool(gazes) and min(gazes) >= self.gaze_down

    def _finish(self, episode: _Episode) -> Event | None:
        """The blink this finished episode was, or None when it was something else."""
        duration = episode.last - episode.start
        needed = self.strict_closed if episode.smiling or episode.looking_down else self.closed
        longest = self.strict_max_s if episode.looking_down else self.max_duration_s
        if duration > longest:
            return None
        if episode.both < self.bilateral_share * episode.frames or episode.peak_both < needed:
            return None
        if episode.peak_blend < self.blend_confirm:
            return None
        # Deeper closure of the less-closed eye and a clearer blendshape rise: more certain.
        confidence = 0.5 + 0.3 * ramp(episode.peak_both, needed, 0.9) \
            + 0.2 * ramp(episode.peak_blend, self.blend_confirm, 0.4)
        return Event(BLINK, episode.start, episode.last, round(confidence, 3))
