"""The documented distance-to-similarity scale of the local matcher."""

from __future__ import annotations

import math

import pytest

from kiosk.cloud.calibration import DLIB_LFW_THRESHOLD, DLIB_SCALE, SimilarityScale


def test_anchors():
    assert DLIB_SCALE.similarity(DLIB_LFW_THRESHOLD) == pytest.approx(50.0)
    assert DLIB_SCALE.similarity(0.45) == pytest.approx(95.0)
    assert DLIB_SCALE.distance_at(95.0) == pytest.approx(0.45)
    assert DLIB_SCALE.s == pytest.approx(0.15 / math.log(19))


@pytest.mark.parametrize(("distance", "similarity"), [
    (0.30, 99.7), (0.40, 98.1), (0.50, 87.7), (0.70, 12.3), (0.80, 1.9)])
def test_documented_values(distance, similarity):
    assert DLIB_SCALE.similarity(distance) == pytest.approx(similarity, abs=0.05)


def test_decreasing_and_bounded():
    values = [DLIB_SCALE.similarity(d / 100) for d in range(0, 200)]
    assert all(a > b for a, b in zip(values, values[1:], strict=False))
    assert 0.0 <= values[-1] < values[0] <= 100.0
    assert DLIB_SCALE.similarity(1e6) == 0.0  # no overflow


def test_inverse():
    for similarity in (1.0, 50.0, 90.0, 99.0):
        assert DLIB_SCALE.similarity(DLIB_SCALE.distance_at(similarity)) == pytest.approx(
            similarity)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="d95 must be smaller"):
        SimilarityScale.from_anchors(d50=0.4, d95=0.5)
    with pytest.raises(ValueError, match="s must be positive"):
        SimilarityScale(d50=0.6, s=0.0)
    with pytest.raises(ValueError, match="distance"):
        DLIB_SCALE.similarity(-0.1)
    with pytest.raises(ValueError, match="strictly between"):
        DLIB_SCALE.distance_at(100.0)
