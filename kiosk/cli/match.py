"""``kiosk match A B``: is the face in B the person in A?

A is the reference (ID photo, member photo) and B the live side; either may be a photo (JPEG
or PNG), a video or a GIF. A recording is tracked as the kiosk tracks its camera and its best
frames are kept (sharp, frontal, eyes open): B gives the matcher its k best frames (the local
matcher combines them, Rekognition compares the best), A its single best frame. A face the
quality gate refuses is not compared: the outcome is then the kiosk's for that case (review at
a staffed desk, fail with a retry at an unattended kiosk). Exit status 0 when the outcome at
this kiosk is a pass, 1 when it is not (no match, a comparison the quality gate refused, or a
match that only goes to staff for review: offline under the review policy, or with quality
problems), 2 on an error.

A live side without a face is an outcome, not an error: a photo gets the matcher's
``MATCH_NO_FACE_LIVE``, and a recording none of whose frames the kiosk would compare (no face,
several faces, blurred, turned or eyes closed in every frame) gets ``NO_USABLE_FRAME``, the
code a kiosk session records for it; both fail with exit status 1. A live photo is held to the
session's rule for a frame first (:func:`kiosk.analysis.one_face.one_face`: the kiosk's face
tracker must find exactly one face; a second one half as wide or more refuses it), as a
recording's frames are. A reference without a face, a file that cannot be read, and live frames of more
than one person (groups of frames whose faces would not match each other: they are never
combined) stay errors (2).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.errors import InputError

if TYPE_CHECKING:
    from kiosk.cloud.protocol import LiveFrame
    from kiosk.cloud.results import MatchResult
    from kiosk.model import FaceObservation

EXIT_PASS = 0
EXIT_NOT_PASSED = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "match", help="compare the faces in two photos or videos",
        description="Compare the face in B (live side) with the face in A (reference: ID or "
                    "member photo). Photos are JPEG or PNG; videos and GIFs are tracked as the "
                    "kiosk tracks its camera: B gives its best frames (sharp, frontal, eyes "
                    "open; the local matcher combines them), A its best one. A face too small, "
                    "blurred, dark or turned is not compared, nor a live picture with a second "
                    "face at least half as wide. Live frames of more than one person are "
                    "refused (exit 2), never combined. Exit status: 0 when the outcome at this "
                    "kiosk is a pass, 1 for no match, no usable live face, a face refused by "
                    "the quality gate or a match sent to review, 2 error.")
    parser.add_argument("a", metavar="A", help="reference photo, video or GIF")
    parser.add_argument("b", metavar="B", help="live photo, video or GIF")
    parser.add_argument("--frames-a", metavar="START-END",
                        help="use only these frames of A (0-based, inclusive), e.g. 0-32")
    parser.add_argument("--frames-b", metavar="START-END", help="use only these frames of B")
    parser.add_argument("--matcher", choices=("auto", "local", "rekognition"),
                        help="override matching.matcher (auto: Rekognition when AWS is "
                             "configured, with local fallback; local otherwise)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def _frames(text: str | None, option: str) -> tuple[int, int] | None:
    from kiosk.cloud.media import parse_frames

    try:
        return parse_frames(text)
    except ValueError as exc:
        raise InputError(f"{option}: {exc}") from None


def check_distinct(a: str, frames_a: tuple[int, int] | None, b: str,
                   frames_b: tuple[int, int] | None) -> None:
    """Refuse comparing a picture with itself (the same file, with the same frames).

    Such a comparison is a mistake, not a test: it matches at distance 0 and would pass at a
    desk whose policy lets matches through. A copy is the same picture: two files with the
    same bytes, or two image folders with the same frames in the same order (the names of
    the frames aside). Different segments of one recording are legitimate (the developer
    set's ``demo.gif`` shows a person and attacks in turn).

    Raises
    ------
    InputError
        A and B name the same file (also through a link or another spelling of the path), or
        copies of one file or folder, and the same frames.
    """
    if frames_a != frames_b:
        return
    try:
        same = os.path.samefile(a, b)
    except OSError:
        return  # a missing file is reported when it is read, with its own message
    if same:
        raise InputError(f"A and B are the same file ({b}); compare two different pictures "
                         "(or two frame ranges of one recording)")
    if Path(a).is_dir() and Path(b).is_dir():
        if _same_frames(Path(a), Path(b)):
            raise InputError(f"A and B are copies of one folder of frames ({a} and {b} hold "
                             "the same images in the same order); compare two different "
                             "pictures (or two frame ranges of one recording)")
    elif _same_bytes([(Path(a), Path(b))]):
        raise InputError(f"A and B are copies of one file ({a} and {b} hold the same bytes); "
                         "compare two different pictures (or two frame ranges of one "
                         "recording)")


def _same_bytes(pairs: list[tuple[Path, Path]]) -> bool:
    """Whether the two files of every pair hold the same bytes.

    All sizes are compared before any content is read, and contents are read in chunks up to
    the first difference: a recording can be large, and two different ones are rarely of one
    size. A file that is not a regular file or cannot be read counts as different (reading it
    reports it, with its own message).
    """
    try:
        if any(not (x.is_file() and y.is_file()) or x.stat().st_size != y.stat().st_size
               for x, y in pairs):
            return False
        return all(filecmp.cmp(x, y, shallow=False) for x, y in pairs)
    except OSError:
        return False


def _same_frames(a: Path, b: Path) -> bool:
    """Whether two image folders hold the same frames, file by file in the order played."""
    from kiosk.camera.images import list_images

    try:
        images_a, images_b = list_images(a)[0], list_images(b)[0]
    except InputError:
        return False  # reported when the folder is read
    return (len(images_a) == len(images_b) > 0
            and _same_bytes(list(zip(images_a, images_b, strict=True))))


def reference_frame(path: str, frames: tuple[int, int] | None) -> Any:
    """The reference's single best frame; a recording without a usable face is an error
    that says it is the reference (A), not the live side."""
    from kiosk.camera import is_image_path
    from kiosk.cloud.errors import NoFaceInImage
    from kiosk.identity import card_detector, check_upright
    from kiosk.lab.live_frames import live_frames

    try:
        image = live_frames(path, frames, k=1)[0].image
    except NoFaceInImage as exc:
        raise NoFaceInImage(f"the reference (A): {exc}") from None
    if Path(path).is_file() and is_image_path(Path(path)):
        # As kiosk verify --id-photo checks it: a sideways photo said "no face was found".
        check_upright(image, card_detector(), f"the reference (A) {Path(path).name}")
    return image


def no_usable_live_frame(matcher: Any, why: str) -> MatchResult:
    """The answer for a live recording none of whose frames the kiosk would compare.

    The kiosk never hands the matcher such a session (it records ``NO_USABLE_FRAME``), so
    the matcher is not called here either: a non-match resting on no live frame, with
    ``why`` as its note.

    Parameters
    ----------
    matcher : FaceMatcher
        The matcher that would have compared (named in the result).
    why : str
        The plain sentence saying what was looked at.
    """
    from kiosk.cloud.results import MatchResult
    from kiosk.reasons import Reason

    return MatchResult(matched=False, similarity=None, threshold=matcher.threshold,
                       matcher=matcher.name, offline=False, live_faces=0, frames=0,
                       reasons=(Reason.NO_USABLE_FRAME,), note=why)


def tracked(image: Any) -> FaceObservation:
    """What the kiosk's face tracker sees in one still ((H, W, 3) uint8 BGR), as a session's
    tracker sees a camera frame."""
    from kiosk.analysis.face import FaceTracker
    from kiosk.model import Frame

    with FaceTracker() as tracker:
        return tracker.observe(Frame(image=image, seq=0, t=0.0, media_t=0.0))


def untracked_refusal(matcher: Any, live: list[LiveFrame]) -> MatchResult | None:
    """The answer for a live photo a session would not compare, or None to compare it.

    A recording's frames were chosen by the session's rule (:func:`one_face`) already; a
    photo (a frame without a tracked box) is tracked here and held to the same rule, so a
    borderline second face is refused as a session refuses it. A photo that passes still goes
    to the matcher without the box: the local matcher's own count of comparable faces also
    refuses a second face the tracker missed.

    Parameters
    ----------
    matcher : FaceMatcher
        The matcher that would have compared (named in the result).
    live : list of LiveFrame
        The live side: one photo without a box, or a recording's tracked frames.
    """
    from kiosk.analysis.one_face import one_face
    from kiosk.cloud.results import MatchResult
    from kiosk.reasons import Reason

    if any(frame.box is not None for frame in live):
        return None
    obs = tracked(live[0].image)
    if one_face(obs):
        return None
    none = obs.n_faces == 0
    seen = "no face" if none else f"{obs.n_faces} faces"
    return MatchResult(matched=False, similarity=None, threshold=matcher.threshold,
                       matcher=matcher.name, offline=False, live_faces=obs.n_faces, frames=0,
                       reasons=(Reason.MATCH_NO_FACE_LIVE if none
                                else Reason.MATCH_SEVERAL_FACES_LIVE,),
                       note=f"the kiosk's face tracker finds {seen} in the live photo; a "
                            "kiosk session compares only a frame with exactly one face")


def compare_live(matcher: Any, live: list[LiveFrame], reference: Any) -> MatchResult:
    """Compare the live frames with the reference, refusing frames of more than one person.

    Raises
    ------
    LiveFacesDiffer
        The local matcher (alone, or checking before Rekognition) finds the live frames in
        groups whose faces would not match each other: their mean could match either person.
    """
    from kiosk.cloud.fallback import ResilientMatcher
    from kiosk.cloud.local import LocalMatcher
    from kiosk.cloud.protocol import compare_frames

    if isinstance(matcher, LocalMatcher | ResilientMatcher):
        return matcher.compare_frames(live, reference, one_person=True)
    # Rekognition alone compares one frame (the best, or the next for quality): none combined.
    return compare_frames(matcher, live, reference)


def describe(result: Any, outcome: str, reasons: tuple[str, ...]) -> str:
    """The human-readable lines for a MatchResult and its outcome at this kiosk."""
    from kiosk.reasons import Reason

    verdict = "MATCH" if result.matched else "NO MATCH"
    if Reason.NO_USABLE_FRAME in result.reasons:
        score = "no usable live frame"  # as "no face" for a photo: the note says why
    elif not result.compared:
        verdict, score = "NOT COMPARED", "a face failed the quality gate"
    elif Reason.MATCH_SEVERAL_FACES_LIVE in result.reasons:
        # Not "similarity below": the faces were never compared, one person must be shown.
        score = f"{result.live_faces or 'several'} faces in the live picture, not one"
    elif result.similarity is None:
        score = f"similarity below {result.threshold:.1f}" if result.live_faces else "no face"
    else:
        relation = ">=" if result.similarity >= result.threshold else "<"
        score = f"similarity {result.similarity:.1f} {relation} {result.threshold:.1f}"
    how = f"{result.matcher} matcher" + (", offline" if result.offline else "")
    if result.frames > 1:
        how += f", {result.frames} live frames combined"
    if result.distance is not None:
        how += f", descriptor distance {result.distance:.3f}"
    if result.calls:
        how += f", {result.calls} Rekognition calls"
    lines = [f"{verdict}: {score} ({how})"]
    lines.append(f"outcome at this kiosk: {outcome}"
                 + (f" ({', '.join(reasons)})" if reasons else ""))
    if result.note:
        lines.append(result.note)
    return "\n".join(lines)


def run(args: argparse.Namespace, ctx: Any) -> int:
    # dlib, MediaPipe and boto3 load slowly: import them only when the command runs.
    from kiosk.cloud.detect import HogFaceDetector
    from kiosk.cloud.errors import NoFaceInImage
    from kiosk.cloud.factory import build_matcher
    from kiosk.lab.live_frames import live_frames
    from kiosk.session.gate import gate_outcome
    from kiosk.session.verdict import match_outcome
    from kiosk.vocabulary import Verdict

    frames_a = _frames(args.frames_a, "--frames-a")
    frames_b = _frames(args.frames_b, "--frames-b")
    settings = ctx.settings
    detector = HogFaceDetector()
    matcher = build_matcher(settings, choice=args.matcher, detector=detector)
    check_distinct(args.a, frames_a, args.b, frames_b)
    reference = reference_frame(args.a, frames_a)
    try:
        live = live_frames(args.b, frames_b)
    except NoFaceInImage as exc:
        # Only a recording raises it here (a photo goes to the matcher whole): an outcome,
        # as a photo without a face is, not an error.
        result = no_usable_live_frame(matcher, str(exc))
    else:
        result = untracked_refusal(matcher, live) or compare_live(matcher, live, reference)
    gated = gate_outcome(result, mode=settings.kiosk.mode)
    outcome, reasons = gated if gated is not None else match_outcome(
        result, mode=settings.kiosk.mode, offline_policy=settings.matching.offline_policy)
    if args.json:
        payload = {"a": args.a, "b": args.b, "frames_a": args.frames_a or "",
                   "frames_b": args.frames_b or "", **result.as_dict(), "outcome": outcome,
                   "outcome_reasons": list(reasons)}
        ctx.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        ctx.stdout.write(describe(result, outcome, reasons) + "\n")
    return EXIT_PASS if outcome == Verdict.PASS else EXIT_NOT_PASSED
