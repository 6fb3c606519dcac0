"""``kiosk track PATH``: one face-tracking record per frame of a video, folder or image."""

from __future__ import annotations

import argparse
import csv
import json
import math

from kiosk.cli.args import POSITIVE_WHOLE_NUMBER
from kiosk.model import FaceObservation

COLUMNS = ("frame", "t", "faces", "yaw", "pitch", "roll", "ear_left", "ear_right",
           "blink_left", "blink_right", "smile", "jaw_open", "mouth_width", "mouth_open",
           "sharpness", "brightness", "exposure", "size")
_FACE_FIELDS = COLUMNS[3:]


def record(obs: FaceObservation) -> dict[str, float | int | None]:
    """One output record; face fields are None when there is no face."""
    row: dict[str, float | int | None] = {
        "frame": obs.seq, "t": round(obs.media_t, 4), "faces": obs.n_faces}
    face = obs.face
    for name in _FACE_FIELDS:
        if face is None:
            row[name] = None
            continue
        value = face.blend("jawOpen") if name == "jaw_open" else getattr(face, name)
        row[name] = round(float(value), 4) if math.isfinite(value) else None
    return row


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "track", help="print face measurements for every frame",
        description="Track the main face through a video, an image folder or one image and "
                    "print one record per frame. Yaw > 0: the subject turned to their own "
                    "left; pitch > 0: looking up.")
    parser.add_argument("path", help="video file, image folder or image")
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON object per line (default)")
    fmt.add_argument("--csv", action="store_true", help="CSV with a header row")
    parser.add_argument("--every", type=POSITIVE_WHOLE_NUMBER, default=1, metavar="N",
                        help="measure every Nth frame (default 1)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx) -> int:
    # Heavy imports stay inside the command so `kiosk --help` and other commands start fast.
    from kiosk.analysis.face import FaceTracker
    from kiosk.camera import open_source

    out = ctx.stdout
    writer = None
    if args.csv:
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    header_due = writer is not None  # written with the first row: an input error prints none
    with open_source(args.path, paced=False) as source, FaceTracker() as tracker:
        for frame in source:
            if frame.seq % args.every:
                continue
            row = record(tracker.observe(frame))
            if writer is not None:
                if header_due:
                    writer.writeheader()
                    header_due = False
                writer.writerow({k: "" if v is None else v for k, v in row.items()})
            else:
                out.write(json.dumps(row) + "\n")
    if writer is not None and header_due:
        writer.writeheader()
    return 0
