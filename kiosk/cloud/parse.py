"""Rekognition responses -> the kiosk's dataclasses (pure functions, no I/O).

Rekognition gives boxes as ratios of the image size; they are turned into pixels of the frame
the kiosk holds (the JPEG sent may be a downscaled copy, which ratios do not care about).

Responses are read defensively. botocore turns a 200 answer with an empty body or an HTML page
into an empty dictionary, and passes fields of the wrong type through; reading those as "no
face" would fail an honest person and count toward their lockout. Every field is checked for
its type, and an answer that lacks every field its operation always returns is a
:class:`~kiosk.cloud.errors.MalformedResponse` (a ``CloudUnavailable``: the offline fallback
applies).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiosk.cloud.detect import COMPARABLE_FACE_RATIO, comparable_faces
from kiosk.cloud.errors import MalformedResponse
from kiosk.cloud.results import FaceBox, MatchResult, QualityReport, SearchMatch, same_face
from kiosk.reasons import Reason


def malformed(what: str) -> MalformedResponse:
    """The error for an answer that cannot be read; ``what`` names the faulty part."""
    return MalformedResponse(f"Rekognition's answer could not be read ({what})")


def mapping(value: Any, what: str) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else MalformedResponse."""
    if not isinstance(value, Mapping):
        raise malformed(f"{what} is {type(value).__name__}, not an object")
    return value


def items(response: Mapping[str, Any], key: str, what: str, *,
          required: bool = False) -> list[Mapping[str, Any]]:
    """The list of objects under ``key`` ([] when absent and not ``required``)."""
    value = response.get(key)
    if value is None:
        if required:
            raise malformed(f"{what} has no {key}")
        return []
    if not isinstance(value, list | tuple):
        raise malformed(f"{what}.{key} is {type(value).__name__}, not a list")
    return [mapping(v, f"an item of {what}.{key}") for v in value]


def number(source: Mapping[str, Any], key: str, what: str) -> float | None:
    """A finite number under ``key``, None when absent (a boolean or a string is refused)."""
    value = source.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value):
        raise malformed(f"{what}.{key} is {value!r}, not a number")
    return float(value)


def text(source: Mapping[str, Any], key: str, what: str) -> str | None:
    """A string under ``key``, None when absent."""
    value = source.get(key)
    if value is not None and not isinstance(value, str):
        raise malformed(f"{what}.{key} is {type(value).__name__}, not a string")
    return value


def _flag(source: Mapping[str, Any], key: str, what: str) -> bool | None:
    """The ``Value`` of an attribute like ``{"EyesOpen": {"Value": true, ...}}``."""
    value = source.get(key)
    if value is None:
        return None
    inner = mapping(value, f"{what}.{key}").get("Value")
    if inner is None:
        return None
    if not isinstance(inner, bool):
        raise malformed(f"{what}.{key}.Value is {inner!r}, not true or false")
    return inner


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


def box_from_ratios(box: Any, shape: Sequence[int]) -> FaceBox:
    """Rekognition ``BoundingBox`` (ratios) -> pixels of an image of ``shape`` (H, W, ...).

    Raises
    ------
    MalformedResponse
        ``box`` is not an object of numbers, or has a negative width or height.
    """
    box = mapping(box, "a BoundingBox")
    height, width = float(shape[0]), float(shape[1])
    left = number(box, "Left", "BoundingBox") or 0.0
    top = number(box, "Top", "BoundingBox") or 0.0
    box_width = number(box, "Width", "BoundingBox") or 0.0
    box_height = number(box, "Height", "BoundingBox") or 0.0
    if box_width < 0 or box_height < 0:
        raise malformed("a BoundingBox has a negative size")
    return FaceBox(left * width, top * height, (left + box_width) * width,
                   (top + box_height) * height)


