"""The optional ``[lab]`` extra: a clear error when a lab command runs without it."""

from __future__ import annotations

import importlib.util

from kiosk.errors import KioskError

#: Import names of the ``[lab]`` extra's packages.
LAB_MODULES = ("matplotlib", "tqdm")


class LabExtraMissing(KioskError):
    """A lab command needs a package of the ``[lab]`` extra that is not installed."""


def require_lab(command: str) -> None:
    """Raise :class:`LabExtraMissing` naming ``command`` when the lab extra is incomplete."""
    missing = [name for name in LAB_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise LabExtraMissing(
            f"{command} needs the lab extra ({', '.join(missing)} missing); install it with "
            "pip install 'liveness-kiosk[lab]' (scripts/setup.sh --test does)")
