"""``kiosk record OUT_DIR``: the kiosk's own check flow, with every session saved for the
site's evaluation.

It starts the kiosk window (fullscreen, or ``--windowed``) on the configured camera; each
session a person (or an attack held to the camera) goes through is saved under ``OUT_DIR`` with
its video (lossless), the light sequence as the screen painted it and the prompt timeline,
readable by the kiosk's user only, and a row is appended to ``OUT_DIR/manifest.csv`` labelled
as given here (not for a session interrupted by Stop or a lost camera; see
:mod:`kiosk.runtime.record`). It refuses to start with less than 2 GB free in ``OUT_DIR``. Then ``kiosk evaluate OUT_DIR/manifest.csv`` measures the light
challenge and the other cues on the site's own people, cameras, screens and attacks. The
sessions are real ones: they are judged and written to the audit log like any other.

Needs a display (the screen is the light source) and, for the light step, a camera
(``--source`` recordings cannot see the screen: they are saved without a sequence).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "record", help="run the kiosk and save every session (video, light sequence, prompts) "
                       "for kiosk evaluate",
        description="Start the kiosk window with recording on: each session is saved in "
                    "OUT_DIR/<time>/ (video.avi in lossless HuffYUV, sequence.json as painted, "
                    "timeline.json; readable by this user only) and, unless it was "
                    "interrupted, listed in OUT_DIR/manifest.csv with the label given, so kiosk evaluate "
                    "can judge a site's own staff and attacks. Needs a display.")
    parser.add_argument("out_dir", metavar="OUT_DIR", help="folder for the recordings")
    parser.add_argument("--label", choices=("bona_fide", "attack"), default="bona_fide",
                        help="what will be in front of the camera (default bona_fide)")
    parser.add_argument("--species", choices=("print", "replay", "mask"),
                        help="for --label attack: the attack instrument")
    parser.add_argument("--subject-tag", default="", metavar="TAG",
                        help="a pseudonym for who or what is recorded (never an ID number)")
    parser.add_argument("--source", metavar="PATH",
                        help="a video file or image folder instead of the camera (saved "
                             "without a light sequence: a file cannot see the screen)")
    parser.add_argument("--windowed", action="store_true",
                        help="a normal window instead of fullscreen")
    parser.set_defaults(func=run)


def launch_argv(args: argparse.Namespace) -> list[str]:
    """The kiosk's own command line for this recording (:func:`kiosk.ui.launch.main`)."""
    argv = ["--record", args.out_dir, "--label", args.label,
            "--subject-tag", args.subject_tag]
    if args.species:
        argv += ["--species", args.species]
    if args.source:
        argv += ["--source", args.source]
    if args.windowed:
        argv.append("--windowed")
    if getattr(args, "config", None):
        argv += ["--config", args.config]
    if getattr(args, "verbose", False):
        argv.append("--verbose")
    return argv


def run(args: argparse.Namespace, ctx) -> int:
    from kiosk.runtime.record import RecordPlan

    # The plan's own checks first, so a wrong label or a folder that cannot be made is one
    # line before any window opens.
    RecordPlan(Path(args.out_dir), args.label, args.species or "",
               args.subject_tag).open()
    import cv2  # noqa: F401  (before Qt: see kiosk/ui/qtenv.py)

    from kiosk.ui.launch import main

    return main(launch_argv(args))
