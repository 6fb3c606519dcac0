"""Keys: subject hashing, key files, keyring use and its absence, frame encryption."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from pathlib import Path

import pytest
from keyring.backends import fail

from kiosk.audit import (
    AuditError,
    FrameCipher,
    KeyStore,
    KeyUnavailable,
    SubjectHasher,
    create_key_file,
    normalize_subject_number,
    subject_ref,
)
from kiosk.audit.keys import FALLBACK_KEY_NAME, KEYRING_ENTRY, KEYRING_SERVICE, derive_key


class MemoryKeyring:
    """A working keyring backend kept in a dict (the real ones need a desktop session)."""

    priority = 5

    def __init__(self) -> None:
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, user: str) -> str | None:
        return self.store.get((service, user))

    def set_password(self, service: str, user: str, password: str) -> None:
        self.store[(service, user)] = password


def test_subject_ref_is_hmac_sha256_of_the_normal_form() -> None:
    key = bytes(range(32))
    expected = hmac.new(key, b"AB123", hashlib.sha256).hexdigest()
    assert subject_ref("ab-123 ", key) == expected
    assert subject_ref("AB 12 3", key) == expected
    assert subject_ref("AB124", key) != expected
    assert subject_ref("AB123", bytes(32)) != expected
    assert normalize_subject_number("\uff21b-1") == "AB1"  # full-width A folds to A


def test_subject_ref_refuses_empty_numbers_and_short_keys() -> None:
    with pytest.raises(ValueError, match="empty"):
        subject_ref(" - ", bytes(32))
    with pytest.raises(ValueError, match="at least 32 bytes"):
        subject_ref("1", b"short")


def test_key_file_round_trip_and_no_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit.key"
    master = create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == master.hex()
    with pytest.raises(FileExistsError):
        create_key_file(path)
    assert [p.name for p in path.parent.iterdir()] == ["audit.key"]  # no temp file left
    store = KeyStore(key_file=path)
    assert store.subject_hasher().ref("X1") == subject_ref("X1", derive_key(master, "subject-ref"))


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.key"
    create_key_file(path)
    path.chmod(0o644)
    with pytest.raises(KeyUnavailable, match="chmod 600"):
        KeyStore(key_file=path).subject_hasher()


def test_missing_or_bad_key_file_is_an_error_not_a_new_key(tmp_path: Path) -> None:
    missing = tmp_path / "nope.key"
    with pytest.raises(KeyUnavailable, match="does not exist.*keygen") as info:
        KeyStore(key_file=missing, fallback_dir=tmp_path).subject_hasher()
    assert info.value.reason == "no_key"
    assert not missing.exists() and not (tmp_path / FALLBACK_KEY_NAME).exists()
    short = tmp_path / "short.key"
    short.write_text("abcd\n")
    short.chmod(0o600)
    with pytest.raises(KeyUnavailable, match="at least 64 hex digits"):
        KeyStore(key_file=short).frame_cipher()


def test_without_keyring_subject_key_falls_back_to_a_private_file(tmp_path: Path) -> None:
    store = KeyStore(fallback_dir=tmp_path, keyring_backend=fail.Keyring())
    first = store.subject_hasher()
    key_file = tmp_path / FALLBACK_KEY_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = KeyStore(fallback_dir=tmp_path, keyring_backend=fail.Keyring()).subject_hasher()
    assert again.ref("A1") == first.ref("A1")


def test_without_keyring_or_key_file_frames_cannot_be_encrypted(tmp_path: Path) -> None:
    store = KeyStore(fallback_dir=tmp_path, keyring_backend=fail.Keyring())
    with pytest.raises(KeyUnavailable, match="no key file is configured.*keyring") as info:
        store.frame_cipher()
    assert info.value.reason == "no_key"
    assert not (tmp_path / FALLBACK_KEY_NAME).exists()


def test_keyring_is_used_and_existing_fallback_file_wins_for_subjects(tmp_path: Path) -> None:
    ring = MemoryKeyring()
    store = KeyStore(fallback_dir=tmp_path, keyring_backend=ring)
    ref = store.subject_hasher().ref("A1")
    master = bytes.fromhex(ring.store[(KEYRING_SERVICE, KEYRING_ENTRY)])
    assert ref == subject_ref("A1", derive_key(master, "subject-ref"))
    assert store.frame_cipher().key_id == FrameCipher(derive_key(master, "frame")).key_id
    assert not (tmp_path / FALLBACK_KEY_NAME).exists()
    # A kiosk that first ran without a keyring keeps its file key when a keyring appears.
    other = tmp_path / "other"
    file_ref = KeyStore(fallback_dir=other, keyring_backend=fail.Keyring()).subject_hasher()
    later = KeyStore(fallback_dir=other, keyring_backend=MemoryKeyring()).subject_hasher()
    assert later.ref("A1") == file_ref.ref("A1") != ref


def test_subject_and_frame_keys_differ() -> None:
    master = bytes(range(32))
    assert derive_key(master, "subject-ref") != derive_key(master, "frame")
    assert SubjectHasher(derive_key(master, "subject-ref")).key_id != \
        FrameCipher(derive_key(master, "frame")).key_id


def test_frame_cipher_binds_the_frame_to_its_attempt() -> None:
    cipher = FrameCipher(bytes(range(32)))
    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4
    nonce, ciphertext = cipher.encrypt(jpeg, b"attempt=1")
    assert jpeg[4:260] not in ciphertext
    assert cipher.decrypt(nonce, ciphertext, b"attempt=1") == jpeg
    with pytest.raises(AuditError, match="does not decrypt"):
        cipher.decrypt(nonce, ciphertext, b"attempt=2")
    with pytest.raises(AuditError, match="does not decrypt"):
        FrameCipher(bytes(32)).decrypt(nonce, ciphertext, b"attempt=1")
    assert cipher.encrypt(jpeg, b"a")[0] != cipher.encrypt(jpeg, b"a")[0]


def test_a_failing_keyring_is_an_error_not_a_silent_new_key(tmp_path: Path) -> None:
    class LockedKeyring(MemoryKeyring):
        def get_password(self, service: str, user: str) -> str | None:
            raise RuntimeError("the collection is locked")

    store = KeyStore(fallback_dir=tmp_path, keyring_backend=LockedKeyring())
    with pytest.raises(KeyUnavailable, match="LockedKeyring.*collection is locked.*key_file"):
        store.subject_hasher()
    assert not (tmp_path / FALLBACK_KEY_NAME).exists()
