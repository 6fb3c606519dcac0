"""Enrolling and removing members in the Rekognition collection.

A member is one ``ExternalImageId`` (the member id); Rekognition keeps only a face vector and
that id, never the photo. Enrolment is one IndexFaces call when the collection exists (two more,
CreateCollection and a second IndexFaces, the first time).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from kiosk.cloud.detect import COMPARABLE_FACE_RATIO
from kiosk.cloud.errors import (
    CloudError,
    CollectionNotFound,
    ImageRejected,
    NoFaceInImage,
    NotEnrolled,
    SeveralFaces,
)
from kiosk.cloud.images import check_image, encode_jpeg
from kiosk.cloud.parse import items, malformed, mapping, number, text
from kiosk.cloud.results import EnrolResult, RemoveResult
from kiosk.errors import InputError

log = logging.getLogger(__name__)

Call = Callable[..., dict[str, Any]]

#: Rekognition's ExternalImageId pattern and length; matched with ``fullmatch`` (``$`` would
#: also accept a trailing newline, which AWS then refuses as if the photo had no face).
MEMBER_ID = re.compile(r"[a-zA-Z0-9_.\-:]{1,255}")
#: Largest page ListFaces returns and batch DeleteFaces accepts.
PAGE = 4096


def check_member_id(member_id: str) -> str:
    """Return ``member_id`` if Rekognition accepts it as an ExternalImageId.

    Raises
    ------
    InputError
        Empty, longer than 255 characters, or other characters than letters, digits and
        ``_ . - :``.
    """
    if not isinstance(member_id, str) or not MEMBER_ID.fullmatch(member_id):
        raise InputError(f"member id {_shown(member_id)} is not valid ({_why(member_id)}): "
                         "use 1-255 letters, digits and _ . - : (no spaces, no personal data)")
    return member_id


def _shown(member_id: object) -> str:
    """The id as quoted in a message: cut short, so a pasted blob stays one readable line."""
    text = repr(member_id)
    return text if len(text) <= 40 else text[:36] + "...'"


def _why(member_id: object) -> str:
    """What is wrong with an id :data:`MEMBER_ID` refuses."""
    if not isinstance(member_id, str):
        return f"a {type(member_id).__name__}, not text"
    if not member_id:
        return "it is empty"
    if len(member_id) > 255:
        return f"it is {len(member_id)} characters long"
    bad = sorted({ch for ch in member_id if not MEMBER_ID.fullmatch(ch)})
    return "it contains " + " ".join(repr(ch) for ch in bad[:5])


def enrol(call: Call, collection_id: str, member_id: str, photo: np.ndarray, *,
          quality_filter: str = "AUTO") -> EnrolResult:
    """Index the one face of ``photo`` under ``member_id``.

    Parameters
    ----------
    call : RekognitionCaller
        Calls Rekognition and maps errors.
    photo : ndarray (H, W, 3) uint8
        BGR member photo, upright.

    Raises
    ------
    NoFaceInImage
        Rekognition found no face.
    ImageRejected
        The face was found but refused by the quality filter (reasons in the message).
    SeveralFaces
        Another face of comparable size was in the photo; the indexed face is deleted again.
    """
    check_member_id(member_id)
    check_image(photo, "photo")
    before = getattr(call, "count", 0)
    params = dict(CollectionId=collection_id, Image={"Bytes": encode_jpeg(photo)},
                  ExternalImageId=member_id, MaxFaces=1, QualityFilter=quality_filter,
                  DetectionAttributes=["DEFAULT"])
    created = False
    try:
        response = call("IndexFaces", **params)
    except CollectionNotFound:
        created = create_collection(call, collection_id)
        response = call("IndexFaces", **params)
    if not {"FaceRecords", "UnindexedFaces"} & set(response):
        raise malformed("IndexFaces returned none of its fields")
    records = items(response, "FaceRecords", "IndexFaces")
    unindexed = items(response, "UnindexedFaces", "IndexFaces")
    if not records:
        reasons = sorted({str(r) for face in unindexed for r in face.get("Reasons") or []})
        if reasons:
            raise ImageRejected("Rekognition did not accept the face in the member photo ("
                                + ", ".join(reasons) + "); use a sharp, well-lit frontal photo")
        raise NoFaceInImage("Rekognition found no face in the member photo")
    face = mapping(records[0].get("Face"), "FaceRecord.Face")
    face_id = text(face, "FaceId", "Face")
    if not face_id:
        raise malformed("the indexed face has no FaceId")
    width = _width(face)
    others = [u for u in unindexed if "EXCEEDS_MAX_FACES" in (u.get("Reasons") or [])
              and _width(mapping(u.get("FaceDetail", {}), "FaceDetail"))
              >= COMPARABLE_FACE_RATIO * width]
    if others:
        # The photo shows more than one person: the enrolment would be ambiguous, so undo it.
        call("DeleteFaces", CollectionId=collection_id, FaceIds=[face_id])
        raise SeveralFaces(f"the member photo shows {1 + len(others)} faces; it must show "
                           "exactly one person")
    log.info("enrolled member %s in collection %s", member_id, collection_id)
    return EnrolResult(collection_id=collection_id, member_id=member_id, face_id=face_id,
                       created_collection=created, calls=getattr(call, "count", 0) - before)


def _width(face: Any) -> float:
    """The width ratio of a face's BoundingBox (0 when absent)."""
    box = mapping(face.get("BoundingBox", {}), "BoundingBox")
    return number(box, "Width", "BoundingBox") or 0.0


