"""Face-matching evaluation on a ``pairs.csv`` (the ``pairs`` block of metrics.json).

``pairs.csv`` is documented in ../shared/data/PROVENANCE.md: columns ``a,b,same,notes``, paths
relative to the CSV's folder, ``same`` is 1, 0 or ``?`` (unsure rows are skipped and counted),
and a pair with a multi-segment file names its frames in the notes (``b = demo.gif frames
0-32``). Videos are reduced to their sharpest one-face frame (:mod:`kiosk.cloud.media`).

A pair whose image yields no usable face counts as a non-match (a same-person pair then lowers
the true-accept rate, as a real failure to acquire would) and is listed with its error.
"""

from __future__ import annotations

import csv
import logging
import re
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.cloud.detect import HogFaceDetector
from kiosk.cloud.errors import InvalidImage, NoFaceInImage, SeveralFaces
from kiosk.cloud.local import FaceEmbedding, LocalMatcher
from kiosk.cloud.media import load_face_image
from kiosk.cloud.protocol import FaceMatcher
from kiosk.cloud.results import MatchResult
from kiosk.errors import InputError

log = logging.getLogger(__name__)

_SEGMENT = re.compile(r"\b([ab])\s*=\s*(\S+)\s+frames\s+(\d+)\s*-\s*(\d+)")
#: Errors that make one pair a failure to acquire rather than stopping the evaluation.
PAIR_ERRORS = (NoFaceInImage, SeveralFaces, InvalidImage)

Progress = Callable[[int, int], None]


def segment_frames(notes: str, side: str, path: str) -> tuple[int, int] | None:
    """The frame range the notes give for ``side`` ("a" or "b") when they name ``path``'s file."""
    for match in _SEGMENT.finditer(notes or ""):
        if match[1] == side and Path(path).name == Path(match[2]).name:
            return int(match[3]), int(match[4])
    return None


def read_pairs(pairs_csv: Path) -> list[dict[str, str]]:
    """Rows of a pairs file, checked for the ``a``, ``b`` and ``same`` columns.

    Raises
    ------
    InputError
        Missing or unreadable file, missing columns, or a ``same`` value other than 1, 0, ?.
    """
    try:
        with Path(pairs_csv).open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = {"a", "b", "same"} - set(reader.fieldnames or ())
            if missing:
                raise InputError(f"{pairs_csv} lacks the column(s) {', '.join(sorted(missing))}"
                                 "; expected a,b,same,notes")
            rows = list(reader)
    except FileNotFoundError:
        raise InputError(f"pairs file {pairs_csv} does not exist") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"pairs file {pairs_csv} cannot be read: {exc}") from None
    for number, row in enumerate(rows, start=2):
        if (row.get("same") or "").strip() not in ("1", "0", "?"):
            raise InputError(f"{pairs_csv} line {number}: same must be 1, 0 or ?, got "
                             f"{row.get('same')!r}")
    return rows


class _Media:
    """Loads each (path, frames) once; embeds once when the matcher can embed."""

    def __init__(self, base: Path, matcher: FaceMatcher, detector: HogFaceDetector) -> None:
        self.base = base
        self.matcher = matcher
        self.detector = detector
        self._images: dict[tuple[str, Any], np.ndarray | Exception] = {}
        self._embeddings: dict[tuple[str, Any], FaceEmbedding | Exception] = {}

    def image(self, path: str, frames: tuple[int, int] | None) -> np.ndarray:
        key = (path, frames)
        if key not in self._images:
            try:
                self._images[key] = load_face_image(self.base / path, self.detector, frames)
            except PAIR_ERRORS as exc:
                self._images[key] = exc
        value = self._images[key]
        if isinstance(value, Exception):
            raise value
        return value

    def embedding(self, path: str, frames: tuple[int, int] | None) -> FaceEmbedding:
        assert isinstance(self.matcher, LocalMatcher)
        key = (path, frames)
        if key not in self._embeddings:
            try:
                self._embeddings[key] = self.matcher.embed(self.image(path, frames),
                                                           what=Path(path).name)
            except PAIR_ERRORS as exc:
                self._embeddings[key] = exc
        value = self._embeddings[key]
        if isinstance(value, Exception):
            raise value
        return value

    def compare(self, row: dict[str, str]) -> MatchResult:
        frames_a = segment_frames(row.get("notes", ""), "a", row["a"])
        frames_b = segment_frames(row.get("notes", ""), "b", row["b"])
        if isinstance(self.matcher, LocalMatcher):
            # b plays the live side, a the reference (the table's "ID photo" column).
            return self.matcher.compare_embeddings(self.embedding(row["b"], frames_b),
                                                   self.embedding(row["a"], frames_a))
        return self.matcher.compare(self.image(row["b"], frames_b),
                                    self.image(row["a"], frames_a))


