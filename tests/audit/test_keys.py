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
from kiosk.audit.keys import derive_key
from kiosk.audit.keystore import KEY_FILE_NAME, KEYRING_ENTRY, KEYRING_SERVICE, default_key_dir


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
        KeyStore(key_file=missing, db_folder=tmp_path).subject_hasher()
    assert info.value.reason == "no_key"
    assert not missing.exists() and not (tmp_path / KEY_FILE_NAME).exists()
    assert not default_key_dir(tmp_path).exists()
    short = tmp_path / "short.key"
    short.write_text("abcd\n")
    short.chmod(0o600)
    with pytest.raises(KeyUnavailable, match="at least 64 hex digits"):
        KeyStore(key_file=short).frame_cipher()


def test_without_keyring_the_key_file_is_created_outside_the_database_folder(
        tmp_path: Path) -> None:
    db_folder = tmp_path / "share" / "liveness-kiosk"
    store = KeyStore(db_folder=db_folder, keyring_backend=fail.Keyring())
    first = store.subject_hasher()
    key_file = tmp_path / "share" / "liveness-kiosk-keys" / KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    for folder in (key_file.parent, tmp_path / "share"):  # every folder it made is private
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert not db_folder.exists()  # nothing beside the database
    again = KeyStore(db_folder=db_folder, keyring_backend=fail.Keyring()).subject_hasher()
    assert again.ref("A1") == first.ref("A1")
    # Frames use the same file once it exists.
    master = bytes.fromhex(key_file.read_text().strip())
    assert store.frame_cipher().key_id == FrameCipher(derive_key(master, "frame")).key_id


def test_a_key_folder_that_cannot_be_made_names_the_setting_that_helps(tmp_path: Path) -> None:
    (tmp_path / "share" / "liveness-kiosk-keys").parent.mkdir()
    (tmp_path / "share" / "liveness-kiosk-keys").write_text("a file where the folder goes")
    store = KeyStore(db_folder=tmp_path / "share" / "liveness-kiosk",
                     keyring_backend=fail.Keyring())
    with pytest.raises(KeyUnavailable, match=r"cannot create the key file .* \(set "
                                             "audit.key_file to a file in a folder"):
        store.subject_hasher()


def test_reading_commands_never_create_a_key(tmp_path: Path) -> None:
    store = KeyStore(db_folder=tmp_path / "db", keyring_backend=fail.Keyring(), create=False)
    with pytest.raises(KeyUnavailable, match="no audit key"):
        store.subject_hasher()
    assert not (tmp_path / "db-keys").exists()


def test_without_keyring_or_key_file_frames_cannot_be_encrypted(tmp_path: Path) -> None:
    store = KeyStore(db_folder=tmp_path / "db", keyring_backend=fail.Keyring())
    with pytest.raises(KeyUnavailable, match="no key file is configured.*keyring") as info:
        store.frame_cipher()
    assert info.value.reason == "no_key"
    assert not default_key_dir(tmp_path / "db").exists()
    # The command it names works as named: keygen alone refuses without --key-file.
    assert "`kiosk audit keygen --key-file PATH` and set audit.key_file = PATH" in str(info.value)


def test_an_old_key_file_beside_the_database_is_moved_away(tmp_path: Path) -> None:
    db_folder = tmp_path / "db"
    old = db_folder / KEY_FILE_NAME
    master = create_key_file(old)
    # A reading command uses it where it is ...
    reader = KeyStore(db_folder=db_folder, keyring_backend=fail.Keyring(), create=False)
    ref = reader.subject_hasher().ref("A1")
    assert old.exists()
    # ... the kiosk moves it out of the database's folder, keeping the same key.
    store = KeyStore(db_folder=db_folder, keyring_backend=MemoryKeyring())
    assert store.subject_hasher().ref("A1") == ref == \
        subject_ref("A1", derive_key(master, "subject-ref"))
    new = tmp_path / "db-keys" / KEY_FILE_NAME
    assert not old.exists() and new.read_text().strip() == master.hex()
    assert stat.S_IMODE(new.stat().st_mode) == 0o600


