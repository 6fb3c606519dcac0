"""Action detectors on the developer clips (../shared/data), at 30 fps and decimated to 15.

Labels come from the manifest; a detection matches a label when it overlaps the labelled
window widened by 0.3 s on each side (the manifest's timing tolerance).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from kiosk.analysis.challenges.baseline import Baseline
from kiosk.analysis.challenges.events import detect_events
from kiosk.lab.events_eval import parse_events

pytestmark = pytest.mark.data

D = "KwaiVGI_LivePortrait/assets/examples/driving/"
D7 = D + "d7.mp4"
REAL = "tranvanluyt2203_face_anti_spoofing/videos/real.mp4"
TOL = 0.3


def labels_of(manifest_rows, path, action):
    row = next(r for r in manifest_rows if r["path"] == path)
    return [lab for lab in parse_events(row["events"]) if lab.action == action]


def overlaps(event, label):
    return event.start <= label.end + TOL and event.end >= label.start - TOL


def clip_events(track_clip, path, step, baseline="clip"):
    return detect_events(track_clip(path)[::step], baseline=baseline)


@pytest.mark.parametrize("step", [1, 2], ids=["30fps", "15fps"])
def test_d7_eye_closures_are_blinks(track_clip, manifest_rows, step):
    events = clip_events(track_clip, D7, step)
    blinks = [e for e in events if e.action == "blink"]
    labelled = labels_of(manifest_rows, D7, "blink")  # blink and eyes_closed
    assert len(labelled) == 3
    for label in labelled:
        assert any(overlaps(b, label) for b in blinks), label
    # Frame 5 (0.17 s) shows both eyes shut: an unlabelled short blink, found at 30 fps.
    if step == 1:
        assert any(b.start <= 0.2 and b.end >= 0.13 for b in blinks)
    # Nothing but eye actions in this clip.
    assert {e.action for e in events} == {"blink"}


@pytest.mark.parametrize("step", [1, 2], ids=["30fps", "15fps"])
@pytest.mark.parametrize("baseline", ["clip", "start"])
def test_real_mp4_turns_and_looks(track_clip, manifest_rows, step, baseline):
    events = clip_events(track_clip, REAL, step, baseline)
    for action in ("turn_left", "turn_right", "look_down", "look_up"):
        found = [e for e in events if e.action == action]
        (label,) = labels_of(manifest_rows, REAL, action)
        assert len(found) == 1 and overlaps(found[0], label), (action, found)
    # The right turn only just clears 20 degrees: it is reported with low confidence.
    right = next(e for e in events if e.action == "turn_right")
    left = next(e for e in events if e.action == "turn_left")
    assert left.confidence == 1.0 and right.confidence < 0.6


def test_real_mp4_right_turn_reaches_about_21_degrees_from_rest(track_clip):
    """Measured, not tuned: MediaPipe gives the turn to the subject's right only -20 deg of
    yaw (-21 from the resting 1 deg); the left turn reaches +45."""
    obs = track_clip(REAL)
    base = Baseline.from_observations(obs)
    rel = np.array([o.face.yaw - base.yaw for o in obs if o.face is not None])
    assert -23.0 < rel.min() < -20.0
    assert rel.max() > 40.0


def test_yaw_is_not_hidden_by_roll(track_clip):
    """The Euler yaw agrees with the roll-free yaw of the face's forward axis in the right
    turn that comes with 13 degrees of roll (and within a few degrees over the whole clip,
    where the looks up and down add pitch)."""
    in_turn, anywhere = 0.0, 0.0
    for obs in track_clip(REAL):
        face = obs.face
        r = face.matrix[:3, :3].astype(np.float64)
        r /= np.linalg.norm(r, axis=0)
        forward_yaw = math.degrees(math.atan2(r[0, 2], r[2, 2]))
        gap = abs(forward_yaw - face.yaw)
        anywhere = max(anywhere, gap)
        if 7.3 <= obs.media_t <= 10.6:
            assert abs(face.roll) < 16.0
            in_turn = max(in_turn, gap)
    assert in_turn < 1.5
    assert anywhere < 3.0


@pytest.mark.parametrize("step", [1, 2], ids=["30fps", "15fps"])
@pytest.mark.parametrize("name", ["d0", "d5", "d13", "d19"])
def test_smile_clips(track_clip, manifest_rows, step, name):
    path = D + name + ".mp4"
    events = clip_events(track_clip, path, step)
    smiles = [e for e in events if e.action == "smile"]
    labelled = labels_of(manifest_rows, path, "smile")
    if name == "d5":
        # d5's first smile (0.0-1.2 s) is "slight" and fills the clip's opening: the face
        # never leaves that expression before, so there is nothing to measure it against.
        labelled = [lab for lab in labelled if lab.start > 1.0]
    for label in labelled:
        assert any(overlaps(s, label) for s in smiles), label
    if name != "d13":  # d13 smiles while talking between its labelled smiles
        stray = [s for s in smiles if not any(overlaps(s, lab) for lab in labelled)]
        assert stray == []
    # No head turns on these clips.
    assert not any(e.action in ("turn_left", "turn_right") for e in events)
