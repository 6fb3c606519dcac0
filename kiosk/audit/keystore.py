"""Where the audit's master secret comes from, and the working keys handed out from it.

The order tried (the same in the kiosk and in ``kiosk audit``, so both compute the same
subject references and check the same chain):

1. ``settings.audit.key_file`` when set: a text file of at least 64 hex digits, owner-only
   (mode 0600; looser modes are refused, as ssh does). A missing configured file is an error,
   never silently replaced: a new key would orphan every lockout and earlier reference.
   ``kiosk audit keygen`` creates one.
2. For the subject and chain keys: the default key file, ``kiosk-audit.key`` in the folder
   ``<database folder>-keys`` beside the database's folder (for the default database
   ``~/.local/share/liveness-kiosk/kiosk.db`` that is
   ``~/.local/share/liveness-kiosk-keys/kiosk-audit.key``), if it exists. It is never in the
   database's own folder, so a copy of that folder does not carry the key that would reveal
   which ID numbers tried. A key file left beside the database by an older kiosk is moved
   there the first time the kiosk opens the log.
3. The OS keyring (``keyring``), service ``liveness-kiosk``, entry ``audit-master-key``;
   created on first use.
4. When the keyring has no usable backend (common on kiosks and in CI): the default key file
   of 2 is created (mode 0600, its folder 0700).

Best-frame encryption uses the same master secret, found the same way (1 to 3): one secret to
back up, whichever place holds it. It never creates the default key file of 4: without a key,
frames are not stored. (Before, frames tried the keyring ahead of the default key file, so a
kiosk with both, say a key file moved from beside the database and a keyring installed later,
encrypted frames under a second secret that backing up the file did not save.) No key is ever
written into the database; the log stores only key ids to notice when a different key is used
with it.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from pathlib import Path
from typing import Any

from kiosk.audit import errors as e
from kiosk.audit.errors import KeyUnavailable
from kiosk.audit.keyfiles import create_key_file, move_key_file, read_key_file
from kiosk.audit.keys import KEY_BYTES, ChainKey, FrameCipher, SubjectHasher, derive_key

log = logging.getLogger(__name__)

KEYRING_SERVICE = "liveness-kiosk"
KEYRING_ENTRY = "audit-master-key"
KEY_FILE_NAME = "kiosk-audit.key"
LEGACY_KEY_NAME = KEY_FILE_NAME
"""Name of the key file older kiosks created beside the database."""


def default_key_dir(db_folder: str | os.PathLike[str]) -> Path | None:
    """The folder of the default key file: ``<db folder>-keys`` beside the database's folder.

    None when the database sits at the file-system root (no sibling folder to use).
    """
    folder = Path(db_folder).expanduser().absolute()
    if folder.parent == folder or not folder.name:
        return None
    return folder.parent / f"{folder.name}-keys"


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


def _keyring_master(backend: Any, *, create: bool) -> bytes | None:
    try:
        stored = backend.get_password(KEYRING_SERVICE, KEYRING_ENTRY)
        if stored is None:
            if not create:
                return None
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
    db_folder : path-like or None
        The folder holding the database: the default key file is in ``<db_folder>-keys``,
        and an older kiosk's key file may sit in ``db_folder`` itself. None for an in-memory
        database.
    keyring_backend : object, optional
        A ``keyring`` backend; the system's default when omitted.
    create : bool
        May create the default key file or keyring entry, and move an old key file (the
        kiosk and writing commands). Reading commands pass False: they never create a key.
    """

    def __init__(self, *, key_file: str | os.PathLike[str] | None = None,
                 db_folder: str | os.PathLike[str] | None = None,
                 keyring_backend: Any = None, create: bool = True) -> None:
        self.key_file = Path(key_file).expanduser() if key_file else None
        folder = Path(db_folder).expanduser().absolute() if db_folder is not None else None
        key_dir = default_key_dir(folder) if folder is not None else None
        self.default_file = key_dir / KEY_FILE_NAME if key_dir is not None else None
        self.legacy_file = folder / LEGACY_KEY_NAME if folder is not None else None
        self.create = create
        self._backend = keyring_backend
        self._lock = threading.Lock()
        self._subject_key: tuple[bytes, str] | None = None
        self._frame: tuple[bytes, str] | None = None
        if self.key_file is not None and folder is not None and \
                self.key_file.expanduser().absolute().parent == folder:
            log.warning("audit.key_file %s is in the database's own folder: a copy of that "
                        "folder carries the key; keep the key elsewhere", self.key_file)

    def _keyring(self) -> Any | None:
        return usable_keyring(self._backend)

    def _default_master(self) -> bytes | None:
        """The default key file's secret (moving an older kiosk's file there first)."""
        if self.legacy_file is not None and self.legacy_file.exists():
            if not self.create or self.default_file is None:
                return read_key_file(self.legacy_file)
            master = move_key_file(self.legacy_file, self.default_file)
            log.warning("moved the audit key from %s (beside the database) to %s",
                        self.legacy_file, self.default_file)
            return master
        if self.default_file is not None and self.default_file.exists():
            return read_key_file(self.default_file)
        return None

    def _found_subject_master(self) -> tuple[bytes, str] | None:
        """The subject master from the first source that holds one (1 to 3 of the module
        docstring); None when the default key file is to be created (4)."""
        if self.key_file is not None:
            return read_key_file(self.key_file), f"key file {self.key_file}"
        found = self._default_master()
        if found is not None:
            return found, f"key file {self.default_file}"
        backend = self._keyring()
        if backend is not None:
            master = _keyring_master(backend, create=self.create)
            if master is not None:
                return master, f"OS keyring ({type(backend).__name__})"
        if self.default_file is None:
            raise KeyUnavailable("no audit key: set audit.key_file or install an OS keyring "
                                 "backend", reason=e.NO_KEY)
        if not self.create:
            raise KeyUnavailable(f"no audit key: neither audit.key_file, {self.default_file} "
                                 "nor the OS keyring holds one", reason=e.NO_KEY,
                                 path=str(self.default_file))
        return None

    def _subject_master(self) -> tuple[bytes, str]:
        found = self._found_subject_master()
        if found is not None:
            return found
        assert self.default_file is not None  # else _found_subject_master raised
        try:
            master = create_key_file(self.default_file)
            log.warning("no OS keyring: created the audit key file %s (mode 0600); back it up "
                        "apart from the database", self.default_file)
        except FileExistsError:
            master = read_key_file(self.default_file)  # another process created it first
        except OSError as exc:
            raise KeyUnavailable(f"cannot create the key file {self.default_file}: "
                                 f"{exc.strerror or exc} (set audit.key_file to a file in a "
                                 "folder the kiosk can write, apart from the database's)",
                                 reason=e.NO_KEY,
                                 path=str(self.default_file)) from None
        return master, f"key file {self.default_file}"

    def _frame_master(self) -> tuple[bytes, str]:
        found = self._found_subject_master()
        if found is not None:
            return found
        raise KeyUnavailable("storing best frames needs an encryption key, but no key file "
                             "is configured (audit.key_file), the OS keyring has no usable "
                             "backend and there is no default key file yet; create one with "
                             "`kiosk audit keygen --key-file PATH` and set audit.key_file = "
                             "PATH, or set audit.store_best_frame = false",
                             reason=e.NO_KEY)

    def _subject(self) -> tuple[bytes, str]:
        with self._lock:
            if self._subject_key is None:
                self._subject_key = self._subject_master()
            return self._subject_key

    def new_key_file(self) -> Path | None:
        """The key file :meth:`subject_hasher` would create: the default key file when no
        source holds a key yet and this store may create one (no key file configured, none
        in the default place, no usable keyring); else None, and the key found is kept.

        Lets the caller check that the database opens before the key is created (see
        :func:`kiosk.audit.factory.open_kiosk_log`): a key file made for a database that
        then fails to open is an orphan, and its "back it up" warning misleads.

        Raises
        ------
        KeyUnavailable
            As :meth:`subject_hasher` (a key source exists but cannot be used).
        """
        with self._lock:
            if self._subject_key is not None:
                return None
            found = self._found_subject_master()
            if found is None:
                return self.default_file
            self._subject_key = found
            return None

    def subject_hasher(self) -> SubjectHasher:
        """The hasher for subject references.

        Raises
        ------
        KeyUnavailable
            No key source works (see the module docstring for the order tried).
        """
        master, source = self._subject()
        log.debug("subject key from %s", source)
        return SubjectHasher(derive_key(master, "subject-ref"))

    def chain_key(self) -> ChainKey:
        """The key of the hash chain (from the same master as the subject key)."""
        master, _ = self._subject()
        return ChainKey(derive_key(master, "chain"))

    def frame_cipher(self) -> FrameCipher:
        """The cipher for best frames.

        Raises
        ------
        KeyUnavailable
            No key file is configured, the keyring has no usable backend and no default
            key file exists.
        """
        with self._lock:
            if self._frame is None:
                self._frame = self._frame_master()
            master, source = self._frame
        log.debug("frame key from %s", source)
        return FrameCipher(derive_key(master, "frame"))
