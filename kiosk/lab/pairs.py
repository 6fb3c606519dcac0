"""Face-matching evaluation on a ``pairs.csv`` (the ``pairs`` block of metrics.json).

``pairs.csv`` is documented in ../shared/data/PROVENANCE.md: columns ``a,b,same,notes``, paths
relative to the CSV's folder, ``same`` is 1, 0 or ``?`` (unsure rows are skipped and counted),
and a pair with a multi-segment file names its frames in the notes (``b = demo.gif frames
0-32``). ``a`` is the reference (the "ID photo"): a photo, measured also as its tight-crop and
card-size variants, or a recording's best frame. ``b`` is the live side: a photo, or the k best
frames of a recording as the kiosk picks them (:mod:`kiosk.lab.pair_media`).

A pair whose image yields no usable face counts as a non-match (a same-person pair then lowers
the true-accept rate, as a real failure to acquire would) and is listed with its error; a pair
the quality gate refuses counts as not compared (``compared`` False). A pair with a file that
cannot be read (missing, not an image or a recording, damaged) says nothing about the matcher:
it is left out of every rate and listed apart (``unreadable``), as ``kiosk evaluate`` lists a
manifest row it cannot analyse.
"""

from __future__ import annotations

import csv
import logging
import re
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.analysis.quality import BEST_FRAMES
from kiosk.cloud.detect import HogFaceDetector
from kiosk.cloud.errors import InvalidImage
from kiosk.cloud.local import LocalMatcher
from kiosk.cloud.protocol import FaceMatcher
from kiosk.cloud.results import MatchResult
from kiosk.errors import InputError
from kiosk.lab.calibration_fit import calibration_report
from kiosk.lab.pair_media import PAIR_ERRORS, PairMedia, is_photo
from kiosk.lab.photo_variants import VARIANTS

log = logging.getLogger(__name__)

_SEGMENT = re.compile(r"\b([ab])\s*=\s*(\S+)\s+frames\s+(\d+)\s*-\s*(\d+)")

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


