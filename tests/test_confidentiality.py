"""The confidentiality check: identifying content is found and masked, incident text is not."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broadcaster.content.confidentiality import (
    FindingKind,
    as_read,
    find_identifying_content,
    is_valid_nhs_number,
)

TODAY = date(2026, 11, 21)


def kinds_in(text: str) -> list[FindingKind]:
    return [finding.kind for finding in find_identifying_content(text, today=TODAY)]


def nhs_number_from(first_nine: str) -> str | None:
    """The valid NHS number starting with these nine digits, or None when none exists."""
    total = sum(int(d) * weight for d, weight in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    return None if check == 10 else first_nine + str(check % 11)


# --- NHS numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["9434765919", "4010232137", "4000000020"])
def test_modulus_11_accepts_valid_nhs_numbers(number: str) -> None:
    """Valid numbers pass, including one whose check works out as 11 and is written 0."""
    assert is_valid_nhs_number(number)


@pytest.mark.parametrize(
    "number",
    ["9434765918", "9434765910", "4000000080", "400000008", "94347659190", "943476591x"],
)
def test_modulus_11_rejects_wrong_check_digits_and_wrong_lengths(number: str) -> None:
    """A wrong check digit, a remainder of 10 (400000008...), or not ten digits all fail."""
    assert not is_valid_nhs_number(number)


@pytest.mark.parametrize("written", ["943 476 5919", "943-476-5919", "9434765919"])
def test_nhs_number_is_found_however_it_is_spaced(written: str) -> None:
    """Spaces, hyphens or nothing between the 3-3-4 groups."""
    findings = find_identifying_content(f"Patient {written} rang in", today=TODAY)
    assert [(f.kind, f.start, f.end) for f in findings] == [(FindingKind.NHS_NUMBER, 8, 8 + len(written))]


def test_nhs_number_with_a_wrong_check_digit_is_not_an_nhs_number() -> None:
    """943 476 5918 fails Modulus 11, so an unlabelled one is just a number."""
    assert kinds_in("Ticket 943 476 5918 raised with the supplier") == []


@pytest.mark.parametrize(
    "phone",
    [
        "0161 496 0003",
        "+44 161 496 0003",
        "+44 (0)161 496 0003",
        "+44 (0) 161 496 0003",
        "020 7946 0005",
        "020-7946-0005",
        "+44 20 7946 0005",
        "07700 900000",
        "07700900000",
        "+447700900000",
        "447700900000",
        "01632 960001",
        "0808 157 0004",
        "0800000005",
    ],
)
def test_uk_phone_numbers_are_not_nhs_numbers(phone: str) -> None:
    """Each of these hides ten digits with a valid check digit; none is flagged."""
    digits = re.sub(r"\D", "", phone)
    assert is_valid_nhs_number(digits[-10:])  # the test would prove nothing otherwise
    assert kinds_in(f"Phones down: call {phone} instead") == []


@pytest.mark.parametrize(
    "text",
    [
        "ref 19434765919",
        "ref 94347659190",
        "943 476 5919 1 item",
        "batch 1 943 476 5919",
        "9434765919123",
    ],
)
def test_ten_valid_digits_inside_a_longer_run_are_not_flagged(text: str) -> None:
    """A valid NHS number's digits continuing into more digits are some other number."""
    assert kinds_in(text) == []


def test_two_nhs_numbers_in_one_message_are_both_found() -> None:
    """Separated by a word, each number is its own finding."""
    assert kinds_in("943 476 5919 and 401 023 2137") == [FindingKind.NHS_NUMBER] * 2


def test_excerpt_masks_the_nhs_number() -> None:
    """The excerpt shows where the number is without repeating any of its digits."""
    (finding,) = find_identifying_content("Patient 943 476 5919 was seen", today=TODAY)
    assert finding.excerpt == "Patient *** *** **** was seen"


def test_excerpt_masks_every_finding_it_overlaps() -> None:
    """The first number's excerpt reaches the second number, which is masked there too."""
    findings = find_identifying_content("9434765919 and 4010232137", today=TODAY)
    assert [f.excerpt for f in findings] == ["********** and **********"] * 2


def test_explain_says_what_was_found_and_what_to_do_without_the_number() -> None:
    """A comms officer reads what it is, what to remove and why; no digit is echoed."""
    (finding,) = find_identifying_content("Patient 943 476 5919 was seen", today=TODAY)
    sentence = finding.explain()
    assert "NHS number" in sentence
    assert "Remove" in sentence
    assert "Facebook" in sentence
    assert not re.search(r"\d", sentence)


@given(st.from_regex(r"[1-9][0-9]{8}", fullmatch=True), st.sampled_from([" ", "-", ""]))
def test_any_valid_nhs_number_is_found_and_never_echoed(first_nine: str, sep: str) -> None:
    """Property: every valid number, however separated, is flagged and fully masked."""
    number = nhs_number_from(first_nine)
    if number is None:
        return
    written = sep.join((number[:3], number[3:6], number[6:]))
    findings = find_identifying_content(f"Re patient {written}, thanks", today=TODAY)
    assert [f.kind for f in findings] == [FindingKind.NHS_NUMBER]
    assert not re.search(r"\d", findings[0].excerpt + findings[0].explain())


