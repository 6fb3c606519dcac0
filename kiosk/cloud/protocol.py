"""The face-matcher interface the session is written against."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np

from kiosk.cloud.results import FaceBox, MatchResult, SearchResult

BoxLike = FaceBox | tuple[float, float, float, float]


class LiveFrame(NamedTuple):
    """One live frame offered for comparison.

    Attributes
    ----------
    image : ndarray (H, W, 3) uint8
        BGR pixels.
    box : FaceBox or (x0, y0, x1, y1) or None
        The tracked face (MediaPipe's landmark box); None lets the matcher find the face.
    """

    image: np.ndarray
    box: BoxLike | None = None


@runtime_checkable
class FaceMatcher(Protocol):
    """Compares the live best frame with a reference photo.

    Attributes
    ----------
    name : str
        ``"rekognition"``, ``"local"`` or ``"rekognition+local"`` (cloud with local fallback).
    threshold : float
        Similarity (0-100) needed for a match.
    """

    name: str
    threshold: float

    def compare(self, live: np.ndarray, reference: np.ndarray, *,
                live_box: BoxLike | None = None) -> MatchResult:
        """Compare the face in ``live`` with the face in ``reference``.

        Parameters
        ----------
        live : ndarray (H, W, 3) uint8
            The best live frame, BGR.
        reference : ndarray (H, W, 3) uint8
            The ID or enrolment photo, BGR, orientation already applied.
        live_box : FaceBox or (x0, y0, x1, y1), optional
            The tracked face in ``live`` in pixels (MediaPipe's landmark box). When given, the
            match must be on this face.

        Raises
        ------
        NoFaceInImage, SeveralFaces
            The reference photo has no face, or several of comparable size.
        CloudError
            Any other failure, with a plain message.
        """
        ...


@runtime_checkable
class MemberSearcher(Protocol):
    """A matcher that can search the enrolled members' faces (member check-in)."""

    name: str

    def search(self, live: np.ndarray, *, live_box: BoxLike | None = None) -> SearchResult:
        """SearchFacesByImage in ``matching.collection_id`` with the live frame.

        Parameters
        ----------
        live : ndarray (H, W, 3) uint8
            The best live frame, BGR.
        live_box : FaceBox or (x0, y0, x1, y1), optional
            The tracked face in pixels: a member found on another face does not count.

        Raises
        ------
        CloudError
            The search could not be made (no collection, AWS not usable), with a plain
            message.
        """
        ...


def compare_frames(matcher: FaceMatcher, frames: Sequence[LiveFrame],
                   reference: np.ndarray) -> MatchResult:
    """Compare several live frames (best first) with the reference.

    Matchers with a ``compare_frames`` method (the local matcher combines up to all of them;
    Rekognition uses the first, and the second only when the first fails its quality check)
    get every frame; any other :class:`FaceMatcher` gets the first one through ``compare``.

    Raises
    ------
    ValueError
        ``frames`` is empty.
    """
    if not frames:
        raise ValueError("frames must hold at least one live frame")
    several = getattr(matcher, "compare_frames", None)
    if several is not None:
        return several(list(frames), reference)
    first = frames[0]
    return matcher.compare(first.image, reference, live_box=first.box)
