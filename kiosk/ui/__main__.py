"""``python -m kiosk.ui``: the kiosk application, as ``python main.py`` starts it, from the
installed package (the unit that ``kiosk service unit`` prints runs this)."""

from kiosk.ui.launch import main  # imports cv2 before Qt, as kiosk/ui/qtenv.py needs

if __name__ == "__main__":  # importing the module (tools that walk the package) runs nothing
    raise SystemExit(main())
