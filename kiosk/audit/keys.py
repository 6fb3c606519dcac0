"""Keys: the subject hash (HMAC-SHA256) and best-frame encryption (AES-256-GCM).

One 32-byte master secret yields both working keys through HKDF-SHA256 with different labels,
so a key file serves both purposes without reusing a key. Where the master comes from, in the
order tried (the same order in the kiosk and in ``kiosk audit``, so both compute the same
subject references):

1. ``settings.audit.key_file`` when set: a text file of at least 64 hex digits, owner-only
   (mode 0600; looser modes are refused, as ssh does). A missing configured file is an error,
   never silently replaced: a new key would orphan every lockout and earlier reference.
   ``kiosk audit keygen`` creates one.
2. For the subject hash only: ``kiosk-audit.key`` beside the database, if it already exists.
3. The OS keyring (``keyring``), service ``liveness-kiosk``, entry ``audit-master-key``;
   created on first use.
4. For the subject hash only, when the keyring has no usable backend (common on kiosks and in
   CI): ``kiosk-audit.key`` is created beside the database, mode 0600.

Frame encryption never uses the file beside the database (it would sit next to the data it
protects): without a key file or a usable keyring, asking for it raises :class:`KeyUnavailable`.
No key is ever written into the database; the log stores only a key id (an HMAC of a fixed
label) to notice when a different key is used with it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import stat
import threading
import unicodedata
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kiosk.audit import errors as e
from kiosk.audit.errors import AuditError, KeyUnavailable

log = logging.getLogger(__name__)

KEY_BYTES = 32
KEYRING_SERVICE = "liveness-kiosk"
KEYRING_ENTRY = "audit-master-key"
FALLBACK_KEY_NAME = "kiosk-audit.key"
_NONCE_BYTES = 12


def normalize_subject_number(number: str) -> str:
    """The canonical form of a badge or ID number before hashing.

    NFKC, upper case, spaces and hyphens removed: ``"ab-123 "`` and ``"AB123"`` are one
    subject, so retyping a number differently does not reset its failure count.

    Raises
    ------
    ValueError
        Not a string, or nothing left after normalising.
    """
    if not isinstance(number, str):
        raise ValueError(f"the subject number must be a string, not {type(number).__name__}")
    text = unicodedata.normalize("NFKC", number).upper()
    text = "".join(ch for ch in text if not ch.isspace() and ch != "-")
    if not text:
        raise ValueError("the subject number is empty")
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
    """A 32-byte working key for ``purpose`` (``"subject-ref"`` or ``"frame"``)."""
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


def read_key_file(path: Path) -> bytes:
    """The master secret from a key file (at least 64 hex digits, owner-only permissions).

    Raises
    ------
    KeyUnavailable
        Missing, unreadable, too permissive, or not hex.
    """
    try:
        info = path.stat()
        if os.name == "posix" and stat.S_IMODE(info.st_mode) & 0o077:
            raise KeyUnavailable(f"the key file {path} can be read by other users (mode "
                                 f"{stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {path}",
                                 reason=e.NO_KEY, path=str(path))
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise KeyUnavailable(f"the key file {path} does not exist; create one with `kiosk audit "
                             "keygen` (a new key cannot read earlier frames or match earlier "
                             "subjects)", reason=e.NO_KEY, path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyUnavailable(f"the key file {path} cannot be read: {exc}", reason=e.NO_KEY,
                             path=str(path)) from None
    try:
        master = bytes.fromhex(text)
    except ValueError:
        master = b""
    if len(master) < KEY_BYTES:
        raise KeyUnavailable(f"the key file {path} must hold at least {2 * KEY_BYTES} hex digits",
                             reason=e.NO_KEY, path=str(path))
    return master


def create_key_file(path: Path) -> bytes:
    """Write a new random master secret to ``path`` (mode 0600) and return it.

    The file appears complete or not at all (written aside, then hard-linked into place);
    an existing file is never overwritten.

    Raises
    ------
    FileExistsError
        ``path`` exists.
    OSError
        The folder cannot be written.
    """
    master = secrets.token_bytes(KEY_BYTES)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(master.hex() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.link(temp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)
    return master


def usable_keyring(backend: Any = None) -> Any | None:
    """The keyring backend if it can store secrets, else None.

    ``keyring`` returns a "fail" or "null" backend (priority <= 0) when nothing is installed,
    which is the usual case on a kiosk or a CI runner.
    """
    if backend is None:
        import keyring

        backend = keyring.get_keyring()
    from keyring.backends import fail, null

    if isinstance(backend, fail.Keyring | null.Keyring):
        return None
    try:
        priority = float(getattr(backend, "priority", 1))
    except Exception:  # keyring backends compute priority and may raise on odd systems
        return None
    return backend if priority > 0 else None


def _keyring_master(backend: Any) -> bytes:
    try:
        stored = backend.get_password(KEYRING_SERVICE, KEYRING_ENTRY)
        if stored is None:
            backend.set_password(KEYRING_SERVICE, KEYRING_ENTRY,
                                 secrets.token_bytes(KEY_BYTES).hex())
            # Read back: another process may have stored its key first; both must agree.
            stored = backend.get_password(KEYRING_SERVICE, KEYRING_ENTRY)
    except Exception as exc:  # backends raise KeyringError, D-Bus and OS errors alike
        raise KeyUnavailable(f"the OS keyring ({type(backend).__name__}) failed to give the "
                             f"audit key ({type(exc).__name__}: {exc}); unlock the keyring or "
                             "configure audit.key_file", reason=e.NO_KEY) from None
    try:
        master = bytes.fromhex(stored or "")
    except ValueError:
        master = b""
    if len(master) < KEY_BYTES:
        raise KeyUnavailable(f"the OS keyring entry {KEYRING_SERVICE}/{KEYRING_ENTRY} is not a "
                             "valid key", reason=e.NO_KEY)
    return master


class KeyStore:
    """Finds (or creates) the master secret and hands out working keys.

    Parameters
    ----------
    key_file : path-like or None
        ``settings.audit.key_file``; None or empty for none.
    fallback_dir : path-like or None
        The folder holding the database; the subject key may live there as
        ``kiosk-audit.key``. None for an in-memory database.
    keyring_backend : object, optional
        A ``keyring`` backend; the system's default when omitted.
    """

    def __init__(self, *, key_file: str | os.PathLike[str] | None = None,
                 fallback_dir: str | os.PathLike[str] | None = None,
                 keyring_backend: Any = None) -> None:
        self.key_file = Path(key_file).expanduser() if key_file else None
        self.fallback_file = (Path(fallback_dir).expanduser() / FALLBACK_KEY_NAME
                              if fallback_dir is not None else None)
        self._backend = keyring_backend
        self._lock = threading.Lock()
        self._subject: tuple[bytes, str] | None = None
        self._frame: tuple[bytes, str] | None = None

    def _keyring(self) -> Any | None:
        return usable_keyring(self._backend)

    def _subject_master(self) -> tuple[bytes, str]:
        if self.key_file is not None:
            return read_key_file(self.key_file), f"key file {self.key_file}"
        if self.fallback_file is not None and self.fallback_file.exists():
            return read_key_file(self.fallback_file), f"key file {self.fallback_file}"
        backend = self._keyring()
        if backend is not None:
            return _keyring_master(backend), f"OS keyring ({type(backend).__name__})"
        if self.fallback_file is None:
            raise KeyUnavailable("no key for subject references: set audit.key_file or install "
                                 "an OS keyring backend", reason=e.NO_KEY)
        try:
            master = create_key_file(self.fallback_file)
            log.warning("no OS keyring: created the subject key file %s (mode 0600); back it "
                        "up with the database", self.fallback_file)
        except FileExistsError:
            master = read_key_file(self.fallback_file)  # another process created it first
        except OSError as exc:
            raise KeyUnavailable(f"cannot create the key file {self.fallback_file}: "
                                 f"{exc.strerror or exc}", reason=e.NO_KEY,
                                 path=str(self.fallback_file)) from None
        return master, f"key file {self.fallback_file}"

    def _frame_master(self) -> tuple[bytes, str]:
        if self.key_file is not None:
            return read_key_file(self.key_file), f"key file {self.key_file}"
        backend = self._keyring()
        if backend is None:
            raise KeyUnavailable("storing best frames needs an encryption key, but no key file "
                                 "is configured (audit.key_file) and the OS keyring has no "
                                 "usable backend; configure a key file (`kiosk audit keygen`) "
                                 "or set audit.store_best_frame = false", reason=e.NO_KEY)
        return _keyring_master(backend), f"OS keyring ({type(backend).__name__})"

    def subject_hasher(self) -> SubjectHasher:
        """The hasher for subject references.

        Raises
        ------
        KeyUnavailable
            No key source works (see the module docstring for the order tried).
        """
        with self._lock:
            if self._subject is None:
                self._subject = self._subject_master()
            master, source = self._subject
        log.debug("subject key from %s", source)
        return SubjectHasher(derive_key(master, "subject-ref"))

    def frame_cipher(self) -> FrameCipher:
        """The cipher for best frames.

        Raises
        ------
        KeyUnavailable
            No key file is configured and the keyring has no usable backend.
        """
        with self._lock:
            if self._frame is None:
                self._frame = self._frame_master()
            master, source = self._frame
        log.debug("frame key from %s", source)
        return FrameCipher(derive_key(master, "frame"))
