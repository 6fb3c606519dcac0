"""The one-face rule: which tracked frames the kiosk may hand the face matcher.

A frame counts only when the face tracker (MediaPipe's Face Landmarker, which looks for up to
:data:`kiosk.analysis.face.MAX_FACES` faces) found exactly one face: a second face at least
:data:`kiosk.model.COMPARABLE_FACE_RATIO` as wide as the main one (a photo or a phone held
beside the face, a second person beside the first) keeps the frame out of the best-frame
choice, as the local matcher's own count of a photo's faces does; a smaller one (the next
person in a queue a metre behind) is not counted by the tracker.

One function, so that the session (:mod:`kiosk.session.verifier`) and ``kiosk match``
(recordings in :mod:`kiosk.lab.live_frames`, a live photo in :mod:`kiosk.cli.match`) refuse a
borderline second face alike.
"""

from __future__ import annotations

from kiosk.model import FaceObservation


def one_face(obs: FaceObservation) -> bool:
    """True when the tracker found exactly one face in the frame: a frame the kiosk compares.

    Parameters
    ----------
    obs : FaceObservation
        The tracker's observation of one frame.
    """
    return obs.face is not None and obs.n_faces == 1
