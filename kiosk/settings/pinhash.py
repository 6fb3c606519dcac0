"""The operator PIN: its format, and its salted hash for the settings file.

``kiosk.operator_pin`` holds either the PIN itself (4-12 ASCII digits; a settings file holding
one must be readable by its owner only) or, better, its salted hash as printed by ``kiosk
settings hash-pin``: ``scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>`` (scrypt, RFC 7914, with n =
2**14, r = 8, p = 1: about 30 ms and 16 MiB per check here, so guessing a 6-digit PIN offline
from a copied file takes hours rather than a second).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata

PIN_PATTERN = re.compile(r"^[0-9]{4,12}$", re.ASCII)
"""A PIN: 4 to 12 ASCII digits (a full-width "１２３４" is not one)."""

_HASH = re.compile(r"^scrypt\$(\d+)\$(\d+)\$(\d+)\$([0-9a-f]{32})\$([0-9a-f]{64})$")
_N, _R, _P = 2 ** 14, 8, 1


def is_pin(text: str) -> bool:
    return bool(PIN_PATTERN.match(text))


def is_pin_hash(text: str) -> bool:
    """``text`` is a PIN hash made by :func:`hash_pin` (with sane cost parameters)."""
    found = _HASH.match(text)
    if found is None:
        return False
    n, r, p = (int(found.group(i)) for i in (1, 2, 3))
    return 2 ** 10 <= n <= 2 ** 20 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode("ascii"), salt=salt, n=n, r=r, p=p, dklen=32,
                          maxmem=256 * 1024 * 1024)


def hash_pin(pin: str) -> str:
    """The salted hash of ``pin`` to put in ``kiosk.operator_pin``.

    Raises
    ------
    ValueError
        ``pin`` is not 4-12 ASCII digits.
    """
    if not isinstance(pin, str) or not is_pin(pin):
        raise ValueError("the operator PIN must be 4 to 12 digits 0-9")
    salt = secrets.token_bytes(16)
    digest = _scrypt(pin, salt, _N, _R, _P)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def ascii_digits(entered: str) -> str:
    """``entered`` with the decimal digits of every script as ASCII digits: staff at an
    Arabic or Persian keyboard layout type the PIN's (or an ID number's) digits as ``٤٨٢١``,
    full-width input as ``４８２１``; they are the same digits. Anything else is left as it
    is."""
    return "".join(str(digit) if (digit := unicodedata.decimal(ch, None)) is not None else ch
                   for ch in entered)


def pin_matches(entered: str, stored: str) -> bool:
    """Compare an entered PIN with the configured one (plain or hashed), in constant time
    for a given stored value. The entry's digits count whatever their script
    (:func:`ascii_digits`); an entry that is not 4-12 digits then never matches."""
    entered = ascii_digits(entered)
    if not is_pin(entered):
        return False
    found = _HASH.match(stored)
    if found is not None:
        n, r, p = (int(found.group(i)) for i in (1, 2, 3))
        digest = _scrypt(entered, bytes.fromhex(found.group(4)), n, r, p)
        return hmac.compare_digest(digest, bytes.fromhex(found.group(5)))
    # Hashing first gives compare_digest equal lengths, so the time taken says nothing about
    # the PIN's length either.
    return hmac.compare_digest(hashlib.sha256(entered.encode()).digest(),
                               hashlib.sha256(stored.encode()).digest())
