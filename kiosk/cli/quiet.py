"""Hide the native log lines that MediaPipe and TensorFlow Lite write to standard error.

MediaPipe's C++ graph and the TFLite runtime log through glog/absl straight to file
descriptor 2, from their own threads ("W0000 00:00:... face_landmarker_graph.cc:181] ...",
"INFO: Created TensorFlow Lite XNNPACK delegate for CPU."); no environment variable of
mediapipe 1.2 silences them. :class:`NativeLogFilter` puts a pipe in place of descriptor 2,
drops the lines of that shape and passes everything else through unchanged. Python's own
``sys.stderr`` writes to the real descriptor directly, so its messages and tracebacks never
wait on the filter. The ``kiosk`` console command uses it unless ``-v`` is given.
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


class NativeLogFilter:
    """Context manager: while active, native lines matching :data:`NATIVE_NOISE` are dropped
    from file descriptor 2."""

    def __init__(self, pattern: re.Pattern[bytes] = NATIVE_NOISE) -> None:
        self.pattern = pattern
        self._saved = -1
        self._thread: threading.Thread | None = None
        self._python_stderr: TextIO | None = None

    def __enter__(self) -> NativeLogFilter:
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
