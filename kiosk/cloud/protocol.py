"""The face-matcher interface the session is written against."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from kiosk.cloud.results import FaceBox, MatchResult

BoxLike = FaceBox | tuple[float, float, float, float]


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
