"""The two sides of a face pair, loaded once: reference variants and live frames.

The reference side (``a``, the "ID photo" column of ``pairs.csv``) is a photo, or the best
frame of a recording; a photo also comes as its tight and card-size variants
(:mod:`kiosk.lab.photo_variants`). The live side (``b``) is a photo (one frame), or the k best
frames of a recording chosen as the kiosk chooses them (:mod:`kiosk.lab.live_frames`).
Embeddings are cached when the matcher is the local one; other matchers get the pixels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.analysis.quality import BEST_FRAMES
from kiosk.cloud.detect import HogFaceDetector, single_face
from kiosk.cloud.errors import InvalidImage, NoFaceInImage, SeveralFaces
from kiosk.cloud.images import load_photo
from kiosk.cloud.local import FaceEmbedding, LocalMatcher
from kiosk.cloud.media import PHOTO_SUFFIXES
from kiosk.cloud.protocol import FaceMatcher, LiveFrame, compare_frames
from kiosk.cloud.results import MatchResult
from kiosk.lab.live_frames import best_live_frames
from kiosk.lab.photo_variants import variant

#: Errors that make one pair a failure to acquire rather than stopping the evaluation.
PAIR_ERRORS = (NoFaceInImage, SeveralFaces, InvalidImage)

Frames = tuple[int, int] | None


def is_photo(path: str) -> bool:
    """A JPEG or PNG (by extension), as opposed to a video or GIF."""
    return Path(path).suffix.lower() in PHOTO_SUFFIXES


class PairMedia:
    """Loads each file once and, for the local matcher, embeds each face once.

    Parameters
    ----------
    base : Path
        Folder the paths are relative to.
    matcher : FaceMatcher
        The matcher under evaluation.
    detector : HogFaceDetector
        Finds the face the photo variants are cut around.
    k : int
        Live frames taken from a recording.
    """

    def __init__(self, base: Path, matcher: FaceMatcher, detector: HogFaceDetector,
                 k: int = BEST_FRAMES) -> None:
        self.base = base
        self.matcher = matcher
        self.detector = detector
        self.k = int(k)
        self._cache: dict[tuple[Any, ...], Any] = {}

    def _cached(self, key: tuple[Any, ...], make: Any) -> Any:
        if key not in self._cache:
            try:
                self._cache[key] = make()
            except PAIR_ERRORS as exc:
                self._cache[key] = exc
        value = self._cache[key]
        if isinstance(value, Exception):
            raise value
        return value

    def reference(self, path: str, frames: Frames, name: str = "full") -> LiveFrame:
        """The reference image (a photo variant, or a recording's best frame)."""
        def make() -> LiveFrame:
            if not is_photo(path):
                if name != "full":
                    raise ValueError(f"variant {name!r} applies to photos only")
                # The best of the k best is the best frame (BestFrame keeps the highest score
                # whatever k): one pass over a recording used on both sides of the pairs.
                return self.live(path, frames)[0]
            if frames is not None:
                raise InvalidImage(f"{path} is a photo; a frame range applies only to videos")
            full = self._cached(("photo", path), lambda: load_photo(self.base / path,
                                                                      what="image"))
            if name == "full":
                return LiveFrame(full)
            box = self._cached(("box", path), lambda: single_face(
                self.detector.detect(full), Path(path).name))
            return LiveFrame(variant(full, name, box))
        return self._cached(("reference", path, frames, name), make)

    def live(self, path: str, frames: Frames) -> list[LiveFrame]:
        """The live frames: a photo alone, or the k best frames of a recording."""
        def make() -> list[LiveFrame]:
            if is_photo(path):
                return [self.reference(path, frames)]
            return best_live_frames(self.base / path, frames, k=self.k)
        return self._cached(("live", path, frames), make)

    def _reference_embedding(self, path: str, frames: Frames, name: str) -> FaceEmbedding:
        assert isinstance(self.matcher, LocalMatcher)
        matcher = self.matcher
        return self._cached(("ref-embedding", path, frames, name), lambda: matcher.embed(
            *self.reference(path, frames, name), what=Path(path).name))

    def _live_embeddings(self, path: str, frames: Frames) -> list[FaceEmbedding]:
        assert isinstance(self.matcher, LocalMatcher)
        matcher = self.matcher
        return self._cached(("live-embeddings", path, frames), lambda: [
            matcher.embed(f.image, f.box, what=Path(path).name)
            for f in self.live(path, frames)])

    def compare(self, a: str, frames_a: Frames, b: str, frames_b: Frames,
                name: str = "full") -> MatchResult:
        """``b`` (live) against variant ``name`` of ``a`` (reference)."""
        if isinstance(self.matcher, LocalMatcher):
            return self.matcher.compare_embeddings(self._live_embeddings(b, frames_b),
                                                   self._reference_embedding(a, frames_a, name))
        reference = self.reference(a, frames_a, name)
        return compare_frames(self.matcher, self.live(b, frames_b), reference.image)

    def embeddings(self, a: str, frames_a: Frames, b: str, frames_b: Frames,
                   name: str = "full") -> tuple[FaceEmbedding, list[FaceEmbedding]]:
        """The reference's embedding (variant ``name``) and the live frames' (local matcher)."""
        return (self._reference_embedding(a, frames_a, name),
                self._live_embeddings(b, frames_b))