def _summary(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def evaluate_pairs(pairs_csv: Path, matcher: FaceMatcher, *,
                   detector: HogFaceDetector | None = None,
                   progress: Progress | None = None) -> dict[str, Any]:
    """Match every pair and report true- and false-accept rates at the matcher's threshold.

    Parameters
    ----------
    pairs_csv : Path
        The pairs file; media paths are relative to its folder.
    matcher : FaceMatcher
        Any matcher; a :class:`LocalMatcher` embeds each file once.
    detector : HogFaceDetector, optional
        Picks video frames; the local matcher's detector, or a new one, when omitted.
    progress : callable(done, total), optional
        Called after each row.

    Returns
    -------
    dict
        ``{"same": int, "different": int, "threshold": float, "tar": float | None,
        "far": float | None}`` (issue 4's ``pairs`` block; a rate is None when its pair count
        is 0) plus ``"unsure"`` (skipped ``?`` rows), ``"matcher"``, ``"failures"`` (pairs
        without a usable face), ``"similarity"`` (min/median/max per pair type) and
        ``"per_pair"`` (a, b, same, frames, similarity, distance, matched, matcher, error).
        No image or descriptor is included.

    Raises
    ------
    InputError
        The pairs file is unusable.
    CloudError
        The matcher failed for another reason than a face problem (e.g. the cloud is down):
        rates over a partial run would mislead.
    """
    pairs_csv = Path(pairs_csv)
    rows = read_pairs(pairs_csv)
    if detector is None:
        detector = matcher.detector if isinstance(matcher, LocalMatcher) else HogFaceDetector()
    media = _Media(pairs_csv.parent, matcher, detector)
    counts = {"same": 0, "different": 0, "unsure": 0, "true_accepts": 0, "false_accepts": 0,
              "failures": 0}
    similarities: dict[str, list[float]] = {"same": [], "different": []}
    per_pair: list[dict[str, Any]] = []
    for done, row in enumerate(rows, start=1):
        label = row["same"].strip()
        entry: dict[str, Any] = {
            "a": row["a"], "b": row["b"], "same": label,
            "frames_a": _frames_text(segment_frames(row.get("notes", ""), "a", row["a"])),
            "frames_b": _frames_text(segment_frames(row.get("notes", ""), "b", row["b"])),
        }
        if label == "?":
            counts["unsure"] += 1
            entry["skipped"] = "unsure"
            per_pair.append(entry)
            if progress:
                progress(done, len(rows))
            continue
        kind = "same" if label == "1" else "different"
        counts[kind] += 1
        try:
            result = media.compare(row)
        except PAIR_ERRORS as exc:
            counts["failures"] += 1
            entry.update(matched=False, similarity=None, distance=None, error=str(exc))
            log.warning("pair %s / %s: %s", row["a"], row["b"], exc)
        else:
            entry.update(matched=result.matched, similarity=result.similarity,
                         distance=result.distance, matcher=result.matcher, error=None)
            if result.similarity is not None:
                similarities[kind].append(result.similarity)
            if result.matched:
                counts["true_accepts" if kind == "same" else "false_accepts"] += 1
        per_pair.append(entry)
        if progress:
            progress(done, len(rows))
    same, different = counts["same"], counts["different"]
    return {
        "same": same,
        "different": different,
        "threshold": float(matcher.threshold),
        "tar": counts["true_accepts"] / same if same else None,
        "far": counts["false_accepts"] / different if different else None,
        "unsure": counts["unsure"],
        "matcher": matcher.name,
        "failures": counts["failures"],
        "similarity": {kind: _summary(values) for kind, values in similarities.items()},
        "per_pair": per_pair,
    }


def _frames_text(frames: tuple[int, int] | None) -> str:
    return "" if frames is None else f"{frames[0]}-{frames[1]}"
