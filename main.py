"""The kiosk application: ``python main.py [--windowed] [--source PATH] [--record DIR]``.

The composition root is :mod:`kiosk.ui.launch` (``kiosk record`` starts it too).
"""

import cv2  # noqa: F401  (imported before Qt on purpose: see kiosk/ui/qtenv.py)

from kiosk.ui.launch import build_parts, build_worker, excepthook_for, main, parse_args

__all__ = ["build_parts", "build_worker", "excepthook_for", "main", "parse_args"]

if __name__ == "__main__":
    raise SystemExit(main())
