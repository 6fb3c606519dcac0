"""Choose and open the right frame source for a command-line or settings value."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from kiosk.camera.device import DeviceSource
from kiosk.camera.images import (
    DEFAULT_IMAGE_FPS,
    ImageFileSource,
    ImageFolderSource,
    is_image_path,
)
from kiosk.camera.source import Clock, FrameSource, Sleep
from kiosk.camera.video import VideoFileSource, check_file
from kiosk.errors import InputError
from kiosk.settings import Settings
from kiosk.settings.schema import is_device_spec


def refuse_still(spec: str | os.PathLike[str], what: str = "--source") -> None:
    """InputError when ``spec`` is a single image file: a session needs frames over time (a
    still holds no movement to answer a prompt with, and no life to show).

    Parameters
    ----------
    spec : str or path-like
        The source as given.
    what : str
        How the message names it.
    """
    path = Path(os.fspath(spec)).expanduser()
    if path.is_file() and is_image_path(path):
        raise InputError(f"{what} {spec} is a single image, and a single image cannot be "
                         "checked for liveness: give a video file or an image folder")


def recording_path(spec: str | os.PathLike[str], what: str = "--source") -> str:
    """The recording given in place of the camera, as :func:`open_source` must be given it.

    A file or folder whose name reads as a camera index (``0``) is that file: its absolute
    path is returned, so that it is not opened as camera 0.

    Parameters
    ----------
    spec : str or path-like
        The source as given.
    what : str
        How messages name it.

    Raises
    ------
    InputError
        Nothing at ``spec``, or a camera: a session on a camera needs the window, where the
        person sees the prompts (the kiosk's camera is ``camera.device``).
    """
    path = Path(os.fspath(spec)).expanduser()
    if path.is_file() or path.is_dir():
        return str(path.absolute())
    if is_device_spec(os.fspath(spec)):
        raise InputError(f"{what} {spec} names a camera: {what} takes a video file or an image "
                         "folder (the kiosk runs on the camera of camera.device, in the window, "
                         "where the person sees the prompts)")
    raise InputError(f"{what} {spec} does not exist")


def single_frame_refusal(spec: str | os.PathLike[str], what: str = "--source") -> InputError:
    """The error for a source of one frame: a single image in disguise (a photo named .mp4,
    a one-frame clip, a folder of one image)."""
    return InputError(f"{what} {spec} holds a single frame, and a single image cannot be "
                      "checked for liveness: give a video file or an image folder")


def refuse_single_frame(spec: str | os.PathLike[str], what: str = "--source") -> None:
    """InputError unless the source delivers at least two frames (it reads them, then closes
    the source): containers and folders do not always announce their length."""
    source = open_source(spec)
    try:
        frames = [source.read() for _ in range(2)]
    finally:
        source.close()
    if any(frame is None for frame in frames):
        raise single_frame_refusal(spec, what)


def open_source(spec: str | os.PathLike[str], *, settings: Settings | None = None,
                paced: bool = False, start: int = 0, end: int | None = None,
                fps: float | None = None, clock: Clock = time.monotonic,
                sleep: Sleep = time.sleep, open_now: bool = True,
                **device_options: Any) -> FrameSource:
    """The frame source ``spec`` names, opened.

    Parameters
    ----------
    spec : str or path-like
        A camera index (``"0"``) or ``/dev/...`` path: :class:`DeviceSource` configured by
        ``settings.camera``; a folder: :class:`ImageFolderSource`; a still image (by
        extension): :class:`ImageFileSource`; anything else: :class:`VideoFileSource`
        (animated GIFs included).
    settings : Settings, optional
        Camera settings for devices; the defaults when None.
    paced : bool
        Deliver file and folder frames in real time (devices are live anyway).
    start, end : int
        Inclusive 0-based frame range for videos and folders.
    fps : float, optional
        Nominal rate of a folder or single image (15 by default).
    clock, sleep :
        Injectable for tests.
    open_now : bool
        Open the source before returning it (default), so a bad ``spec`` fails here.
    **device_options :
        Extra :class:`DeviceSource` arguments (``capture_factory``, ``sysfs_root``, ...).

    Raises
    ------
    InputError
        Missing, empty or undecodable file or folder; a frame range given for a camera.
    CameraError
        A camera cannot be opened or is a refused virtual camera.
    """
    text = os.fspath(spec)
    if not text.strip():
        raise InputError("no source given: expected a camera index, a device path, a video "
                         "file, an image file or an image folder")
    source: FrameSource
    if is_device_spec(text):
        if start != 0 or end is not None:
            raise InputError("a frame range applies to video files and image folders, not to "
                             f"camera {text}")
        source = DeviceSource.from_settings(settings or Settings(), device=text.strip(),
                                            clock=clock, **device_options)
    else:
        path = Path(text).expanduser()
        image_fps = DEFAULT_IMAGE_FPS if fps is None else fps
        if path.is_dir():
            source = ImageFolderSource(path, fps=image_fps, paced=paced, start=start, end=end,
                                       clock=clock, sleep=sleep)
        elif is_image_path(path):
            check_file(path, "image file")
            if start > 0:
                raise InputError(f"frame range starts at {start} but {path} is a single image")
            source = ImageFileSource(path, fps=image_fps, clock=clock, sleep=sleep)
        else:
            check_file(path, "video file")
            source = VideoFileSource(path, paced=paced, start=start, end=end, clock=clock,
                                     sleep=sleep)
    if open_now:
        source.open()
    return source
