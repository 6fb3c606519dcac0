"""What the command line writes to: whether a stream takes every character the log may
hold."""

from __future__ import annotations

import codecs
from typing import Any


def utf8(stream: Any) -> bool:
    """``stream`` writes UTF-8, or has no encoding of its own (it takes str)."""
    encoding = getattr(stream, "encoding", None)
    return encoding is None or codecs.lookup(encoding).name == "utf-8"
