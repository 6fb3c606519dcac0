"""``kiosk simulate print|replay|light SRC OUT``: render a simulated presentation attack.

For tests and training only: every evaluation reports simulated and real material apart, and
real material is what counts. ``print`` prints one frame of SRC on paper and films it held by
hand; ``replay`` plays SRC on a phone, tablet or monitor and films the screen. OUT is an MP4
('mp4v') or AVI (MJPG) file with SRC's frame size and rate; an existing OUT is replaced
only with ``--force``. A photo as SRC needs ``--seconds``: it has no duration of its own.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

from kiosk.camera import decodable_name
from kiosk.cli.args import FRACTION, POSITIVE_NUMBER, WHOLE_NUMBER
from kiosk.errors import InputError

log = logging.getLogger(__name__)

# The frame to print is chosen among at most this many frames spread over the clip (tracking
# costs ~15 ms a frame; 40 samples cover a clip well enough to find a sharp frontal one).
MAX_STILL_CANDIDATES = 40
FOURCC = {".mp4": "mp4v", ".avi": "MJPG"}


def add_output(parser: argparse.ArgumentParser) -> None:
    """OUT and ``--force``, shared by every ``kiosk simulate`` sub-command."""
    parser.add_argument("out", metavar="OUT", help="output video, .mp4 or .avi (not an "
                        "existing file unless --force)")
    parser.add_argument("--force", action="store_true", help="replace OUT if it exists")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("src", metavar="SRC", help="bona fide video (or a photo, with --seconds)")
    add_output(parser)
    parser.add_argument("--seed", type=WHOLE_NUMBER,
                        help="random seed (same seed and SRC: same video); drawn when omitted "
                             "and printed in the summary")
    parser.add_argument("--seconds", type=POSITIVE_NUMBER,
                        help="output duration (default: SRC's duration; required when SRC is "
                             "a photo)")
    parser.add_argument("--fps", type=POSITIVE_NUMBER,
                        help="frame rate when SRC is a photo (default 15); videos keep theirs")
    parser.add_argument("--fingers", type=int, choices=(0, 1, 2, 3),
                        help="thumbs holding the sheet or device (default: random 0-2)")
    parser.add_argument("--background", metavar="IMAGE",
                        help="photo of what is behind the attack (default: a synthetic room)")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate", help="render a simulated print, replay or light-challenge clip (tests and "
                         "training only)",
        description="Render a simulated presentation attack from bona fide material, for tests "
                    "and training only: every evaluation reports simulated and real material "
                    "apart, and real material is what counts. print: one frame of SRC printed "
                    "on paper and filmed held by hand; replay: SRC played on a phone, tablet or "
                    "monitor and filmed; light: the kiosk's colour sequence on a live face, or an "
                    "attack facing it. OUT (.mp4 or .avi) has SRC's frame size and rate.")
    sub = parser.add_subparsers(dest="attack", metavar="ATTACK", required=True)
    pr = sub.add_parser(
        "print", help="one frame printed on paper, held by hand",
        description="Print one frame of SRC (the sharpest frontal face with open eyes, or "
                    "--frame N) with a reduced gamut, halftone dots, paper grain and a white "
                    "margin, and film the sheet moving by hand in front of a background.")
    _common(pr)
    pr.add_argument("--frame", type=WHOLE_NUMBER, metavar="N",
                    help="print frame N of SRC (0-based decode order) instead of choosing one")
    pr.add_argument("--flat", action="store_true", help="never bend the sheet")
    pr.set_defaults(func=run_print)
    rp = sub.add_parser(
        "replay", help="SRC played on a screen and filmed",
        description="Play SRC on a phone, tablet or monitor (pixel grid, display gamma, glare, "
                    "bezel) and film the screen; a grid finer than the camera aliases into "
                    "moire. Loops SRC when --seconds is longer than it.")
    _common(rp)
    rp.add_argument("--device", choices=("phone", "tablet", "monitor"),
                    help="the screen (default: random; phone half of the time)")
    rp.add_argument("--pitch", type=POSITIVE_NUMBER, metavar="PX",
                    help="screen pixel spacing in output pixels (default: random 0.4-2.5; near "
                         "1 and below the grid aliases into moire, above ~2 it is resolved)")
    rp.add_argument("--banding", type=FRACTION, metavar="AMP",
                    help="amplitude of rolling refresh bands, 0 for none (default: random)")
    rp.set_defaults(func=run_replay)
    from kiosk.cli.simulate_light import add_light_parser

    add_light_parser(sub)


# -- input -----------------------------------------------------------------------------------

def _open(src: str, fps: float | None, start: int = 0, end: int | None = None):
    from kiosk.camera import open_source

    return open_source(src, paced=False, start=start, end=end, fps=fps)


def _probe(src: str, fps: float | None) -> tuple[int, float, tuple[int, int]]:
    """Decode SRC once: frame count, frame rate and frame size (width, height)."""
    count, size = 0, (0, 0)
    with _open(src, fps) as source:
        rate = source.fps
        for frame in source:
            if count == 0:
                size = (frame.shape[1], frame.shape[0])
            elif (frame.shape[1], frame.shape[0]) != size:
                raise InputError(f"{src}: frame {count} is {frame.shape[1]}x{frame.shape[0]}, "
                                 f"the first was {size[0]}x{size[1]}; a simulation needs one "
                                 "frame size")
            count += 1
    if count == 0:
        raise InputError(f"{src} has no decodable frames")
    if min(size) < 16:
        raise InputError(f"{src}: frames of {size[0]}x{size[1]} are too small (16x16 at least)")
    return count, rate, size


def _frame_count(src: str, count: int, fps: float, seconds: float | None) -> int:
    """Frames to write: SRC's duration, or ``seconds`` at SRC's rate.

    Raises
    ------
    InputError
        SRC is a single picture and ``seconds`` is None: its "duration" would be one frame.
    """
    if seconds is not None:
        return max(1, round(seconds * fps))
    if count == 1:
        raise InputError(f"{src} is a photo (a single frame) and has no duration of its own: "
                         "give --seconds, the length of the clip to render")
    return count


def _read_frame(src: str, fps: float | None, index: int):
    with _open(src, fps, start=index, end=index) as source:
        frame = source.read()
    if frame is None:
        raise InputError(f"{src}: frame {index} cannot be decoded")
    return frame.image


def _choose_still(src: str, fps: float | None, count: int) -> int:
    """Decode index of the sharpest frontal open-eyed face among spread-out frames of SRC."""
    import cv2
    import numpy as np

    from kiosk.analysis.face import FaceTracker
    from kiosk.lab.simulate import choose_still

    if count == 1:
        return 0
    stride = max(1, math.ceil(count / MAX_STILL_CANDIDATES))
    index, rows = [], []
    with _open(src, fps) as source, FaceTracker() as tracker:
        for frame in source:
            if frame.seq % stride:
                continue
            face = tracker.observe(frame).face
            # Decode index (what --frame and frame ranges use); seq skips corrupt frames.
            index.append(getattr(source, "last_index", frame.seq))
            if face is None:
                grey = cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY)
                rows.append((float(cv2.Laplacian(grey, cv2.CV_64F).var()), math.nan, math.nan,
                             math.nan))
            else:
                rows.append((face.sharpness, face.yaw, face.pitch,
                             (face.ear_left + face.ear_right) / 2.0))
    arr = np.array(rows, dtype=np.float64)
    chosen = index[choose_still(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])]
    if not np.isfinite(arr[:, 1]).any():
        log.warning("no face found in %s; printing its sharpest frame %d", src, chosen)
    return chosen


def _looped_frames(src: str, fps: float | None) -> Generator[Any, None, None]:
    """SRC's images, starting over at the end (for an output longer than SRC)."""
    while True:
        with _open(src, fps) as source:
            for frame in source:
                yield frame.image


