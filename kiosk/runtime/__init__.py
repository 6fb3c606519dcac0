"""The kiosk's runtime without Qt: the loop that serves sessions, and what it reports.

- :mod:`.loop`: :class:`KioskRuntime`, run in a thread of its own;
- :mod:`.events`: the events it reports and the :class:`EventSink` protocol;
- :mod:`.parts`: :class:`RuntimeParts`, how it builds its tracker, fusion, audit log and
  matcher, and :class:`FaceCheck`.
"""

from kiosk.runtime.events import EventSink, RuntimeEvent, TeeSink
from kiosk.runtime.loop import KioskRuntime
from kiosk.runtime.parts import FaceCheck, RuntimeParts

__all__ = ["EventSink", "FaceCheck", "KioskRuntime", "RuntimeEvent", "RuntimeParts",
           "TeeSink"]
