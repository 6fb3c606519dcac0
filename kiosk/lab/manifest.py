"""The labelled-media manifest (``manifest.csv``), read and checked.

The format is documented in ../shared/data/PROVENANCE.md: columns
``path,media,label,species,frames,events,subject,notes``; paths relative to the manifest's
folder; ``frames`` an inclusive 0-based range (empty = the whole file); rows whose notes start
with ``overlay:`` are unusable as camera input (app overlays, tight crops) and are left out of
metrics. An optional column ``sequence`` names, for a video filmed in front of the kiosk's
screen (``kiosk record`` writes such rows), the light sequence file it was filmed with (relative
to the manifest's folder; times in the video's media time): the light challenge is then judged
against it.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from pathlib import Path

from kiosk.analysis.challenges.actions import ACTIONS
from kiosk.analysis.light import LightSequence
from kiosk.camera import IMAGE_EXTENSIONS
from kiosk.errors import InputError
from kiosk.lab.events_eval import ALIASES, NOT_ACTIONS, parse_events, row_key
from kiosk.lab.pad_metrics import SPECIES

COLUMNS = ("path", "media", "label", "species", "frames", "events", "subject", "notes")
OPTIONAL = ("sequence",)
MEDIA = ("video", "image", "gif")
LABELS = ("bona_fide", "attack")
#: Actions an ``events`` cell names without a warning: the detectors' own, their aliases and
#: the labelled non-actions (PROVENANCE.md). Another name (a typo, or a label of another data
#: set) is left out of the event figures as a non-action, with a warning naming its line.
EVENT_ACTIONS = frozenset(ACTIONS) | set(ALIASES) | NOT_ACTIONS
#: File name endings that say a file is a video: a row that calls one an image is refused.
#: An ending in neither list (or a folder of frames) is taken as the manifest says.
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".webm", ".avi", ".mkv", ".mpg", ".mpeg",
                            ".wmv", ".flv", ".3gp", ".ts"})

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ManifestRow:
    """One labelled presentation (a file, or a segment of one)."""

    path: str
    media: str
    label: str
    species: str
    frames: str
    events: str
    subject: str
    notes: str
    sequence: str = ""

    @property
    def key(self) -> str:
        """``path`` plus ``#frames`` when the row is a segment (events_eval's row key)."""
        return row_key(self.as_dict())

    @property
    def still(self) -> bool:
        """A still image: only the single-frame analyzers apply."""
        return self.media == "image"

    @property
    def overlay(self) -> bool:
        """Unusable as camera input (notes start with ``overlay:``)."""
        return self.notes.startswith("overlay:")

    @property
    def frame_range(self) -> tuple[int, int] | None:
        """Inclusive ``(first, last)`` decode indices, or None for the whole file."""
        if not self.frames:
            return None
        first, _, last = self.frames.partition("-")
        return int(first), int(last)

    def as_dict(self) -> dict[str, str]:
        values = {c: getattr(self, c) for c in COLUMNS}
        if self.sequence:
            values["sequence"] = self.sequence
        return values

    def light_sequence(self, base: Path) -> LightSequence | None:
        """The row's light sequence (its ``sequence`` file, relative to the manifest's folder
        ``base``), or None; InputError when the file is missing or invalid."""
        if not self.sequence:
            return None
        return LightSequence.from_json_file(base / self.sequence)


def _check(row: dict[str, str], where: str) -> ManifestRow:
    values = {c: (row.get(c) or "").strip() for c in COLUMNS + OPTIONAL}
    # The vocabulary columns are names, not text: "Video" or "bona-fide" mean what they say.
    for column in ("media", "label", "species"):
        values[column] = values[column].lower().replace("-", "_").replace(" ", "_")
    if not values["path"]:
        raise InputError(f"{where}: path is empty")
    if values["media"] not in MEDIA:
        raise InputError(f"{where}: media must be one of {', '.join(MEDIA)}, got "
                         f"{values['media']!r}")
    if values["label"] not in LABELS:
        raise InputError(f"{where}: label must be bona_fide or attack, got {values['label']!r}")
    if values["label"] == "attack" and values["species"] not in SPECIES:
        raise InputError(f"{where}: an attack's species must be one of {', '.join(SPECIES)}, "
                         f"got {values['species']!r}")
    if values["label"] == "bona_fide" and values["species"]:
        raise InputError(f"{where}: a bona fide row has no species, got {values['species']!r}")
    if values["frames"]:
        first, sep, last = values["frames"].partition("-")
        if not (sep and first.isdigit() and last.isdigit() and int(last) >= int(first)):
            raise InputError(f"{where}: frames must be an inclusive range FIRST-LAST (0-based), "
                             f"got {values['frames']!r}")
    if values["sequence"] and values["media"] != "video":
        raise InputError(f"{where}: a light sequence belongs to a video, not to "
                         f"{values['media']!r} media")
    _check_media_kind(values, where)
    _check_events(values["events"], where)
    return ManifestRow(**values)


