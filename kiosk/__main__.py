"""``python -m kiosk`` runs the headless command line."""

from kiosk.cli import main

raise SystemExit(main())
