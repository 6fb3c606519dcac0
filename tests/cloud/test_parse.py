"""Rekognition responses -> dataclasses: the quality cross-check and CompareFaces reading."""

from __future__ import annotations

import pytest

from kiosk.cloud.parse import QualityLimits, box_from_ratios, match_from_compare, quality_report
from kiosk.cloud.results import FaceBox
from kiosk.reasons import Reason
from tests.cloud import responses as r

SHAPE = (480, 640, 3)
FACE = r.bbox(0.35, 0.25, 0.3, 0.45)


def test_box_from_ratios_is_in_pixels():
    box = box_from_ratios(FACE, SHAPE)
    assert box.as_tuple() == pytest.approx((224.0, 120.0, 416.0, 336.0))


@pytest.mark.parametrize(("kwargs", "reason"), [
    ({"eyes_open": False}, Reason.CLOUD_EYES_CLOSED),
    ({"yaw": 52.0}, Reason.CLOUD_POSE),
    ({"yaw": -46.0}, Reason.CLOUD_POSE),
    ({"pitch": -33.0}, Reason.CLOUD_POSE),
    ({"sharpness": 6.5}, Reason.CLOUD_BLURRY),
    ({"brightness": 12.0}, Reason.CLOUD_DARK),
    ({"occluded": True}, Reason.CLOUD_OCCLUDED),
])
def test_each_quality_problem_has_its_reason(kwargs, reason):
    report = quality_report(r.detect_faces(r.face_detail(FACE, **kwargs)), SHAPE)
    assert report.reasons == (reason,)
    assert not report.passed


def test_good_frame_passes_and_keeps_the_numbers():
    report = quality_report(r.detect_faces(r.face_detail(FACE, roll=80.0)), SHAPE)
    assert report.passed  # AWS: any roll is fine
    assert (report.yaw, report.pitch, report.roll) == (4.2, -3.1, 80.0)
    assert report.brightness == 71.4 and report.confidence == 99.99


def test_limits_are_configurable():
    strict = QualityLimits(max_yaw=3.0, max_roll=10.0, min_sharpness=90.0)
    report = quality_report(r.detect_faces(r.face_detail(FACE, roll=12.0)), SHAPE, strict)
    assert report.reasons == (Reason.CLOUD_POSE, Reason.CLOUD_BLURRY)


def test_no_face_and_several_faces():
    assert quality_report(r.detect_faces(), SHAPE).reasons == (Reason.CLOUD_QUALITY_NO_FACE,)
    # A face beside the main one and of comparable size (a photo held up) is reported; one
    # far smaller (the next person in a queue, far behind) is not, as for the tracker.
    beside = r.bbox(0.70, 0.1, 0.20, 0.25)
    report = quality_report(r.detect_faces(r.face_detail(beside), r.face_detail(FACE)), SHAPE)
    assert report.reasons == (Reason.CLOUD_QUALITY_MULTIPLE_FACES,)
    assert report.box == box_from_ratios(FACE, SHAPE)  # the largest face is described
    small = r.bbox(0.85, 0.1, 0.06, 0.08)
    report = quality_report(r.detect_faces(r.face_detail(small), r.face_detail(FACE)), SHAPE)
    assert report.reasons == () and report.box == box_from_ratios(FACE, SHAPE)


def test_disagreement_with_the_tracker_is_a_reason():
    tracked_elsewhere = FaceBox(10, 10, 120, 150)
    report = quality_report(r.detect_faces(r.face_detail(FACE)), SHAPE,
                            live_box=tracked_elsewhere)
    assert report.reasons == (Reason.CLOUD_BOX_MISMATCH,)


def test_compare_without_tracked_box():
    one = match_from_compare(r.compare_faces([(FACE, 98.0)]), SHAPE, 95.0)
    assert one.matched and one.similarity == 98.0 and one.live_faces == 1
    none = match_from_compare(r.compare_faces([]), SHAPE, 95.0)
    assert not none.matched and none.reasons == (Reason.MATCH_NO_FACE_LIVE,) and none.live_faces == 0
    miss = match_from_compare(r.compare_faces([], [FACE]), SHAPE, 95.0)
    assert not miss.matched and miss.reasons == (Reason.MATCH_BELOW_THRESHOLD,)
    two = match_from_compare(r.compare_faces([(FACE, 99.0)], [r.bbox(0.0, 0.2, 0.25, 0.4)]),
                             SHAPE, 95.0)
    assert not two.matched and two.reasons == (Reason.MATCH_SEVERAL_FACES_LIVE,)
    assert two.similarity == 99.0
    ghost = match_from_compare(r.compare_faces([(FACE, 99.0)], [r.bbox(0.9, 0.1, 0.05, 0.07)]),
                               SHAPE, 95.0)
    assert ghost.matched and ghost.live_faces == 2


def test_similarity_below_the_threshold_does_not_match_even_if_listed():
    # Rekognition filters by the threshold it was sent; the client re-checks all the same.
    result = match_from_compare(r.compare_faces([(FACE, 90.0)]), SHAPE, 95.0)
    assert not result.matched and result.reasons == (Reason.MATCH_BELOW_THRESHOLD,)
