"""The face matcher in a child process: results, errors, a dead child, a hung child."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from kiosk.cloud.errors import CloudTimeout, CloudUnavailable, NoFaceInImage
from kiosk.cloud.protocol import LiveFrame
from kiosk.cloud.results import MatchResult
from kiosk.errors import ResourceError
from kiosk.matcher_process import ProcessMatcher, settings_from_dict
from kiosk.settings import Settings


class EchoMatcher:
    """Matches when the two images have the same mean; misbehaves on request."""

    name = "echo"

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def compare(self, live, reference, *, live_box=None):
        mean = float(live.mean())
        if mean == 1.0:
            raise NoFaceInImage("no face was found in the live frame")
        if mean == 2.0:
            os._exit(3)  # the child dies
        if mean == 3.0:
            time.sleep(30)  # the child hangs
        return MatchResult(matched=mean == float(reference.mean()), similarity=99.0,
                           threshold=self.threshold, matcher=f"echo pid {os.getpid()}",
                           offline=True)


def echo_factory(settings):
    return EchoMatcher(settings.matching.similarity_threshold)


def broken_factory(settings):
    raise ResourceError("the face models are missing")


def image(value: float) -> np.ndarray:
    return np.full((4, 4, 3), value, np.uint8)


def test_settings_survive_the_trip_as_a_dict():
    s = Settings().replace("kiosk", mode="staffed").replace("matching", similarity_threshold=80.0)
    assert settings_from_dict(s.as_dict()) == s


def test_the_child_compares_and_reports_errors_and_deaths():
    matcher = ProcessMatcher(echo_factory,
                             Settings().replace("matching", similarity_threshold=80.0),
                             timeout_s=1.0)
    try:
        # The child's class, and its name for the audit row (a matcher that failed has no
        # result to name it: before, the session could not say which matcher failed).
        assert (matcher.kind, matcher.name) == ("EchoMatcher", "echo")
        result = matcher.compare(image(9), image(9), live_box=(0, 0, 2, 2))
        assert result.matched and result.threshold == 80.0
        child = result.matcher
        assert child != f"echo pid {os.getpid()}"
        assert not matcher.compare(image(9), image(8)).matched
        with pytest.raises(NoFaceInImage, match="live frame"):
            matcher.compare(image(1), image(9))
        with pytest.raises(CloudUnavailable, match="process stopped"):
            matcher.compare(image(2), image(9))
        # The next call starts a new child.
        result = matcher.compare(image(5), image(5))
        assert result.matched and result.matcher != child
        with pytest.raises(CloudTimeout, match="longer than 1 s"):
            matcher.compare(image(3), image(9))
        assert matcher.compare(image(6), image(6)).matched
    finally:
        matcher.close()
    matcher.close()


def test_a_factory_error_is_raised_at_construction():
    with pytest.raises(ResourceError, match="face models are missing"):
        ProcessMatcher(broken_factory, Settings())


class FramesMatcher(EchoMatcher):
    """Also compares several frames: matches when every frame's mean is the reference's."""

    def compare_frames(self, frames, reference):
        target = float(reference.mean())
        return MatchResult(matched=all(float(f.image.mean()) == target for f in frames),
                           similarity=99.0, threshold=self.threshold, matcher="frames",
                           offline=True, frames=len(frames))


def frames_factory(settings):
    return FramesMatcher(settings.matching.similarity_threshold)


def test_several_frames_reach_the_child_with_their_boxes():
    matcher = ProcessMatcher(frames_factory, Settings(), timeout_s=5.0)
    try:
        frames = [LiveFrame(image(7), (0, 0, 2, 2)), LiveFrame(image(7), (1, 1, 3, 3))]
        result = matcher.compare_frames(frames, image(7))
        assert result.matched and result.frames == 2 and result.matcher == "frames"
        assert not matcher.compare_frames(frames + [LiveFrame(image(6))], image(7)).matched
    finally:
        matcher.close()


def test_a_matcher_without_compare_frames_gets_the_first_frame():
    matcher = ProcessMatcher(echo_factory, Settings(), timeout_s=5.0)
    try:
        result = matcher.compare_frames([LiveFrame(image(4)), LiveFrame(image(9))], image(4))
        assert result.matched  # only the first frame (mean 4) was compared
    finally:
        matcher.close()
