"""Keep OpenCV's bundled Qt 5 away from PySide6.

``opencv-contrib-python`` (the OpenCV that mediapipe requires) sets QT_QPA_PLATFORM_PLUGIN_PATH
and QT_QPA_FONTDIR to its own Qt 5 folders when ``cv2`` is imported. PySide6 (Qt 6) would then
try to load Qt 5 platform plugins and fail to start a window. This module does not import Qt:
the composition root calls :func:`drop_opencv_qt_paths` after importing cv2 and before creating
the QApplication.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path

QT_PATH_VARIABLES = ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR", "QT_PLUGIN_PATH")


def drop_opencv_qt_paths(environ: MutableMapping[str, str]) -> list[str]:
    """Remove the Qt path variables that point into the cv2 package.

    Parameters
    ----------
    environ : MutableMapping[str, str]
        The process environment (``os.environ``), changed in place.

    Returns
    -------
    list of str
        The names of the variables removed. Variables set by the user to other folders stay.
    """
    removed = []
    for name in QT_PATH_VARIABLES:
        value = environ.get(name)
        if value and any(part == "cv2" for part in Path(value).parts):
            del environ[name]
            removed.append(name)
    return removed
