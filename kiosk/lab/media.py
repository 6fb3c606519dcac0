"""Media handling for ``kiosk evaluate`` and scripts/train_fusion.py.

Opens a manifest row's media (its frame range only) and analyses it
(:func:`analyse_file`), and renders simulated attacks from a bona fide row to a file
(:func:`render_simulated`) with :mod:`kiosk.lab.simulated_attacks`. The camera layer
decodes; the analysis layer computes.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kiosk.errors import InputError

# Candidate frames tracked to choose the frame to print (tracking costs ~15 ms a frame; 40
# spread over a clip find a sharp frontal face, as ``kiosk simulate print`` does).
PRINT_CANDIDATES = 40
# JPEG quality of simulated stills: the developer set's photos are JPEGs of similar quality.
STILL_JPEG_QUALITY = 90


def analyse_file(path: Path, row, *, settings, fusion, texture_reference,
                 camera_fixed: bool = False, simulated: bool = False, sequence=None):
    """Track, analyse and fuse one media file as ``row`` (a ManifestRow) describes it.

    ``sequence`` (a LightSequence in the file's media time, the row's ``sequence`` file) adds
    the light challenge's analyzer, judged against it.

    Returns
    -------
    kiosk.lab.evaluation.Presentation

    Raises
    ------
    InputError, CameraError
        The file cannot be decoded.
    """
    from kiosk.analysis.face import FaceTracker
    from kiosk.analysis.passive import default_analyzers, still_analyzers
    from kiosk.camera import open_source
    from kiosk.lab.evaluation import analyse_presentation

    analyzers = (still_analyzers(texture_reference) if row.still else
                 default_analyzers(settings, texture_reference=texture_reference,
                                   camera_fixed=camera_fixed))
    if sequence is not None and not row.still:
        from kiosk.analysis.light import LightAnalyzer

        analyzers.append(LightAnalyzer(sequence))  # frame times are media times (unpaced)
    first, last = row.frame_range or (0, None)
    with open_source(str(path), paced=False, start=first, end=last) as source, \
            FaceTracker() as tracker:
        return analyse_presentation(row, source, tracker, analyzers, fusion, fps=source.fps,
                                    liveness=None if settings is None else settings.liveness,
                                    simulated=simulated)


def _images(path: Path, frame_range) -> Iterator[np.ndarray]:
    from kiosk.camera import open_source

    first, last = frame_range or (0, None)
    with open_source(str(path), paced=False, start=first, end=last) as source:
        for frame in source:
            yield frame.image


def _looped(path: Path, frame_range) -> Generator[np.ndarray, None, None]:
    while True:
        count = 0
        for image in _images(path, frame_range):
            count += 1
            yield image
        if count == 0:
            raise InputError(f"{path} has no decodable frames")


def _print_still(path: Path, frame_range) -> np.ndarray:
    """The frame to print: tracked candidates spread over the clip, best one chosen."""
    from kiosk.analysis.face import FaceTracker
    from kiosk.camera import open_source
    from kiosk.lab.simulated_attacks import print_frame_index

    first, last = frame_range or (0, None)
    with open_source(str(path), paced=False, start=first, end=last) as source:
        total = getattr(source, "frame_count", None)
    if last is not None:
        total = last - first + 1
    stride = max(1, math.ceil((total or PRINT_CANDIDATES) / PRINT_CANDIDATES))
    candidates, images = [], {}
    with open_source(str(path), paced=False, start=first, end=last) as source, \
            FaceTracker() as tracker:
        for frame in source:
            if frame.seq % stride:
                continue
            candidates.append((frame.seq, tracker.observe(frame)))
            images[frame.seq] = frame.image
    if not candidates:
        raise InputError(f"{path} has no decodable frames")
    return images[print_frame_index(candidates)]


def render_simulated(src: Path, row, kind: str, seed: int, out_dir: Path,
                     seconds: float) -> Path:
    """Render one simulated attack of ``kind`` from the bona fide ``row`` to a file.

    A video row gives an MP4 of ``seconds`` at the source's rate and size; a still row gives a
    JPEG of one frame (a photo of the print or the screen, like the stills it stands beside).

    Returns
    -------
    Path
        The rendered file in ``out_dir``.
    """
    from kiosk.camera import open_source
    from kiosk.lab.simulated_attacks import SPECIES, render_attack, write_video

    first, last = row.frame_range or (0, None)
    with open_source(str(src), paced=False, start=first, end=last) as source:
        fps = float(source.fps)
        frame = source.read()
    if frame is None:
        raise InputError(f"{src} has no decodable frames")
    h, w = frame.shape
    rng = np.random.default_rng(seed)
    still = None
    if SPECIES[kind] == "print":
        still = frame.image if row.still else _print_still(src, row.frame_range)
    source_frames = _looped(src, row.frame_range) if SPECIES[kind] == "replay" else None
    try:
        if row.still:
            image = next(render_attack(kind, still=still, source=source_frames, n_frames=1,
                                       fps=fps, size=(w, h), rng=rng))
            out = Path(out_dir) / f"{kind}-{seed}.jpg"
            if not cv2.imwrite(str(out), image, [cv2.IMWRITE_JPEG_QUALITY, STILL_JPEG_QUALITY]):
                raise InputError(f"cannot write {out}")
            return out
        n_frames = max(1, round(seconds * fps))
        out = Path(out_dir) / f"{kind}-{seed}.mp4"
        frames = render_attack(kind, still=still, source=source_frames, n_frames=n_frames,
                               fps=fps, size=(w, h), rng=rng)
        write_video(frames, out, fps, (w, h))
        return out
    finally:
        if source_frames is not None:
            source_frames.close()


def simulated_row(row, kind: str, seed: int) -> Any:
    """The made-up manifest row of a simulated attack rendered from ``row``."""
    from kiosk.lab.manifest import ManifestRow
    from kiosk.lab.simulated_attacks import SPECIES

    return ManifestRow(path=f"simulated/{kind}/seed-{seed}/{row.path}",
                       media="image" if row.still else "video", label="attack",
                       species=SPECIES[kind], frames="", events="", subject=row.subject,
                       notes=f"simulated {kind} attack rendered from {row.path}, seed {seed}")