def _summary(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def _subjects(base: Path) -> dict[str, str]:
    """Path (and ``path#frames``) -> subject id from the manifest beside the pairs file."""
    manifest = base / "manifest.csv"
    if not manifest.is_file():
        return {}
    from kiosk.lab.manifest import read_manifest

    found: dict[str, str] = {}
    for row in read_manifest(manifest):
        if row.subject:
            found[row.key] = row.subject
            found.setdefault(row.path, row.subject)
    return found


def _subject(subjects: dict[str, str], path: str, frames: tuple[int, int] | None) -> str:
    key = path if frames is None else f"{path}#{frames[0]}-{frames[1]}"
    return subjects.get(key) or subjects.get(path) or path


class _Tally:
    """Counts of one variant (or of all variants pooled)."""

    def __init__(self) -> None:
        self.counts = {"same": 0, "different": 0, "true_accepts": 0, "false_accepts": 0,
                       "failures": 0, "not_compared": 0, "compared_same": 0,
                       "compared_different": 0}
        self.similarities: dict[str, list[float]] = {"same": [], "different": []}

    def add(self, kind: str, result: MatchResult | None) -> None:
        self.counts[kind] += 1
        if result is None:
            self.counts["failures"] += 1
            return
        if not result.compared:
            self.counts["not_compared"] += 1
            return
        self.counts[f"compared_{kind}"] += 1
        if result.similarity is not None:
            self.similarities[kind].append(result.similarity)
        if result.matched:
            self.counts["true_accepts" if kind == "same" else "false_accepts"] += 1

    def block(self, threshold: float) -> dict[str, Any]:
        c = self.counts

        def rate(hits: int, n: int) -> float | None:
            return hits / n if n else None

        return {"same": c["same"], "different": c["different"], "threshold": threshold,
                "tar": rate(c["true_accepts"], c["same"]),
                "far": rate(c["false_accepts"], c["different"]),
                "tar_compared": rate(c["true_accepts"], c["compared_same"]),
                "far_compared": rate(c["false_accepts"], c["compared_different"]),
                "failures": c["failures"], "not_compared": c["not_compared"],
                "similarity": {k: _summary(v) for k, v in self.similarities.items()}}


def evaluate_pairs(pairs_csv: Path, matcher: FaceMatcher, *,
                   detector: HogFaceDetector | None = None,
                   progress: Progress | None = None,
                   variants: tuple[str, ...] = VARIANTS,
                   k: int = BEST_FRAMES) -> dict[str, Any]:
    """Match every pair and report true- and false-accept rates at the matcher's threshold.

    Parameters
    ----------
    pairs_csv : Path
        The pairs file; media paths are relative to its folder.
    matcher : FaceMatcher
        Any matcher; a :class:`LocalMatcher` embeds each face once.
    detector : HogFaceDetector, optional
        Finds the faces the photo variants are cut around; the local matcher's, or a new one.
    progress : callable(done, total), optional
        Called after each row.
    variants : tuple of str
        Reference variants measured (:data:`kiosk.lab.photo_variants.VARIANTS`): ``full``
        always, ``tight`` and ``card`` for pairs whose reference is a photo.
    k : int
        Live frames taken from a recording (the kiosk's best-frame choice).

    Returns
    -------
    dict
        The ``full`` variant's ``{"same", "different", "threshold", "tar", "far"}`` (issue 4's
        ``pairs`` block; a rate is None when its pair count is 0) plus ``"unsure"`` (skipped
        ``?`` rows), ``"unreadable"`` (a, b and error of each pair left out because a file
        cannot be read), ``"matcher"``, ``"failures"`` (pairs without a usable face),
        ``"not_compared"`` (pairs the quality gate stopped; they count as rejects in ``tar``
        and ``far`` and are left out of ``tar_compared`` / ``far_compared``),
        ``"similarity"`` (min/median/max per pair type), ``"per_pair"`` (a, b, same, frames,
        similarity, distance, matched, compared, reasons, error, and each variant's
        similarity), ``"variants"`` (the same block per variant and ``all`` pooled),
        ``"frames"`` (k) and, for the local matcher, ``"distances"`` (every compared pair of
        every variant: distance, same, variant, subjects) and ``"calibration"``
        (:func:`kiosk.lab.calibration_fit.calibration_report`). No image or descriptor is
        included.

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
    for name in variants:
        if name not in VARIANTS:
            raise ValueError(f"variants must be among {VARIANTS}, got {name!r}")
    variants = ("full",) + tuple(v for v in variants if v != "full")
    if detector is None:
        detector = matcher.detector if isinstance(matcher, LocalMatcher) else HogFaceDetector()
    media = PairMedia(pairs_csv.parent, matcher, detector, k)
    subjects = _subjects(pairs_csv.parent)
    tallies = {name: _Tally() for name in variants + ("all",)}
    unsure = 0
    unreadable: list[dict[str, str]] = []
    distances: list[dict[str, Any]] = []
    per_pair: list[dict[str, Any]] = []
    for done, row in enumerate(rows, start=1):
        label = row["same"].strip()
        frames_a = segment_frames(row.get("notes", ""), "a", row["a"])
        frames_b = segment_frames(row.get("notes", ""), "b", row["b"])
        entry: dict[str, Any] = {"a": row["a"], "b": row["b"], "same": label,
                                 "frames_a": _frames_text(frames_a),
                                 "frames_b": _frames_text(frames_b)}
        per_pair.append(entry)
        if label == "?":
            unsure += 1
            entry["skipped"] = "unsure"
        else:
            kind = "same" if label == "1" else "different"
            pair_subjects = (_subject(subjects, row["a"], frames_a),
                             _subject(subjects, row["b"], frames_b))
            for name in variants:
                if name != "full" and not is_photo(row["a"]):
                    continue
                try:
                    result: MatchResult | None = media.compare(row["a"], frames_a, row["b"],
                                                               frames_b, name)
                except PAIR_ERRORS as exc:
                    if name == "full" and isinstance(exc, InvalidImage):
                        # A file that cannot be read fails every variant: none is tallied.
                        entry["error"] = str(exc)
                        unreadable.append({"a": row["a"], "b": row["b"], "error": str(exc)})
                        log.warning("pair %s / %s: %s", row["a"], row["b"], exc)
                        break
                    result = None
                    if name == "full":
                        entry["error"] = str(exc)
                    log.warning("pair %s / %s (%s): %s", row["a"], row["b"], name, exc)
                tallies[name].add(kind, result)
                tallies["all"].add(kind, result)
                if result is not None and result.compared and result.distance is not None:
                    distances.append({"distance": result.distance, "same": kind == "same",
                                      "variant": name, "subjects": pair_subjects})
                _describe_pair(entry, name, result)
        if progress:
            progress(done, len(rows))
    threshold = float(matcher.threshold)
    report = tallies["full"].block(threshold)
    report.update(unsure=unsure, unreadable=unreadable, matcher=matcher.name, frames=int(k),
                  per_pair=per_pair,
                  variants={name: tally.block(threshold) for name, tally in tallies.items()})
    if isinstance(matcher, LocalMatcher):
        report["distances"] = distances
        report["calibration"] = calibration_report(distances, matcher.threshold_distance)
    return report


def _describe_pair(entry: dict[str, Any], name: str, result: MatchResult | None) -> None:
    if name != "full":
        entry.setdefault("variants", {})[name] = (
            None if result is None or result.similarity is None else result.similarity)
        return
    if result is None:
        entry.update(matched=False, similarity=None, distance=None, compared=False,
                     reasons=[])
        return
    entry.update(matched=result.matched, similarity=result.similarity,
                 distance=result.distance, matcher=result.matcher, compared=result.compared,
                 frames=result.frames, reasons=list(result.reasons), error=None)


def _frames_text(frames: tuple[int, int] | None) -> str:
    return "" if frames is None else f"{frames[0]}-{frames[1]}"
