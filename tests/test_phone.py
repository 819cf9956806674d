"""UK mobile normalisation to E.164."""

from __future__ import annotations

import pytest

from broadcaster.core.phone import NotAUkMobile, normalise_uk_mobile


@pytest.mark.parametrize(
    "raw",
    [
        "07911123456",
        "447911123456",
        "+44 7911 123456",
        "0044 7911 123456",
        "(07911) 123 456",
        "07911-123-456",
    ],
)
def test_common_ways_of_writing_a_mobile_normalise_to_e164(raw: str) -> None:
    """However a practice wrote it, the number becomes +447911123456."""
    assert normalise_uk_mobile(raw) == "+447911123456"


def test_drama_range_numbers_are_accepted_for_tests_and_examples() -> None:
    """Ofcom's 07700 900xxx drama range (Notify's test numbers) passes, though libphonenumber balks."""
    assert normalise_uk_mobile("07700 900123") == "+447700900123"


def test_crown_dependency_mobiles_sharing_plus_44_are_accepted() -> None:
    """Isle of Man and Guernsey mobiles use +44 and can receive UK texts."""
    assert normalise_uk_mobile("07624 123456") == "+447624123456"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("0113 496 0001", "not a mobile"),
        ("020 7946 0018", "not a mobile"),
        ("+33 6 12 34 56 78", "not a UK number"),
        ("hello", "not a phone number"),
        ("0791112345", "not a valid UK number"),
    ],
)
def test_numbers_that_cannot_take_texts_are_refused_with_the_reason(raw: str, why: str) -> None:
    """Landlines, foreign numbers and typos are refused, saying which."""
    with pytest.raises(NotAUkMobile, match=why):
        normalise_uk_mobile(raw)
