"""``python -m kiosk.ui``: the kiosk application, as ``python main.py`` starts it, from the
installed package (the unit that ``kiosk service unit`` prints runs this)."""

import cv2  # noqa: F401  (imported before Qt on purpose: see kiosk/ui/qtenv.py)

from kiosk.ui.launch import main

if __name__ == "__main__":  # importing the module (tools that walk the package) runs nothing
    raise SystemExit(main())
