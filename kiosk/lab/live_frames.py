"""The live frames a kiosk session would hand the matcher, taken from a recording.

The kiosk tracks every frame with MediaPipe and keeps the k best (sharp, frontal, eyes open;
:class:`kiosk.analysis.quality.BestFrame`) with their tracked boxes. For a video or GIF given
to ``kiosk match`` or to the pair evaluation the same choice is made here, so the figures are
those of the kiosk's own path; a photo is one frame without a box.
"""

from __future__ import annotations

from pathlib import Path

import cv2

from kiosk.analysis.face import FaceTracker
from kiosk.analysis.one_face import one_face
from kiosk.analysis.quality import BEST_FRAMES, BestFrame
from kiosk.camera import decodable_name, open_source
from kiosk.cloud.errors import InvalidImage, NoFaceInImage
from kiosk.cloud.images import PHOTO_MAX_PIXELS
from kiosk.cloud.media import PHOTO_SUFFIXES
from kiosk.cloud.protocol import LiveFrame
from kiosk.errors import InputError

#: Frames examined at most, as many as a kiosk session sees (about 10 s at 30 fps). Longer
#: recordings are sampled evenly over their whole length.
MAX_EXAMINED = 300


def best_live_frames(path: str | Path, frames: tuple[int, int] | None = None, *,
                     k: int = BEST_FRAMES, tracker: FaceTracker | None = None
                     ) -> list[LiveFrame]:
    """The ``k`` best frames of a recording by the kiosk's own choice, best first.

    Parameters
    ----------
    path : path-like
        A video or GIF (any file :func:`kiosk.camera.open_source` opens as a video).
    frames : (int, int), optional
        Inclusive 0-based frame range.
    k : int
        Frames kept.
    tracker : FaceTracker, optional
        A fresh tracker is made (and closed) when omitted; a given one must not have seen
        later timestamps.

    Raises
    ------
    InvalidImage
        The file cannot be read as a video, or its frames have too many pixels.
    NoFaceInImage
        No frame shows exactly one face that the best-frame choice accepts.
    """
    path = Path(path)
    _check_declared_size(path)
    start, end = frames if frames is not None else (0, None)
    best = BestFrame(k=k)
    own = tracker is None
    tracker = tracker if tracker is not None else FaceTracker()
    examined = 0
    try:
        with open_source(str(path), paced=False, start=start, end=end) as source:
            total = (end - start + 1) if end is not None else _frame_count(source) - start
            step = max(1, -(-total // MAX_EXAMINED)) if total else 1
            for index, frame in enumerate(source):
                if index % step:
                    continue
                _check_pixels(path, frame.image.shape[1], frame.image.shape[0])
                examined += 1
                obs = tracker.observe(frame)
                if one_face(obs):
                    best.offer(frame.image, obs.face, frame.t)
    except InputError as exc:
        if isinstance(exc, InvalidImage):
            raise
        raise InvalidImage(str(exc)) from None
    finally:
        if own:
            tracker.close()
    if not best.frames:
        raise NoFaceInImage(f"no frame of {path.name} shows one sharp, frontal face with open "
                            f"eyes ({examined} frames examined)")
    return [LiveFrame(f.image, f.face.box) for f in best.frames]


def _check_declared_size(path: Path) -> None:
    """Refuse a recording whose container declares frames above the pixel limit, before a
    frame is decoded (OpenCV reads the size from the header)."""
    capture = cv2.VideoCapture(decodable_name(path))
    try:
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    finally:
        capture.release()
    _check_pixels(path, width, height)


def _check_pixels(path: Path, width: int, height: int) -> None:
    if width * height > PHOTO_MAX_PIXELS:
        raise InvalidImage(f"{path} has {width}x{height} pixel frames; the limit is "
                           f"{PHOTO_MAX_PIXELS / 1e6:.0f} megapixels")


def _frame_count(source: object) -> int:
    count = getattr(source, "frame_count", None)
    return int(count) if isinstance(count, int | float) and count > 0 else 0


def live_frames(path: str | Path, frames: tuple[int, int] | None = None, *,
                k: int = BEST_FRAMES) -> list[LiveFrame]:
    """A photo as one frame without a box, or the best frames of a recording."""
    from kiosk.cloud.images import load_photo
    from kiosk.lab.manifest import VIDEO_SUFFIXES

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in PHOTO_SUFFIXES:
        if frames is not None:
            raise InvalidImage(f"{path} is a photo; a frame range applies only to videos")
        return [LiveFrame(load_photo(path, what="image"))]
    if not path.is_dir() and suffix not in VIDEO_SUFFIXES | {".gif"}:
        # FFmpeg decodes more than recordings (the JPEG inside a PDF): a document must not
        # be compared as if it were a face picture.
        raise InvalidImage(f"{path} is neither a photo (JPEG or PNG) nor a recording ("
                           + ", ".join(sorted(VIDEO_SUFFIXES | {".gif"}))
                           + ", or a folder of frames)")
    return best_live_frames(path, frames, k=k)
