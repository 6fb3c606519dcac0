"""Working keys: the subject hash (HMAC-SHA256), best-frame encryption (AES-256-GCM) and the
keyed hash chain (HMAC-SHA256).

One 32-byte master secret yields every working key through HKDF-SHA256 with different labels,
so one key file serves all purposes without reusing a key. Where the master comes from is
:class:`kiosk.audit.keystore.KeyStore`'s job; this module only computes with keys.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kiosk.audit.errors import AuditError
from kiosk.settings.pinhash import ascii_digits

KEY_BYTES = 32
_NONCE_BYTES = 12
MAX_SUBJECT_NUMBER_CHARS = 64
"""Cap after normalising: real badge and ID numbers are far shorter; more is a slip or a paste."""

# Dashes and hyphens that NFKC leaves as they are (category Pd covers hyphen-minus, the
# Unicode hyphens, en and em dashes, the small and full-width forms); these are not Pd.
_EXTRA_DASHES = frozenset("\u2212\u2043\u02d7\u2796\u207b\u208b")


# Capital letters of the Cyrillic and Greek alphabets drawn as a Latin capital (Unicode's
# confusables, UTS #39, for the letters NFKC and upper case leave): typed on a Cyrillic or
# Greek keyboard layout, or pasted, they look like the number on the card.
_LOOK_ALIKES = str.maketrans({
    "\u0410": "A", "\u0412": "B", "\u0415": "E", "\u041a": "K", "\u041c": "M", "\u041d": "H",
    "\u041e": "O", "\u0420": "P", "\u0421": "C", "\u0422": "T", "\u0423": "Y", "\u0425": "X",
    "\u0406": "I", "\u0408": "J", "\u0405": "S", "\u051a": "Q", "\u051c": "W", "\u04ae": "Y",
    "\u0391": "A", "\u0392": "B", "\u0395": "E", "\u0396": "Z", "\u0397": "H", "\u0399": "I",
    "\u039a": "K", "\u039c": "M", "\u039d": "N", "\u039f": "O", "\u03a1": "P", "\u03a4": "T",
    "\u03a5": "Y", "\u03a7": "X"})


def _dropped(ch: str) -> bool:
    category = unicodedata.category(ch)
    # Cf: format characters (zero-width space and joiners, soft hyphen, direction marks);
    # Z*: separators (spaces of every width, line and paragraph separators); Cc: controls
    # (tab, newline); Pd and the extra dashes: every dash and hyphen; the other punctuation
    # (P*: the dots and slashes of 123.456.789-09 or AB/1234, brackets, quotes); Mn: accents
    # and other marks (the dot of a Turkish capital I, once decomposed).
    return (category in ("Cf", "Cc", "Zs", "Zl", "Zp", "Mn") or category.startswith("P")
            or ch.isspace() or ch in _EXTRA_DASHES)


def normalize_subject_number(number: str) -> str:
    """The canonical form of a badge or ID number before hashing.

    NFKD (full-width and compatibility forms fold to their plain letters and digits, accented
    letters to the letter and its mark), upper case, the decimal digits of every script as
    ASCII digits, the Cyrillic and Greek capitals drawn as a Latin one as that letter, and
    then every format character (Unicode category Cf: zero-width spaces, soft hyphens,
    direction marks), separator and space (category Z and white space), control character,
    punctuation (category P: dashes, hyphens, dots, slashes; and the minus signs) and mark
    (category Mn) removed. So ``"ab-123 "``, ``"AB123"``, ``"AB\\u200b123"``,
    ``"AB/1.23"``, ``"\\u0410\\u0412\\u0661\\u0662\\u0663"`` (Cyrillic letters, Arabic-Indic
    digits) are one subject, and retyping or pasting a number differently does not reset its
    failure count, nor make an unlock miss it.

    Raises
    ------
    ValueError
        Not a string, text that is not valid Unicode (e.g. undecodable bytes from the command
        line), nothing left after normalising, or more than
        :data:`MAX_SUBJECT_NUMBER_CHARS` characters left.
    """
    if not isinstance(number, str):
        raise ValueError(f"the subject number must be a string, not {type(number).__name__}")
    if any(unicodedata.category(ch) == "Cs" for ch in number):
        raise ValueError("the subject number is not valid text (it contains bytes that are not "
                         "UTF-8); type it again")
    text = unicodedata.normalize("NFKD", number).upper()
    # Arabic-Indic, Persian, Devanagari, Thai ... keyboards type their own digits.
    text = ascii_digits("".join(ch for ch in text if not _dropped(ch))).translate(_LOOK_ALIKES)
    if not text:
        raise ValueError("the subject number is empty once spaces, dashes and invisible "
                         "characters are removed; give the badge or ID number")
    if len(text) > MAX_SUBJECT_NUMBER_CHARS:
        raise ValueError(f"the subject number is longer than {MAX_SUBJECT_NUMBER_CHARS} "
                         f"characters ({len(text)} once spaces, dashes and invisible "
                         "characters are removed); give the badge or ID number alone")
    return text


def subject_ref(number: str, key: bytes) -> str:
    """Keyed hash of a badge or ID number: HMAC-SHA256 hex (64 digits) of its normal form.

    Parameters
    ----------
    number : str
        The number as read or typed; it is not kept anywhere.
    key : bytes
        The subject key (:meth:`KeyStore.subject_hasher` derives it); at least 32 bytes.
    """
    if len(key) < KEY_BYTES:
        raise ValueError(f"the subject key must be at least {KEY_BYTES} bytes")
    normal = normalize_subject_number(number)
    return hmac.new(key, normal.encode("utf-8"), hashlib.sha256).hexdigest()


def derive_key(master: bytes, purpose: str) -> bytes:
    """A 32-byte working key for ``purpose`` (``"subject-ref"``, ``"frame"`` or ``"chain"``)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None,
                info=f"liveness-kiosk audit {purpose} v1".encode())
    return hkdf.derive(master)


