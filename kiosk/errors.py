"""Typed errors shared by every layer.

Each error carries a plain message for staff; none carries images, embeddings or secrets.
Layer-specific errors (cloud, audit) subclass :class:`KioskError` in their own packages.
"""

from __future__ import annotations


class KioskError(Exception):
    """Base of every error the kiosk raises on purpose."""


class ConfigError(KioskError):
    """A settings file or override is invalid; the message names the key and the allowed values."""


class ResourceError(KioskError):
    """A shipped resource (model file, weights) is missing or does not match its checksum."""


class CameraError(KioskError):
    """A frame source cannot be opened, or stopped delivering frames."""


class InputError(KioskError):
    """A file given by the user (video, image, folder, manifest) is unusable."""