def _background(path: str | None):
    if path is None:
        return None
    from kiosk.camera import read_image

    image = read_image(Path(path).expanduser())
    if image is None:
        raise InputError(f"--background {path} is missing or not an image OpenCV can decode")
    return image


# -- output ----------------------------------------------------------------------------------

def check_output(out: str, src: str, force: bool = False) -> tuple[Path, str]:
    """OUT as a path and its fourcc, or InputError before any work is done.

    Parameters
    ----------
    out, src : str
        OUT and SRC as given.
    force : bool
        Replace OUT if it exists (``--force``); it is never SRC.

    Raises
    ------
    InputError
        OUT has another extension, is a folder, SRC, in a missing or unwritable folder, or
        exists and ``force`` is false.
    """
    path = Path(out).expanduser()
    fourcc = FOURCC.get(path.suffix.lower())
    if fourcc is None:
        raise InputError(f"cannot write {path}: OUT must end in .mp4 or .avi")
    if path.is_dir():
        raise InputError(f"cannot write {path}: it is a folder")
    parent = path.resolve().parent
    if not parent.is_dir():
        raise InputError(f"cannot write {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InputError(f"cannot write {path}: permission denied")
    source = Path(src).expanduser()
    if path.exists() and source.exists() and path.resolve() == source.resolve():
        raise InputError(f"OUT {path} is SRC; choose another file")
    if path.exists() and not force:
        # As `kiosk audit export` does: a render takes minutes and may replace a real capture.
        raise InputError(f"{path} exists; choose another OUT, or give --force to replace it")
    return path, fourcc


class _VideoOut:
    """OUT as a cv2.VideoWriter.

    Frames go to a hidden file beside OUT that replaces it only once complete and readable,
    so a failed render (or one that cannot start) leaves an existing OUT as it was.
    """

    def __init__(self, path: Path, fourcc: str, fps: float, size: tuple[int, int]) -> None:
        import cv2

        self.path = path
        # Same folder (an atomic rename) and same extension (OpenCV picks the container by it).
        self._partial = path.with_name(f".{path.stem}.{os.getpid()}.partial{path.suffix}")
        self._writer = cv2.VideoWriter(str(self._partial), cv2.VideoWriter.fourcc(*fourcc),
                                       fps, size)
        if not self._writer.isOpened():
            self._writer.release()
            self._discard()
            raise InputError(f"cannot write {path}: OpenCV cannot open it for writing with "
                             f"the {fourcc} codec (unwritable location or codec missing)")
        self.frames = 0

    def write(self, image) -> None:
        self._writer.write(image)
        self.frames += 1

    def _discard(self) -> None:
        self._partial.unlink(missing_ok=True)

    def __enter__(self) -> _VideoOut:
        return self

    def __exit__(self, exc_type, *rest) -> None:
        self._writer.release()
        if exc_type is not None:
            self._discard()
            return
        import cv2

        check = cv2.VideoCapture(decodable_name(self._partial))
        ok = check.isOpened() and check.read()[0]
        check.release()
        if not ok:
            self._discard()
            raise InputError(f"{self.path} was written but cannot be read back; try .avi")
        os.replace(self._partial, self.path)


def _seed(args: argparse.Namespace) -> int:
    import secrets

    return args.seed if args.seed is not None else secrets.randbelow(2**31)


def _summary(kind: str, out: _VideoOut, size: tuple[int, int], fps: float, src: str,
             seed: int, detail: str) -> str:
    return (f"{kind}: {out.frames} frames {size[0]}x{size[1]} at {fps:g} fps "
            f"({out.frames / fps:.2f} s) from {src} ({detail}), seed {seed} -> {out.path}")


# -- commands --------------------------------------------------------------------------------

def run_print(args: argparse.Namespace, ctx: Any) -> int:
    # numpy, OpenCV and MediaPipe load slowly: import them only when the command runs.
    import numpy as np

    from kiosk.lab.simulate import PrintParams, prepare_print, render_print_frame

    target = check_output(args.out, args.src, args.force)
    count, fps, size = _probe(args.src, args.fps)
    if args.frame is not None and args.frame >= count:
        raise InputError(f"--frame {args.frame}: {args.src} has {count} frames (0-{count - 1})")
    n_frames = _frame_count(args.src, count, fps, args.seconds)
    index = args.frame if args.frame is not None else _choose_still(args.src, args.fps, count)
    still = _read_frame(args.src, args.fps, index)
    background = _background(args.background)
    seed = _seed(args)
    rng = np.random.default_rng(seed)
    overrides: dict[str, Any] = {}
    if args.flat:
        overrides["bend"] = 0.0
    if args.fingers is not None:
        overrides["fingers"] = args.fingers
    params = PrintParams.random(rng, **overrides)
    with _VideoOut(*target, fps, size) as out:
        scene = prepare_print(still, n_frames, fps, params, rng, out_size=size,
                              background=background)
        for i in range(n_frames):
            out.write(render_print_frame(scene, i, rng))
            if i % 50 == 0:
                log.info("print: frame %d of %d", i + 1, n_frames)
    detail = f"frame {index}, bend {params.bend:.3f}, halftone {params.halftone_period:.2f} px"
    ctx.stdout.write(_summary("print attack", out, size, fps, args.src, seed, detail) + "\n")
    return 0


def run_replay(args: argparse.Namespace, ctx: Any) -> int:
    import numpy as np

    from kiosk.lab.simulate import ReplayParams, prepare_replay, render_replay_frame

    target = check_output(args.out, args.src, args.force)
    count, fps, size = _probe(args.src, args.fps)
    n_frames = _frame_count(args.src, count, fps, args.seconds)
    background = _background(args.background)
    seed = _seed(args)
    rng = np.random.default_rng(seed)
    overrides: dict[str, Any] = {}
    if args.fingers is not None:
        overrides["fingers"] = args.fingers
    if args.banding is not None:
        overrides["banding"] = args.banding
    if args.pitch is not None:
        overrides["pixel_pitch"] = args.pitch
        overrides["supersample"] = 3 if args.pitch < 1.5 else 2
    params = ReplayParams.random(rng, device=args.device, **overrides)
    with _VideoOut(*target, fps, size) as out:
        scene = prepare_replay(n_frames, fps, size, params, rng, out_size=size,
                               background=background)
        frames = _looped_frames(args.src, args.fps)
        for i in range(n_frames):
            out.write(render_replay_frame(scene, next(frames), i, rng))
            if i % 50 == 0:
                log.info("replay: frame %d of %d", i + 1, n_frames)
        frames.close()
    detail = (f"{params.device}, pixel pitch {params.pixel_pitch:.2f} px, banding "
              f"{params.banding:.3f}")
    ctx.stdout.write(_summary("replay attack", out, size, fps, args.src, seed, detail) + "\n")
    return 0
