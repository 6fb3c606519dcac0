"""``kiosk simulate light SRC OUT --sequence SEQUENCE.json [--attack none|tint|screen|print]``.

The kiosk's colour sequence cast on a real clip by a physically stated relighting, or one of
three attacks facing it (see :mod:`kiosk.lab.simulate.light`). For tests and the fusion's
simulated block only: figures from it are reported apart from real captures. OUT's frame
``i`` is at media time ``i / fps``; the sequence's times are in that time.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from kiosk.cli.args import POSITIVE_NUMBER, WHOLE_NUMBER, number, whole_number
from kiosk.errors import InputError

if TYPE_CHECKING:
    import numpy as np

    from kiosk.model import Face

log = logging.getLogger(__name__)


def add_light_parser(sub: argparse._SubParsersAction) -> None:
    """The ``light`` sub-command of ``kiosk simulate``."""
    from kiosk.lab.simulate.light_params import ATTACKS

    lp = sub.add_parser(
        "light", help="the light challenge on a real clip: a live face relit, or an attack",
        description="Relight a bona fide clip as the kiosk's screen would (face mesh "
                    "normals, Lambertian and specular skin, the screen as an area light, "
                    "camera delay, exposure and noise), or render an attack facing the "
                    "sequence: tint (an injector tinting the whole stream), screen (the "
                    "clip on a phone whose glass mirrors the kiosk's screen), print (one "
                    "frame printed on matte paper). The sequence's times are OUT's media "
                    "time (frame i at i / fps). For tests and training only.")
    from kiosk.cli.simulate import add_output

    lp.add_argument("src", metavar="SRC", help="bona fide video with one face")
    add_output(lp)
    lp.add_argument("--sequence", required=True, metavar="SEQUENCE.json",
                    help="the colour sequence (JSON, times in OUT's media time)")
    lp.add_argument("--attack", choices=ATTACKS, default="none",
                    help="none (a live face, default), tint, screen or print")
    lp.add_argument("--seed", type=WHOLE_NUMBER, help="sensor noise seed (default: drawn)")
    lp.add_argument("--fps", type=POSITIVE_NUMBER,
                    help="output frame rate, at most SRC's (frames are taken from SRC at "
                         "that rate); default SRC's")
    lp.add_argument("--width", type=whole_number(64), metavar="PX",
                    help="output width in pixels (height keeps SRC's aspect); default SRC's")
    lp.add_argument("--delay-ms", type=number(at_least=0), metavar="MS",
                    help="camera delay (default 90 ms)")
    lp.add_argument("--ambient-lux", type=POSITIVE_NUMBER, metavar="LUX",
                    help="room light on the face (default 300 lux)")
    lp.add_argument("--screen-nits", type=POSITIVE_NUMBER, metavar="CD_M2",
                    help="luminance of the kiosk screen's white (default 300 cd/m2)")
    lp.add_argument("--auto-exposure", action="store_true",
                    help="the camera's exposure follows the picture (not locked)")
    lp.set_defaults(func=run_light)


def _params(args: argparse.Namespace):
    from kiosk.lab.simulate.light_params import LightSimParams

    changes: dict[str, Any] = {}
    if args.delay_ms is not None:
        changes["delay_s"] = args.delay_ms / 1000.0
    if args.ambient_lux is not None:
        changes["ambient_lux"] = args.ambient_lux
    if args.screen_nits is not None:
        changes["screen_luminance"] = args.screen_nits
    if args.auto_exposure:
        changes["auto_exposure"] = True
    return replace(LightSimParams(), **changes)


def _read_and_track(src: str, fps: float | None, width: int | None):
    """SRC's frames at the output rate and size, with their faces; and the output rate."""
    import cv2

    from kiosk.analysis.face import FaceTracker
    from kiosk.camera import open_source
    from kiosk.model import Frame

    images: list[np.ndarray] = []
    faces: list[Face | None] = []
    with open_source(src, paced=False) as source, FaceTracker() as tracker:
        rate = float(source.fps)
        out_fps = rate if fps is None else float(fps)
        if out_fps > rate * 1.001:
            raise InputError(f"--fps {out_fps:g} is above SRC's {rate:g} fps")
        next_t = None
        for frame in source:
            if next_t is not None and frame.media_t < next_t - 0.5 / rate:
                continue
            next_t = (next_t if next_t is not None else frame.media_t) + 1.0 / out_fps
            image = frame.image
            if width is not None and width != image.shape[1]:
                h = max(16, round(image.shape[0] * width / image.shape[1]))
                image = cv2.resize(image, (width, h), interpolation=cv2.INTER_AREA)
            if images and image.shape != images[0].shape:
                raise InputError(f"{src}: frames change size; a simulation needs one size")
            index = len(images)
            obs = tracker.observe(Frame(image, index, index / out_fps, index / out_fps))
            images.append(image)
            faces.append(obs.face)
    if not images:
        raise InputError(f"{src} has no decodable frames")
    return images, faces, out_fps


def run_light(args: argparse.Namespace, ctx: Any) -> int:
    import secrets

    import numpy as np

    from kiosk.analysis.light import LightSequence
    from kiosk.cli.simulate import _VideoOut, check_output
    from kiosk.lab.simulate import choose_still
    from kiosk.lab.simulate.light import LightSimulator

    target = check_output(args.out, args.src, args.force)
    seq = LightSequence.from_json_file(args.sequence)
    params = _params(args)
    images, faces, fps = _read_and_track(args.src, args.fps, args.width)
    tracked = [i for i, f in enumerate(faces) if f is not None]
    if not tracked:
        raise InputError(f"no face was found in {args.src}")
    duration = len(images) / fps
    if seq.end + params.delay_s > duration:
        raise InputError(f"the sequence ends at {seq.end:.2f} s (plus the camera's "
                         f"{params.delay_s * 1e3:.0f} ms delay) but {args.src} lasts "
                         f"{duration:.2f} s at {fps:g} fps")
    still = tracked[0]
    if args.attack == "print":
        rows = np.array([(faces[i].sharpness, faces[i].yaw, faces[i].pitch,
                          (faces[i].ear_left + faces[i].ear_right) / 2.0) for i in tracked])
        still = tracked[choose_still(rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3])]
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    sim = LightSimulator(seq, params, args.attack, fps, images[0].shape[:2],
                         np.random.default_rng(seed), faces[still].landmarks)
    size = (images[0].shape[1], images[0].shape[0])
    with _VideoOut(*target, fps, size) as out:
        for i, image in enumerate(images):
            if args.attack == "print":
                image, face = images[still], faces[still]
            else:
                face = faces[i]
            out.write(sim.render(image, None if face is None else face.landmarks, i))
            if i % 50 == 0:
                log.info("light %s: frame %d of %d", args.attack, i + 1, len(images))
    ctx.stdout.write(
        f"light ({args.attack}): {out.frames} frames {size[0]}x{size[1]} at {fps:g} fps "
        f"({out.frames / fps:.2f} s) from {args.src}, sequence {seq.start:.2f}-{seq.end:.2f} "
        f"s ({len(seq.segments)} segments), {params.describe()}, seed {seed} -> {out.path}\n")
    return 0
