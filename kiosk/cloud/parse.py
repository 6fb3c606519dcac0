"""Rekognition responses -> the kiosk's dataclasses (pure functions, no I/O).

Rekognition gives boxes as ratios of the image size; they are turned into pixels of the frame
the kiosk holds (the JPEG sent may be a downscaled copy, which ratios do not care about).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiosk.cloud.detect import COMPARABLE_FACE_RATIO, comparable_faces
from kiosk.cloud.results import FaceBox, MatchResult, QualityReport, SearchMatch, same_face
from kiosk.reasons import Reason


@dataclass(frozen=True)
class QualityLimits:
    """Limits of the DetectFaces cross-check of the live frame.

    The pose limits are AWS's recommendations for face comparison images (yaw under 45 degrees
    either way, pitch under 30 degrees face-down and 45 face-up, any roll), taking the stricter
    30 for pitch in both directions. AWS publishes no numeric floor for its 0-100 Sharpness and
    Brightness; the defaults are conservative floors that flag clearly blurred or dark faces
    only, to be revisited with field data.
    """

    max_yaw: float = 45.0
    max_pitch: float = 30.0
    max_roll: float | None = None
    min_sharpness: float = 10.0
    min_brightness: float = 20.0


DEFAULT_LIMITS = QualityLimits()


def box_from_ratios(box: Mapping[str, float], shape: Sequence[int]) -> FaceBox:
    """Rekognition ``BoundingBox`` (ratios) -> pixels of an image of ``shape`` (H, W, ...)."""
    height, width = float(shape[0]), float(shape[1])
    left, top = float(box.get("Left", 0.0)), float(box.get("Top", 0.0))
    right = left + float(box.get("Width", 0.0))
    bottom = top + float(box.get("Height", 0.0))
    return FaceBox(left * width, top * height, right * width, bottom * height)


def _area(box: FaceBox) -> float:
    return box.width * box.height


def quality_report(response: Mapping[str, Any], shape: Sequence[int],
                   limits: QualityLimits = DEFAULT_LIMITS,
                   live_box: FaceBox | None = None) -> QualityReport:
    """Check a DetectFaces (``Attributes=['ALL']``) response of the live frame.

    Parameters
    ----------
    response : Mapping
        The DetectFaces response.
    shape : (H, W, ...)
        Shape of the live frame.
    limits : QualityLimits
        The checks' limits.
    live_box : FaceBox, optional
        Where the kiosk's tracker saw the face; a Rekognition face elsewhere is a
        ``CLOUD_BOX_MISMATCH`` (the two analyses disagree).
    """
    details = list(response.get("FaceDetails", []))
    if not details:
        return QualityReport(faces=0, reasons=(Reason.CLOUD_QUALITY_NO_FACE,))
    boxes = [box_from_ratios(d.get("BoundingBox", {}), shape) for d in details]
    main_index = max(range(len(details)), key=lambda i: _area(boxes[i]))
    face, box = details[main_index], boxes[main_index]
    reasons: list[str] = []
    # Every face counts here, not only comparable ones: a second face in front of an
    # unattended kiosk (a photo held beside the head) is exactly what should be flagged.
    if len(details) > 1:
        reasons.append(Reason.CLOUD_QUALITY_MULTIPLE_FACES)
    eyes = face.get("EyesOpen")
    eyes_open = None if eyes is None else bool(eyes.get("Value"))
    if eyes_open is False:
        reasons.append(Reason.CLOUD_EYES_CLOSED)
    pose = face.get("Pose", {})
    yaw, pitch, roll = pose.get("Yaw"), pose.get("Pitch"), pose.get("Roll")
    if (yaw is not None and abs(yaw) > limits.max_yaw) or (
            pitch is not None and abs(pitch) > limits.max_pitch) or (
            limits.max_roll is not None and roll is not None and abs(roll) > limits.max_roll):
        reasons.append(Reason.CLOUD_POSE)
    quality = face.get("Quality", {})
    sharpness, brightness = quality.get("Sharpness"), quality.get("Brightness")
    if sharpness is not None and sharpness < limits.min_sharpness:
        reasons.append(Reason.CLOUD_BLURRY)
    if brightness is not None and brightness < limits.min_brightness:
        reasons.append(Reason.CLOUD_DARK)
    occluded = face.get("FaceOccluded")
    if occluded is not None and occluded.get("Value"):
        reasons.append(Reason.CLOUD_OCCLUDED)
    if live_box is not None and not same_face(box, live_box):
        reasons.append(Reason.CLOUD_BOX_MISMATCH)
    return QualityReport(faces=len(details), reasons=tuple(reasons), box=box,
                         eyes_open=eyes_open, yaw=yaw, pitch=pitch, roll=roll,
                         sharpness=sharpness, brightness=brightness,
                         confidence=face.get("Confidence"))


def match_from_compare(response: Mapping[str, Any], shape: Sequence[int], threshold: float,
                       live_box: FaceBox | None = None,
                       ratio: float = COMPARABLE_FACE_RATIO) -> MatchResult:
    """Read a CompareFaces response (source = reference photo, target = live frame).

    The match must be on the tracked face when ``live_box`` is given; without it the live
    frame must show one face of comparable size. ``calls`` and ``quality`` are left for the
    caller to fill in.
    """
    matches = [(box_from_ratios(m.get("Face", {}).get("BoundingBox", {}), shape),
                float(m.get("Similarity", 0.0))) for m in response.get("FaceMatches", [])]
    unmatched = [box_from_ratios(f.get("BoundingBox", {}), shape)
                 for f in response.get("UnmatchedFaces", [])]
    all_boxes = [b for b, _ in matches] + unmatched
    common: dict[str, Any] = dict(threshold=threshold, matcher="rekognition", offline=False,
                  live_faces=len(all_boxes))
    if not all_boxes:
        return MatchResult(matched=False, similarity=None, reasons=(Reason.MATCH_NO_FACE_LIVE,),
                           **common)
    if live_box is not None:
        candidates = [(b, s) for b, s in matches if same_face(b, live_box)]
        tracked = [b for b in all_boxes if same_face(b, live_box)]
        if not candidates:
            reason = Reason.MATCH_OTHER_FACE if matches else Reason.MATCH_BELOW_THRESHOLD
            return MatchResult(matched=False, similarity=None,
                               face_box=tracked[0] if tracked else None, reasons=(reason,),
                               **common)
    else:
        ranked = sorted(all_boxes, key=_area, reverse=True)
        if comparable_faces(ranked, ratio) > 1:
            best = max((s for _, s in matches), default=None)
            return MatchResult(matched=False, similarity=best,
                               reasons=(Reason.MATCH_SEVERAL_FACES_LIVE,), **common)
        candidates = [(b, s) for b, s in matches if b == ranked[0]]
        if not candidates:
            return MatchResult(matched=False, similarity=None, face_box=ranked[0],
                               reasons=(Reason.MATCH_BELOW_THRESHOLD,), **common)
    box, similarity = max(candidates, key=lambda c: c[1])
    matched = similarity >= threshold
    return MatchResult(matched=matched, similarity=similarity, face_box=box,
                       reasons=() if matched else (Reason.MATCH_BELOW_THRESHOLD,), **common)


def search_matches(response: Mapping[str, Any], threshold: float) -> tuple[SearchMatch, ...]:
    """SearchFacesByImage ``FaceMatches`` at or above ``threshold``, best first."""
    found = []
    for item in response.get("FaceMatches", []):
        face = item.get("Face", {})
        similarity = float(item.get("Similarity", 0.0))
        external_id = face.get("ExternalImageId")
        if similarity >= threshold and external_id:
            found.append(SearchMatch(external_id=external_id, face_id=face.get("FaceId", ""),
                                     similarity=similarity))
    found.sort(key=lambda m: m.similarity, reverse=True)
    return tuple(found)
