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
from dataclasses import dataclass
from pathlib import Path

from kiosk.analysis.light import LightSequence
from kiosk.errors import InputError
from kiosk.lab.events_eval import row_key
from kiosk.lab.pad_metrics import SPECIES

COLUMNS = ("path", "media", "label", "species", "frames", "events", "subject", "notes")
OPTIONAL = ("sequence",)
MEDIA = ("video", "image", "gif")
LABELS = ("bona_fide", "attack")


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
    return ManifestRow(**values)


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
        The file is missing or unreadable, lacks a column, or a row has an invalid value
        (the message names the line).
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise InputError(f"manifest {path} lacks the column(s) {', '.join(missing)}; "
                                 f"expected {','.join(COLUMNS)}")
            raw = list(reader)
    except FileNotFoundError:
        raise InputError(f"manifest {path} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"manifest {path} is a folder, not a CSV file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"manifest {path} cannot be read: {exc}") from None
    if not raw:
        raise InputError(f"manifest {path} has no rows")
    return [_check(row, f"manifest {path.name} line {n}") for n, row in enumerate(raw, start=2)]