def test_two_different_keys_are_refused_not_guessed(tmp_path: Path) -> None:
    db_folder = tmp_path / "db"
    create_key_file(db_folder / KEY_FILE_NAME)
    create_key_file(tmp_path / "db-keys" / KEY_FILE_NAME)
    with pytest.raises(KeyUnavailable, match="two different audit keys") as info:
        KeyStore(db_folder=db_folder, keyring_backend=fail.Keyring()).subject_hasher()
    assert info.value.reason == "key_mismatch"


def test_keyring_is_used_when_there_is_no_key_file(tmp_path: Path) -> None:
    ring = MemoryKeyring()
    store = KeyStore(db_folder=tmp_path, keyring_backend=ring)
    ref = store.subject_hasher().ref("A1")
    master = bytes.fromhex(ring.store[(KEYRING_SERVICE, KEYRING_ENTRY)])
    assert ref == subject_ref("A1", derive_key(master, "subject-ref"))
    assert store.frame_cipher().key_id == FrameCipher(derive_key(master, "frame")).key_id
    assert not default_key_dir(tmp_path).exists()


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

    store = KeyStore(db_folder=tmp_path, keyring_backend=LockedKeyring())
    with pytest.raises(KeyUnavailable, match="LockedKeyring.*collection is locked.*key_file"):
        store.subject_hasher()
    assert not default_key_dir(tmp_path).exists()


@pytest.mark.parametrize("variant", [
    "AB123", "ab-123", " AB 123 ", "AB\u200b123", "AB\u2010123", "AB\u00ad123",
    "AB\u2011123", "AB\u2013123", "AB\u2212123", "\uff21\uff22\uff11\uff12\uff13",
    "AB\u00a0123", "AB\u2060123", "AB\ufeff123", "A\u200dB\u200c123", "AB\u202e123",
    "AB\t123\n", "AB\u3000123", "AB\ufe63123", "AB\uff0d123",
    # Locale audit: another script's digits, Cyrillic and Greek capitals drawn as Latin ones,
    # a number printed with dots or slashes. Each was a new subject, free of the lockout.
    "AB\u0661\u0662\u0663", "AB\u06f1\u06f2\u06f3", "AB\u0967\u0968\u0969",
    "AB\u0e51\u0e52\u0e53", "\u0410\u0412123", "\u0391\u0392123", "AB/123", "AB.1.23",
    "(AB) 123", "a\u0301b123",
])
def test_look_alike_numbers_are_one_subject(variant: str) -> None:
    key = bytes(range(32))
    assert normalize_subject_number(variant) == "AB123"
    assert subject_ref(variant, key) == subject_ref("AB123", key)


def test_different_numbers_stay_different_subjects() -> None:
    key = bytes(range(32))
    numbers = ["AB123", "AB124", "AB1234", "BA123", "AB12", "ABC123", "AB123X", "A8123",
               "\u0130123", "I123"]
    refs = {subject_ref(n, key) for n in numbers}
    assert len(refs) == len(numbers) - 1  # only the Turkish capital I folds to I


@pytest.mark.parametrize("number, message", [
    ("   ", "empty once spaces, dashes and invisible characters are removed"),
    ("---", "empty once"),
    ("\u200b\u00ad\u2010", "empty once"),
    ("AB\udcff12", "not valid text"),
])
def test_numbers_that_normalise_to_nothing_are_clear_errors(number: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalize_subject_number(number)


def test_frames_use_the_key_file_the_chain_uses_even_with_a_keyring(tmp_path: Path) -> None:
    """One secret to back up: a default key file (here one moved from beside the database) and
    a keyring installed later must not split the frames from the chain and the subjects."""
    db_folder = tmp_path / "db"
    master = create_key_file(db_folder / KEY_FILE_NAME)
    ring = MemoryKeyring()
    store = KeyStore(db_folder=db_folder, keyring_backend=ring)
    assert store.subject_hasher().ref("A1") == subject_ref("A1", derive_key(master, "subject-ref"))
    assert store.frame_cipher().key_id == FrameCipher(derive_key(master, "frame")).key_id
    assert ring.store == {}  # no second secret made in the keyring