def create_collection(call: Call, collection_id: str) -> bool:
    """Create the collection; False when another process created it first."""
    try:
        call("CreateCollection", CollectionId=collection_id)
    except CloudError as exc:
        if exc.aws_code == "ResourceAlreadyExistsException":
            return False
        raise
    log.info("created Rekognition collection %s", collection_id)
    return True


def member_faces(call: Call, collection_id: str, member_id: str) -> list[str]:
    """Face ids indexed under ``member_id`` (ListFaces, paginated)."""
    found: list[str] = []
    token = None
    while True:
        params: dict[str, Any] = dict(CollectionId=collection_id, MaxResults=PAGE)
        if token:
            params["NextToken"] = token
        response = call("ListFaces", **params)
        found += [str(f.get("FaceId")) for f in items(response, "Faces", "ListFaces",
                                                       required=True)
                  if f.get("ExternalImageId") == member_id and f.get("FaceId")]
        token = text(response, "NextToken", "ListFaces")
        if not token:
            return found


def remove(call: Call, collection_id: str, member_id: str,
           face_ids: tuple[str, ...] | None = None) -> RemoveResult:
    """Delete a member's faces from the collection.

    Parameters
    ----------
    face_ids : tuple of str, optional
        The member's face ids when the caller stored them (saves the ListFaces pages).

    Raises
    ------
    NotEnrolled
        No face is indexed under ``member_id``.
    """
    check_member_id(member_id)
    before = getattr(call, "count", 0)
    ids = list(face_ids) if face_ids else member_faces(call, collection_id, member_id)
    if not ids:
        raise NotEnrolled(f"member {member_id} is not enrolled in collection {collection_id}")
    deleted: list[str] = []
    for start in range(0, len(ids), PAGE):
        response = call("DeleteFaces", CollectionId=collection_id, FaceIds=ids[start:start + PAGE])
        faces = response.get("DeletedFaces", [])
        if not isinstance(faces, list) or not all(isinstance(f, str) for f in faces):
            raise malformed("DeleteFaces.DeletedFaces is not a list of face ids")
        deleted += faces
    if not deleted:
        raise NotEnrolled(f"member {member_id} has no face left to delete in {collection_id}")
    log.info("removed member %s (%d faces) from collection %s", member_id, len(deleted),
             collection_id)
    return RemoveResult(collection_id=collection_id, member_id=member_id,
                        face_ids=tuple(deleted), calls=getattr(call, "count", 0) - before)
