"""Liveness kiosk: stops face spoofing during facial recognition."""

__version__ = "0.1.0"
