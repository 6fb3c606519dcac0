"""The one-face rule: which tracked frames the kiosk may hand the face matcher.

A frame counts only when the face tracker (MediaPipe's Face Landmarker, which looks for up to
:data:`kiosk.analysis.face.MAX_FACES` faces) found exactly one face. A second face of any size
that the tracker reports (a bystander, a photo or a phone held beside the face) keeps the frame
out of the best-frame choice: no ratio to the main face's size, unlike the local matcher's own
check of a photo without a tracked box (:data:`kiosk.cloud.detect.COMPARABLE_FACE_RATIO`).

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
