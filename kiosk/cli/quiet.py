"""Hide the native log lines of MediaPipe, TensorFlow Lite, OpenCV and FFmpeg from stderr.

MediaPipe's C++ graph and the TFLite runtime log through glog/absl straight to file
descriptor 2, from their own threads ("W0000 00:00:... face_landmarker_graph.cc:181] ...",
"INFO: Created TensorFlow Lite XNNPACK delegate for CPU."); no environment variable of
mediapipe 1.2 silences them. :class:`NativeLogFilter` puts a pipe in place of descriptor 2,
drops the lines of that shape and passes everything else through unchanged. Python's own
``sys.stderr`` writes to the real descriptor directly, so its messages and tracebacks never
wait on the filter. The ``kiosk`` console command uses it unless ``-v`` is given.

OpenCV ("[ WARN:0@0.096] global cap.cpp:212 open VIDEOIO(FFMPEG): ...") and the FFmpeg it
bundles ("[mov,mp4,m4a,3gp,3g2,mj2 @ 0x...] moov atom not found") do have switches, so the
filter turns them off at the source instead (:data:`QUIET_ENV`): the kiosk's own message
says what went wrong with a file.
"""

from __future__ import annotations

import io
import os
import re
import sys
import threading
from types import TracebackType
from typing import TextIO

#: One line of glog/absl (``I``/``W``/``E``/``F`` and the date, time, thread, file:line]) or the
#: TFLite and glog start-up notes.
NATIVE_NOISE = re.compile(
    rb"^(?:[IWEF]\d{4} [\d:.]+\s+\d+ [\w./-]+:\d+\] "
    rb"|WARNING: Logging before InitGoogle\(\)"
    rb"|INFO: Created TensorFlow Lite )")


#: OpenCV's own log level, read once when cv2 is imported, and the level OpenCV gives FFmpeg
#: (``av_log_set_level``; -8 is AV_LOG_QUIET), read when its FFmpeg backend is first used.
#: Checked with opencv-python 5.1: without them a truncated MP4 prints both kinds of line.
QUIET_ENV = {"OPENCV_LOG_LEVEL": "SILENT", "OPENCV_FFMPEG_LOGLEVEL": "-8"}


class NativeLogFilter:
    """Context manager: while active, native lines matching :data:`NATIVE_NOISE` are dropped
    from file descriptor 2 and OpenCV's and FFmpeg's logging is off (:data:`QUIET_ENV`).

    Enter it before cv2 is imported and before any video is opened (the ``kiosk`` command
    does): OpenCV reads both variables once. A variable the user has set is left alone.
    """

    def __init__(self, pattern: re.Pattern[bytes] = NATIVE_NOISE) -> None:
        self.pattern = pattern
        self._saved = -1
        self._thread: threading.Thread | None = None
        self._python_stderr: TextIO | None = None
        self._set_env: list[str] = []
        self._cv2_level: int | None = None

    def __enter__(self) -> NativeLogFilter:
        self._quiet_opencv()
        sys.stderr.flush()
        self._saved = os.dup(2)
        read_end, write_end = os.pipe()
        os.dup2(write_end, 2)
        os.close(write_end)
        self._python_stderr = sys.stderr
        sys.stderr = io.TextIOWrapper(io.FileIO(os.dup(self._saved), "w"),
                                      encoding=self._python_stderr.encoding or "utf-8",
                                      errors="backslashreplace", line_buffering=True)
        self._thread = threading.Thread(target=self._pump, args=(read_end,), daemon=True,
                                        name="native-log-filter")
        self._thread.start()
        return self

    def _quiet_opencv(self) -> None:
        """Set :data:`QUIET_ENV` where unset; lower an already imported cv2's level too."""
        self._set_env = [name for name in QUIET_ENV if name not in os.environ]
        for name in self._set_env:
            os.environ[name] = QUIET_ENV[name]
        cv2 = sys.modules.get("cv2")
        if cv2 is not None and "OPENCV_LOG_LEVEL" in self._set_env:
            self._cv2_level = cv2.utils.logging.getLogLevel()
            cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)

    def _restore_opencv(self) -> None:
        """Undo :meth:`_quiet_opencv` (a child process started meanwhile stays quiet)."""
        for name in self._set_env:
            os.environ.pop(name, None)
        self._set_env = []
        cv2 = sys.modules.get("cv2")
        if cv2 is not None and self._cv2_level is not None:
            cv2.utils.logging.setLogLevel(self._cv2_level)
        self._cv2_level = None

    def _pump(self, read_end: int) -> None:
        with open(read_end, "rb", buffering=0, closefd=True) as pipe:
            for line in iter(pipe.readline, b""):
                if not self.pattern.match(line):
                    os.write(self._saved, line)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        sys.stderr.flush()
        os.dup2(self._saved, 2)  # the pipe's last writer is gone: the pump reads to its end
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        if self._python_stderr is not None:
            sys.stderr.close()
            sys.stderr = self._python_stderr
        os.close(self._saved)
        self._restore_opencv()