def _check_media_kind(values: dict[str, str], where: str) -> None:
    """Refuse a ``media`` value its file name contradicts: a photo read as a video is a
    one-frame clip judged as an attack, and a video read as an image is refused as a still,
    so either would silently skew the metrics. A name that says nothing either way is taken
    as the manifest says (the media loader then names a file it cannot read)."""
    suffix = Path(values["path"]).suffix.lower()
    kind = ("image" if suffix in IMAGE_EXTENSIONS else "gif" if suffix == ".gif"
            else "video" if suffix in VIDEO_SUFFIXES else None)
    if kind is not None and values["media"] != kind:
        raise InputError(f"{where}: media is {values['media']!r} but {values['path']} is "
                         f"a {suffix} file (media {kind!r})")
    if values["media"] == "image" and values["frames"]:
        raise InputError(f"{where}: a frame range belongs to a video or GIF, not to an image")


def _check_events(text: str, where: str) -> None:
    """Check an ``events`` cell now: parsed only after every row is analysed, a malformed one
    would otherwise end a run of several minutes without its metrics."""
    try:
        labels = parse_events(text)
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from None
    unknown = sorted({lab.action for lab in labels} - EVENT_ACTIONS)
    if unknown:
        log.warning("%s: event action(s) %s are not ones the kiosk detects; left out of the "
                    "event figures as non-actions (known: %s)", where, ", ".join(unknown),
                    ", ".join(sorted(EVENT_ACTIONS)))


def read_manifest(path: str | Path) -> list[ManifestRow]:
    """Read and check a manifest.

    Parameters
    ----------
    path : str or Path
        The CSV file (UTF-8, a header row; CRLF or LF line ends).

    Returns
    -------
    list of ManifestRow
        In file order.

    Raises
    ------
    InputError
        The file is missing, empty or unreadable, is not UTF-8, lacks a column, a row has more
        fields than the header or an invalid value, or two rows name the same presentation
        (the message names the line).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"manifest {path} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"manifest {path} is a folder, not a CSV file") from None
    except OSError as exc:
        raise InputError(f"manifest {path} cannot be read ({exc.strerror})") from None
    if not data.strip():
        raise InputError(f"manifest {path} is empty; expected the header {','.join(COLUMNS)}")
    raw = _rows(path, _text(path, data))
    if not raw:
        raise InputError(f"manifest {path} has no rows")
    rows = [(line, _check(row, f"manifest {path.name} line {line}")) for line, row in raw]
    _check_unique(rows, path)
    return [row for _, row in rows]


def _text(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(f"manifest {path} line {line} is not UTF-8 text (byte "
                         f"0x{data[exc.start]:02x}); save the file as UTF-8") from None


def _rows(path: Path, text: str) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) of every data row; strict CSV, and no row wider than the header
    (an unquoted comma in the notes would otherwise drop the rest of the row silently)."""
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    start = 1  # the line the record being read starts on (a quoted value may span lines)
    try:
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise InputError(f"manifest {path} lacks the column(s) {', '.join(missing)}; "
                             f"expected {','.join(COLUMNS)}")
        rows = []
        start = reader.line_num + 1
        for row in reader:
            if None in row:
                raise InputError(f"manifest {path.name} line {start} has more fields than "
                                 "the header; quote a value that holds a comma")
            rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"manifest {path.name} line {start} is not valid CSV ({exc}); "
                         "check its quotes") from None
    return rows


def _check_unique(rows: list[tuple[int, ManifestRow]], path: Path) -> None:
    """Refuse a presentation listed twice: it would count twice in every figure."""
    seen: dict[str, int] = {}
    for line, row in rows:
        first = seen.setdefault(row.key, line)
        if first != line:
            raise InputError(f"manifest {path.name} line {line} repeats line {first} "
                             f"({row.key}); list each file or segment once")
