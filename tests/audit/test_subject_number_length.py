"""A badge or ID number longer than the cap is refused before it is hashed, counted in its
normal form (spaces and dashes dropped, compatibility forms unfolded)."""

from __future__ import annotations

import pytest

from kiosk.audit import SubjectHasher, keys, normalize_subject_number, subject_ref

KEY = bytes(range(32))
TOO_LONG = "the subject number is longer than 64 characters"


def test_the_cap_is_64_characters() -> None:
    assert keys.MAX_SUBJECT_NUMBER_CHARS == 64
    assert normalize_subject_number("7" * 64) == "7" * 64
    with pytest.raises(ValueError, match=f"^{TOO_LONG} \\(65 once spaces"):
        normalize_subject_number("7" * 65)


def test_a_500_character_number_is_neither_hashed_nor_cut() -> None:
    number = "A" * 500
    with pytest.raises(ValueError, match=f"^{TOO_LONG} \\(500 once") as refused:
        subject_ref(number, KEY)
    assert "give the badge or ID number alone" in str(refused.value)
    with pytest.raises(ValueError, match=TOO_LONG):
        SubjectHasher(KEY).ref(number)


def test_spaces_and_dashes_do_not_count() -> None:
    # 64 digits typed in groups are 79 characters as typed: one number, accepted.
    grouped = "-".join(["1234 5678"] * 8)
    assert len(grouped) > keys.MAX_SUBJECT_NUMBER_CHARS
    assert normalize_subject_number(grouped) == "12345678" * 8


def test_characters_that_unfold_count_as_they_hash() -> None:
    # U+FB00 (the ff ligature) is one character typed and two hashed: 33 of them are 66.
    assert normalize_subject_number("\ufb00") == "FF"
    with pytest.raises(ValueError, match=f"^{TOO_LONG} \\(66 once"):
        normalize_subject_number("\ufb00" * 33)