def key_id(key: bytes) -> str:
    """A short public identifier of a key (HMAC of a fixed label, 16 hex digits)."""
    return hmac.new(key, b"liveness-kiosk key id", hashlib.sha256).hexdigest()[:16]


class SubjectHasher:
    """Computes subject references with one subject key.

    Parameters
    ----------
    key : bytes
        The derived subject key, at least 32 bytes.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < KEY_BYTES:
            raise ValueError(f"the subject key must be at least {KEY_BYTES} bytes")
        self._key = bytes(key)
        self.key_id = key_id(self._key)

    def ref(self, number: str) -> str:
        """:func:`subject_ref` of ``number`` with this key."""
        return subject_ref(number, self._key)

    def __repr__(self) -> str:
        return f"SubjectHasher(key_id={self.key_id!r})"


class ChainKey:
    """The key of the hash chain: row hashes, the head record and anchors are HMACs with it.

    Each database gets its own key, ``HMAC(chain key, db_id)``, so rows cannot be moved from
    one log to another that shares the master secret.

    Parameters
    ----------
    key : bytes
        The derived chain key, at least 32 bytes.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < KEY_BYTES:
            raise ValueError(f"the chain key must be at least {KEY_BYTES} bytes")
        self._key = bytes(key)
        self.key_id = key_id(self._key)

    def for_db(self, db_id: str) -> bytes:
        """The working key of one database."""
        return hmac.new(self._key, f"db|{db_id}".encode("ascii"), hashlib.sha256).digest()

    def __repr__(self) -> str:
        return f"ChainKey(key_id={self.key_id!r})"


class FrameCipher:
    """AES-256-GCM for best frames; the associated data binds a frame to its attempt.

    Parameters
    ----------
    key : bytes
        The derived frame key, exactly 32 bytes.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"the frame key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(bytes(key))
        self.key_id = key_id(key)

    def encrypt(self, plaintext: bytes, associated: bytes) -> tuple[bytes, bytes]:
        """Return ``(nonce, ciphertext)``; a fresh random 96-bit nonce per frame."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return nonce, self._aead.encrypt(nonce, bytes(plaintext), associated)

    def decrypt(self, nonce: bytes, ciphertext: bytes, associated: bytes) -> bytes:
        """The plaintext; AuditError when the key, the data or the attempt binding differ."""
        try:
            return self._aead.decrypt(nonce, ciphertext, associated)
        except InvalidTag:
            raise AuditError("the stored frame does not decrypt with this key (wrong key, or the "
                             "frame was altered or moved to another attempt)") from None

    def __repr__(self) -> str:
        return f"FrameCipher(key_id={self.key_id!r})"