@given(st.text())
def test_any_text_gives_findings_inside_the_text(text: str) -> None:
    """Property: the check never raises, and each finding points inside the text read, in order."""
    findings = find_identifying_content(text, today=TODAY)
    assert all(0 <= f.start < f.end <= len(as_read(text)) for f in findings)
    assert [f.start for f in findings] == sorted(f.start for f in findings)


# --- patient identifiers -----------------------------------------------------------------------


def test_labelled_hospital_number_is_found_and_masked() -> None:
    """An MRN is identifying whatever its format."""
    (finding,) = find_identifying_content("Seen today, MRN: RXH1234567.", today=TODAY)
    assert (finding.kind, finding.excerpt) == (
        FindingKind.PATIENT_IDENTIFIER,
        "Seen today, MRN: R*********.",
    )


def test_labelled_nhs_number_with_a_typo_is_still_flagged() -> None:
    """A wrong check digit after "NHS no" is still someone's (mistyped) NHS number."""
    assert kinds_in("NHS no: 943 476 5918") == [FindingKind.PATIENT_IDENTIFIER]


def test_labelled_valid_nhs_number_is_one_finding() -> None:
    """Label and Modulus 11 both match: it is reported once, as an NHS number."""
    assert kinds_in("NHS number 943 476 5919") == [FindingKind.NHS_NUMBER]


def test_hospital_phone_number_is_not_a_patient_number() -> None:
    """ "the hospital number" followed by a UK phone number is a switchboard."""
    assert kinds_in("Ring the hospital number 0113 243 3144 for results") == []


# --- dates of birth ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Sarah Jones DOB 12/03/1956",
        "Sarah Jones (d.o.b. 12.3.56)",
        "Mrs O'Brien, date of birth 1956-03-12",
        "Patient Sarah Jones, 12/03/1956, was seen",
        "12/03/1956 Sarah Jones",
        "Sarah Smith-Jones born on 3rd March 1956",
        "Si\u00e2n McDonald, 03/12/1949",
    ],
)
def test_date_of_birth_next_to_a_name_is_flagged(text: str) -> None:
    """A name touching a labelled date, or a date from an earlier year, identifies someone."""
    assert kinds_in(text) == [FindingKind.DATE_OF_BIRTH_WITH_NAME]


@pytest.mark.parametrize(
    "text",
    ["DOB: 3 March 1956", "date of birth March 3, 1956", "12/03/1956 (DOB)", "born on 3 Mar 1956"],
)
def test_labelled_date_of_birth_without_a_name_is_flagged(text: str) -> None:
    """A date of birth narrows a practice's list to a handful of patients."""
    assert kinds_in(text) == [FindingKind.DATE_OF_BIRTH]


@pytest.mark.parametrize(
    "text",
    [
        "Next update by 11am on 21/11/2026",
        "Clinical systems down since 3 March",
        "Update from Sarah Jones 21/11/2026: phones are back",
        "Babies born this week: clinic open 21/11/2026",
        "Hilltop Surgery 12/03/2025 closure is cancelled",
        "Broad Street Medical Centre, 2026-11-21, 09:00",
        "Dr Sarah Patel 12/03/2025 clinic moved",
        "Sarah Jones 31/02/1956",
    ],
)
def test_ordinary_incident_dates_are_not_flagged(text: str) -> None:
    """This year's dates, dates with no year, places, clinicians and impossible dates pass."""
    assert kinds_in(text) == []


def test_unicode_look_alikes_of_month_names_are_read_as_the_month() -> None:
    """A long s reads as s (NFKC), so "3 \u017fep 1956" beside DOB is a date of birth, not a crash."""
    assert kinds_in("DOB 3 \u017fep 1956") == [FindingKind.DATE_OF_BIRTH]


def test_name_and_date_of_birth_are_both_masked() -> None:
    """The excerpt keeps initials and the label, so the officer can find it, and hides the rest."""
    (finding,) = find_identifying_content("Sarah Jones DOB 12/03/1956", today=TODAY)
    assert finding.excerpt == "S**** J**** DOB **/**/****"


# --- names with postcodes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["Visit to Sarah Jones, LS1 4AB today", "Sarah Jones, 12 High Street, Leeds, LS1 4AB"],
)
def test_name_with_postcode_is_flagged(text: str) -> None:
    """A name and a postcode (or a house-number address ending in one) locate a person."""
    assert kinds_in(text) == [FindingKind.NAME_WITH_POSTCODE]


@pytest.mark.parametrize(
    "text",
    [
        "Hilltop Surgery, 12 High Street, LS1 4AB is closed",
        "Please contact Dr Sarah Patel, Hilltop Surgery, LS1 4AB",
        "Use the branch at LS1 4AB",
    ],
)
def test_practice_address_with_postcode_is_not_flagged(text: str) -> None:
    """Practices publish their own address; a clinician's name beside it is not a patient."""
    assert kinds_in(text) == []


def test_email_addresses_are_not_flagged() -> None:
    """Role and staff addresses are published routinely, so they are left alone by design."""
    assert kinds_in("Email sarah.jones@nhs.net or practice.m83001@nhs.net") == []
