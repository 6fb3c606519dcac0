"""``kiosk enroll MEMBER_ID PHOTO`` and ``kiosk enroll --remove MEMBER_ID``.

Adds a member's face to the Rekognition collection ``matching.collection_id`` (created on first
use) or removes every face enrolled under the member id. Needs AWS credentials and a region,
taken only from boto3's standard chain; AWS stores the face vector and the member id, nothing
else.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from typing import Any

log = logging.getLogger(__name__)

EXIT_OK = 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "enroll", help="enrol a member's face in the Rekognition collection, or remove it",
        description="Index the face in PHOTO (JPEG or PNG, one person) under MEMBER_ID in the "
                    "collection matching.collection_id, creating the collection if needed; "
                    "with --remove, delete every face enrolled under MEMBER_ID. Member ids "
                    "are 1-255 letters, digits and _ . - : (use an opaque id, not a name).")
    parser.add_argument("member_id", metavar="MEMBER_ID")
    parser.add_argument("photo", metavar="PHOTO", nargs="?", help="the member's photo")
    parser.add_argument("--remove", action="store_true",
                        help="remove the member's faces instead of enrolling")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def make_client(settings: Any) -> Any:
    """The Rekognition client (a seam: tests replace it with a stubbed client)."""
    from kiosk.cloud.client import make_rekognition_client

    return make_rekognition_client(settings)


def run(args: argparse.Namespace, ctx: Any) -> int:
    from kiosk.cloud.collection import check_member_id
    from kiosk.cloud.detect import HogFaceDetector, single_face
    from kiosk.cloud.errors import NoFaceInImage
    from kiosk.cloud.images import load_photo
    from kiosk.cloud.rekognition import RekognitionMatcher
    from kiosk.cloud.results import EnrolResult, RemoveResult
    from kiosk.errors import ConfigError, InputError

    if args.remove and args.photo:
        raise InputError("--remove takes only MEMBER_ID, not a photo")
    if not args.remove and not args.photo:
        raise InputError("PHOTO is missing: kiosk enroll MEMBER_ID PHOTO "
                         "(or kiosk enroll --remove MEMBER_ID)")
    check_member_id(args.member_id)
    settings = ctx.settings
    if not settings.matching.collection_id:
        raise ConfigError("matching.collection_id is empty: set the Rekognition collection of "
                          "enrolled members in the settings file or KIOSK_MATCHING_COLLECTION_ID")
    photo = None
    if not args.remove:
        photo = load_photo(args.photo, what="member photo")
        try:
            single_face(HogFaceDetector().detect(photo), "the member photo")
        except NoFaceInImage:
            # dlib's frontal detector misses some faces Rekognition finds; let AWS decide.
            log.info("no face found locally in the member photo; asking Rekognition")
    matcher = RekognitionMatcher.from_settings(make_client(settings), settings)
    result: EnrolResult | RemoveResult
    if photo is None:
        removed = matcher.remove(args.member_id)
        text = (f"removed member {removed.member_id} from collection {removed.collection_id} "
                f"({len(removed.face_ids)} face(s))")
        result = removed
    else:
        enrolled = matcher.enrol(args.member_id, photo)
        created = " (collection created)" if enrolled.created_collection else ""
        text = (f"enrolled member {enrolled.member_id} in collection "
                f"{enrolled.collection_id}{created}: face id {enrolled.face_id}")
        result = enrolled
    if args.json:
        ctx.stdout.write(json.dumps(dataclasses.asdict(result), indent=2) + "\n")
    else:
        ctx.stdout.write(text + "\n")
    return EXIT_OK
