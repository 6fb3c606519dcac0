"""``python -m kiosk`` runs the headless command line (as the ``kiosk`` console script)."""

from kiosk.cli import console

raise SystemExit(console())
