"""Realistic Rekognition responses for botocore's Stubber (shapes as in the API reference).

Stubber validates every response against the service model, so a field with a wrong name or
type fails the test that uses it.
"""

from __future__ import annotations

from typing import Any

META = {"HTTPStatusCode": 200, "RequestId": "5b1f4c5e-0d1e-4c6a-9a53-2f0f2b8f3a11",
        "RetryAttempts": 0}


def bbox(left: float, top: float, width: float, height: float) -> dict[str, float]:
    return {"Width": width, "Height": height, "Left": left, "Top": top}


def landmarks(box: dict[str, float]) -> list[dict[str, Any]]:
    left, top, width, height = box["Left"], box["Top"], box["Width"], box["Height"]
    points = {"eyeLeft": (0.3, 0.4), "eyeRight": (0.7, 0.4), "mouthLeft": (0.35, 0.75),
              "mouthRight": (0.65, 0.75), "nose": (0.5, 0.58)}
    return [{"Type": name, "X": left + fx * width, "Y": top + fy * height}
            for name, (fx, fy) in points.items()]


def compared_face(box: dict[str, float], confidence: float = 99.99) -> dict[str, Any]:
    return {"BoundingBox": box, "Confidence": confidence, "Landmarks": landmarks(box),
            "Pose": {"Roll": -1.8, "Yaw": 4.2, "Pitch": -3.1},
            "Quality": {"Brightness": 71.4, "Sharpness": 86.9},
            "Emotions": [{"Type": "CALM", "Confidence": 93.1}],
            "Smile": {"Value": False, "Confidence": 97.2}}


def compare_faces(matches: list[tuple[dict[str, float], float]],
                  unmatched: list[dict[str, float]] = ()) -> dict[str, Any]:
    """A CompareFaces response: (box, similarity) matches and unmatched boxes (target faces)."""
    return {
        "SourceImageFace": {"BoundingBox": bbox(0.31, 0.22, 0.38, 0.46), "Confidence": 99.98},
        "FaceMatches": [{"Similarity": sim, "Face": compared_face(box)} for box, sim in matches],
        "UnmatchedFaces": [compared_face(box) for box in unmatched],
        "ResponseMetadata": META,
    }


def face_detail(box: dict[str, float], *, eyes_open: bool = True, yaw: float = 4.2,
                pitch: float = -3.1, roll: float = -1.8, sharpness: float = 86.9,
                brightness: float = 71.4, occluded: bool = False) -> dict[str, Any]:
    """One DetectFaces FaceDetail with Attributes=['ALL']."""
    return {
        "BoundingBox": box,
        "AgeRange": {"Low": 27, "High": 35},
        "Smile": {"Value": False, "Confidence": 97.2},
        "Eyeglasses": {"Value": False, "Confidence": 99.1},
        "Sunglasses": {"Value": False, "Confidence": 99.9},
        "Gender": {"Value": "Male", "Confidence": 99.6},
        "Beard": {"Value": False, "Confidence": 91.3},
        "Mustache": {"Value": False, "Confidence": 96.8},
        "EyesOpen": {"Value": eyes_open, "Confidence": 98.4},
        "MouthOpen": {"Value": False, "Confidence": 95.5},
        "Emotions": [{"Type": "CALM", "Confidence": 93.1}, {"Type": "HAPPY", "Confidence": 2.4}],
        "Landmarks": landmarks(box),
        "Pose": {"Roll": roll, "Yaw": yaw, "Pitch": pitch},
        "Quality": {"Brightness": brightness, "Sharpness": sharpness},
        "Confidence": 99.99,
        "FaceOccluded": {"Value": occluded, "Confidence": 97.7},
        "EyeDirection": {"Yaw": 2.1, "Pitch": -4.0, "Confidence": 99.2},
    }


def detect_faces(*details: dict[str, Any]) -> dict[str, Any]:
    return {"FaceDetails": list(details), "ResponseMetadata": META}


def search_faces(box: dict[str, float], found: list[tuple[str, str, float]]) -> dict[str, Any]:
    """SearchFacesByImage: (external id, face id, similarity) matches."""
    return {
        "SearchedFaceBoundingBox": box,
        "SearchedFaceConfidence": 99.97,
        "FaceMatches": [{"Similarity": sim,
                         "Face": {"FaceId": face_id, "BoundingBox": bbox(0.2, 0.2, 0.5, 0.6),
                                  "ImageId": "0d3a1c0e-6d2b-4c3b-8a4e-6b1f0f3b9e21",
                                  "ExternalImageId": member, "Confidence": 99.99,
                                  "IndexFacesModelVersion": "7.0"}}
                        for member, face_id, sim in found],
        "FaceModelVersion": "7.0",
        "ResponseMetadata": META,
    }


def index_faces(face_id: str | None, member: str, box: dict[str, float],
                unindexed: list[tuple[list[str], dict[str, float]]] = ()) -> dict[str, Any]:
    records = [] if face_id is None else [{
        "Face": {"FaceId": face_id, "BoundingBox": box,
                 "ImageId": "9f1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d", "ExternalImageId": member,
                 "Confidence": 99.99},
        "FaceDetail": {"BoundingBox": box, "Confidence": 99.99, "Landmarks": landmarks(box),
                       "Pose": {"Roll": 1.0, "Yaw": -2.0, "Pitch": 3.0},
                       "Quality": {"Brightness": 80.0, "Sharpness": 92.0}},
    }]
    return {
        "FaceRecords": records,
        "UnindexedFaces": [{"Reasons": reasons,
                            "FaceDetail": {"BoundingBox": ubox, "Confidence": 99.5}}
                           for reasons, ubox in unindexed],
        "FaceModelVersion": "7.0",
        "ResponseMetadata": META,
    }


def list_faces(faces: list[tuple[str, str]], next_token: str | None = None) -> dict[str, Any]:
    """ListFaces page of (face id, external id)."""
    response: dict[str, Any] = {
        "Faces": [{"FaceId": face_id, "BoundingBox": bbox(0.2, 0.2, 0.5, 0.6),
                   "ImageId": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "ExternalImageId": member,
                   "Confidence": 99.9, "IndexFacesModelVersion": "7.0"}
                  for face_id, member in faces],
        "FaceModelVersion": "7.0",
        "ResponseMetadata": META,
    }
    if next_token:
        response["NextToken"] = next_token
    return response