def _face_box(face: Mapping[str, Any], shape: Sequence[int]) -> FaceBox:
    return box_from_ratios(face.get("BoundingBox", {}), shape)


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
    details = items(mapping(response, "DetectFaces"), "FaceDetails", "DetectFaces",
                    required=True)
    if not details:
        return QualityReport(faces=0, reasons=(Reason.CLOUD_QUALITY_NO_FACE,))
    boxes = [_face_box(d, shape) for d in details]
    main_index = max(range(len(details)), key=lambda i: _area(boxes[i]))
    face, box = details[main_index], boxes[main_index]
    reasons: list[str] = []
    # A second face counts when it is comparable in size, as for the kiosk's tracker
    # (kiosk.model.COMPARABLE_FACE_RATIO): a photo held beside the head is flagged, the next
    # person in a queue a metre behind is not.
    if comparable_faces(boxes) > 1:
        reasons.append(Reason.CLOUD_QUALITY_MULTIPLE_FACES)
    eyes_open = _flag(face, "EyesOpen", "FaceDetail")
    if eyes_open is False:
        reasons.append(Reason.CLOUD_EYES_CLOSED)
    pose = mapping(face.get("Pose", {}), "FaceDetail.Pose")
    yaw, pitch, roll = (number(pose, k, "Pose") for k in ("Yaw", "Pitch", "Roll"))
    if (yaw is not None and abs(yaw) > limits.max_yaw) or (
            pitch is not None and abs(pitch) > limits.max_pitch) or (
            limits.max_roll is not None and roll is not None and abs(roll) > limits.max_roll):
        reasons.append(Reason.CLOUD_POSE)
    quality = mapping(face.get("Quality", {}), "FaceDetail.Quality")
    sharpness = number(quality, "Sharpness", "Quality")
    brightness = number(quality, "Brightness", "Quality")
    if sharpness is not None and sharpness < limits.min_sharpness:
        reasons.append(Reason.CLOUD_BLURRY)
    if brightness is not None and brightness < limits.min_brightness:
        reasons.append(Reason.CLOUD_DARK)
    if _flag(face, "FaceOccluded", "FaceDetail"):
        reasons.append(Reason.CLOUD_OCCLUDED)
    if live_box is not None and not same_face(box, live_box):
        reasons.append(Reason.CLOUD_BOX_MISMATCH)
    return QualityReport(faces=len(details), reasons=tuple(reasons), box=box,
                         eyes_open=eyes_open, yaw=yaw, pitch=pitch, roll=roll,
                         sharpness=sharpness, brightness=brightness,
                         confidence=number(face, "Confidence", "FaceDetail"))


def match_from_compare(response: Mapping[str, Any], shape: Sequence[int], threshold: float,
                       live_box: FaceBox | None = None,
                       ratio: float = COMPARABLE_FACE_RATIO) -> MatchResult:
    """Read a CompareFaces response (source = reference photo, target = live frame).

    The match must be on the tracked face when ``live_box`` is given; without it the live
    frame must show one face of comparable size. ``calls`` and ``quality`` are left for the
    caller to fill in.

    Raises
    ------
    MalformedResponse
        The answer has none of SourceImageFace, FaceMatches and UnmatchedFaces (a genuine
        answer always has SourceImageFace: without a face in the source photo Rekognition
        answers with an error instead), or a field of the wrong type.
    """
    response = mapping(response, "CompareFaces")
    if not {"SourceImageFace", "FaceMatches", "UnmatchedFaces"} & set(response):
        raise malformed("CompareFaces returned none of its fields")
    matches = []
    for m in items(response, "FaceMatches", "CompareFaces"):
        similarity = number(m, "Similarity", "FaceMatch")
        if similarity is None:
            raise malformed("a FaceMatch has no Similarity")
        matches.append((_face_box(mapping(m.get("Face", {}), "FaceMatch.Face"), shape),
                        similarity))
    unmatched = [_face_box(f, shape) for f in items(response, "UnmatchedFaces", "CompareFaces")]
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
    response = mapping(response, "SearchFacesByImage")
    if not {"FaceMatches", "SearchedFaceBoundingBox"} & set(response):
        raise malformed("SearchFacesByImage returned none of its fields")
    found = []
    for item in items(response, "FaceMatches", "SearchFacesByImage"):
        face = mapping(item.get("Face", {}), "FaceMatch.Face")
        similarity = number(item, "Similarity", "FaceMatch") or 0.0
        external_id = text(face, "ExternalImageId", "Face")
        if similarity >= threshold and external_id:
            found.append(SearchMatch(external_id=external_id,
                                     face_id=text(face, "FaceId", "Face") or "",
                                     similarity=similarity))
    found.sort(key=lambda m: m.similarity, reverse=True)
    return tuple(found)
