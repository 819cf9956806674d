"""Find patient-identifying content in an incident message before it goes anywhere public.

What is flagged, and why each rule is shaped the way it is:

- NHS_NUMBER: ten digits written 3-3-4 (spaces, hyphens or none) whose Modulus 11 check digit
  is valid. Only about one random ten-digit string in eleven passes the check, so the rest of
  the rule is about phone numbers, the one long number every incident message carries:
  * A number starting with 0 is never flagged. UK national phone numbers always start with 0
    (10 or 11 digits: 0800 123 456, 020 7946 0018, 07700 900123), and England, Wales and the
    Isle of Man issue NHS numbers from 3xx, 4xx and 6xx-7xx (999 is the test range), never 0.
    The cost: a Scottish CHI number for someone born on the 1st-9th of a month starts with 0
    and is missed; messages from English practices should not carry CHI numbers anyway.
  * Ten digits that continue a longer run are not flagged: not directly, nor through one space
    or hyphen (+44 161 496 0000, 0161 496 0000 ext, card numbers), nor after "(0)". So two NHS
    numbers separated by a single space are missed; separated by a comma or a word they are found.
- PATIENT_IDENTIFIER: a label ("MRN", "hospital number", "patient ID", "NHS no", "CHI") followed by
  an identifier of five or more digits, whatever its check digit: a typo is still a leak.
- DATE_OF_BIRTH: a date (12/03/1956, 12.3.56, 1956-03-12, 3rd March 1956, March 3, 1956) right
  beside "DOB", "D.O.B.", "date of birth", "birth date" or "born (on)". The label must touch the
  date, so "babies born this week; clinic open 21/11/2026" is not flagged.
- DATE_OF_BIRTH_WITH_NAME: the same, or an unlabelled date from an earlier year (within 120 years),
  directly beside a capitalised name (Sarah Jones, Mrs O'Brien). Incident dates are this year's
  ("next update by 11am on 21/11/2026"), so they are not flagged, nor is a date with no year.
- NAME_WITH_POSTCODE: a name directly followed by a UK postcode, or by a house-number street
  address (and town) ending in one.

Names are two or three capitalised words (or Mr/Mrs/Ms/Miss/Mx and one), none of them a common
word of incident messages (Surgery, Road, Monday, Update...). Clinicians' names after Dr or Prof
are not treated as patients' names: practices publish them. Names in lower case or capitals, or
with letters beyond Latin-1 and Welsh, are not recognised.

Every rule looks at the text as a reader sees it (`as_read`), not as it was typed: full-width
and other compatibility forms folded (NFKC), format characters such as zero-width spaces removed,
any script's digits read as digits and any dash as a hyphen. "943<U+200B>476<U+200B>5919" and
full-width digits (U+FF10-U+FF19) show a reader an NHS number, and the SMS normaliser would send one.

Not flagged, deliberately: email addresses (practices publish role addresses, and NHSmail staff
addresses are firstname.lastname@nhs.net, so "looks personal" cannot be told from "published"),
phone numbers (every outage message carries one), and lone names (staff are named routinely).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple


class FindingKind(enum.Enum):
    NHS_NUMBER = "an NHS number"
    PATIENT_IDENTIFIER = "a hospital or patient number"
    DATE_OF_BIRTH = "a date of birth"
    DATE_OF_BIRTH_WITH_NAME = "a person's name with a date of birth"
    NAME_WITH_POSTCODE = "a person's name with their postcode"


_WHY = "this message goes to public Facebook pages and to patients' phones"
_WHAT_TO_DO: dict[FindingKind, str] = {
    FindingKind.NHS_NUMBER: "Remove the NHS number",
    FindingKind.PATIENT_IDENTIFIER: "Remove the patient number",
    FindingKind.DATE_OF_BIRTH: "Remove the date of birth",
    FindingKind.DATE_OF_BIRTH_WITH_NAME: "Remove the name and date of birth",
    FindingKind.NAME_WITH_POSTCODE: "Remove the name and address",
}


@dataclass(frozen=True, slots=True)
class Finding:
    kind: FindingKind
    excerpt: str  # the surrounding text with every identifying part masked
    start: int  # offsets of the identifying part in the text that was checked
    end: int

    def explain(self) -> str:
        """One sentence for a comms officer: what was found, and what to do about it."""
        return (
            f'Found what looks like {self.kind.value} in "{self.excerpt}". {_WHAT_TO_DO[self.kind]}: {_WHY}.'
        )


# --- the text as read ---------------------------------------------------------------------------

_NOT_ASCII = re.compile(r"[^\x00-\x7f]")
# Variation selectors and the keycap mark: "9\ufe0f\u20e3" is read as 9.
_INVISIBLE_MARKS = frozenset([*map(chr, range(0xFE00, 0xFE10)), "\u20e3"])


def _as_plain(match: re.Match[str]) -> str:
    char = match.group()
    category = unicodedata.category(char)
    if category == "Cf" or char in _INVISIBLE_MARKS:  # zero-width, joiners, bidi marks, emoji styles
        return ""
    if category == "Nd":  # Arabic-Indic, Devanagari, mathematical... digits
        return str(unicodedata.decimal(char))
    if category == "Pd":  # en and em dashes, the minus sign's cousins
        return "-"
    return char


def as_read(text: str) -> str:
    """The text as a reader sees it: what every rule below is matched against."""
    if text.isascii():  # nearly every message: nothing to fold
        return text
    return _NOT_ASCII.sub(_as_plain, unicodedata.normalize("NFKC", text))


# --- patterns ----------------------------------------------------------------------------------

_NHS_NUMBER = re.compile(
    r"(?<![0-9])(?<![0-9][ \u00a0-])(?<!\(0\))(?<!\(0\) )"
    r"[1-9][0-9]{2}[ \u00a0-]?[0-9]{3}[ \u00a0-]?[0-9]{4}"
    r"(?![0-9])(?![ \u00a0-][0-9])"
)
_LABELLED_IDENTIFIER = re.compile(
    r"(?ai:\b(?:MRN|M\.R\.N\.?|hospital\s+(?:no|number|id)|hosp\.?\s*no|CHI(?:\s*(?:no|number))?"
    r"|patient\s+(?:id|no|number|ref(?:erence)?)|NHS\s*(?:no|num|number))\b\.?)"
    r"[\s:#=.-]*(?P<id>[A-Za-z]{0,4}[0-9](?:[ -]?[0-9]){4,}[A-Za-z]?)\b"
)
_UK_PHONE_DIGITS = re.compile(r"0[0-9]{9,10}")

# Capitalised words that start sentences or name places, days and services in incident messages.
_NOT_NAMES = (  # noqa: SIM905  # a paragraph of words reads better than 190 quoted strings
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday Mon Tue Wed Thu Fri Sat Sun "
    "January February March April May June July August September October November December "
    "Today Tomorrow Tonight Yesterday Morning Afternoon Evening Bank Holiday Christmas Easter "
    "The This That These Those Our Your We You It If And Or But For From To At On In By Of As "
    "Please Call Contact Visit Ring Text Email Phone Phones Telephone Line Lines Website Online "
    "Update Updates Next Latest Last Since Until Till All Any New Open Opening Closed Closing "
    "Resolved Urgent Important Notice Note Incident Outage Issue Problem Status Ref Reference "
    "Dear Hello Hi Thank Thanks Sorry Apologies Surgery Practice Medical Centre Center Health "
    "Healthcare Clinic Clinical Hospital Pharmacy Dental Group Partnership Trust Service "
    "Services Team Manager Reception Receptionist Board Care Primary Network System Systems App "
    "Access Appointment Appointments Prescription Prescriptions Patient Patients Staff Doctor "
    "Doctors Dr Prof Nurse Nurses Sister General Emergency Council County City Community Royal "
    "Street Road Lane Avenue Close Way Drive Court Place Park Square Hill House View Green "
    "Gardens Terrace Crescent Row Building Floor Unit North South East West Upper Lower Great "
    "Little Saint St Village Estate Mews Grove Rise Parade Market High Church Station"
).split()
_UP, _LOW = "A-Z\u00c0-\u00d6\u00d8-\u00de\u0174\u0176", "a-z\u00df-\u00f6\u00f8-\u00ff\u0175\u0177"
_WORD = (  # Sarah, Siân, O'Brien, McDonald, Smith-Jones
    rf"(?!(?:{'|'.join(_NOT_NAMES)})\b)"
    rf"[{_UP}](?:'[{_UP}])?[{_LOW}]+(?:[{_UP}][{_LOW}]+)?(?:-[{_UP}][{_LOW}]+)?"
)
# A clinician after Dr or Prof is staff, published by the practice: not a patient's name.
_PERSON_NAME = (
    r"(?<!Dr )(?<!Dr\. )(?<!Prof )\b"
    rf"(?:(?:Mr|Mrs|Ms|Miss|Mx)\.? {_WORD}(?: {_WORD}){{0,2}}|{_WORD}(?: {_WORD}){{1,2}})\b"
)
_PERSON = re.compile(_PERSON_NAME)
_GAP = r"[ \t]*[,:;(\u2013-]?[ \t]*"
_NAME_WITH_POSTCODE = re.compile(
    rf"{_PERSON_NAME}{_GAP}"
    rf"(?:(?:Flat [0-9]+[A-Za-z]?,? )?[0-9]+[A-Za-z]?,? [A-Z][a-z]+(?: [A-Z][a-z]+){{0,3}}{_GAP}"
    rf"(?:[A-Z][a-z]+(?:[ -][A-Z][a-z]+){{0,2}}{_GAP})?)?"
    r"\b[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}\b"
)

_MONTH = (
    r"(?ai:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_NUMBERS = {name: number for number, name in enumerate(_MONTHS, 1)}
_ORDINAL = r"(?ai:st|nd|rd|th)?"
_DATES = (
    re.compile(  # 12/03/1956, 12.3.56, 12-03-1956
        r"(?<![0-9])(?<![0-9][/.-])(?P<d>[0-9]{1,2})(?P<sep>[/.-])(?P<m>[0-9]{1,2})(?P=sep)"
        r"(?P<y>[0-9]{4}|[0-9]{2})(?![0-9])(?![/.-][0-9])"
    ),
    re.compile(r"(?<![0-9])(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})(?![0-9])"),
    re.compile(  # 3 March 1956, 3rd of March, 3 Mar. 1956
        rf"\b(?P<d>[0-9]{{1,2}}){_ORDINAL}\s+(?:of\s+)?(?P<mon>{_MONTH})\b\.?"
        r"(?:,?\s+(?P<y>[0-9]{4})\b)?"
    ),
    re.compile(rf"\b(?P<mon>{_MONTH})\b\.?\s+(?P<d>[0-9]{{1,2}}){_ORDINAL},?\s+(?P<y>[0-9]{{4}})\b"),
)
_DOB_LABEL = r"(?ai:\b(?:d\.?\s?o\.?\s?b\b\.?|date\s+of\s+birth|birth\s*date|born(?:\s+on)?))"
_DOB_LABEL_BEFORE = re.compile(rf"{_DOB_LABEL}[\s:=-]*(?:is\s+)?$")
_DOB_LABEL_AFTER = re.compile(rf"[\s,(-]*\(?{_DOB_LABEL}\)?")
_LOOKBACK = 40  # a label touching a date is never further back than this
_OLDEST_PATIENT_YEARS = 120
_SEPARATORS_BEFORE = " \t,:;(-\u2013"
_SEPARATORS_AFTER = " \t,:;)-\u2013"

# --- finders -----------------------------------------------------------------------------------


class _Span(NamedTuple):
    kind: FindingKind
    start: int
    end: int
    masks: tuple[tuple[int, int], ...]  # the parts to hide; a label between them stays readable


def _span(kind: FindingKind, *masks: tuple[int, int]) -> _Span:
    return _Span(kind, min(s for s, _ in masks), max(e for _, e in masks), masks)


def is_valid_nhs_number(digits: str) -> bool:
    """The NHS Modulus 11 check: weights 10..2, check = 11 - sum % 11, 11 -> 0, 10 is invalid."""
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        return False
    total = sum(int(d) * weight for d, weight in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    return check != 10 and check % 11 == int(digits[9])


def _nhs_numbers(text: str) -> list[_Span]:
    return [
        _span(FindingKind.NHS_NUMBER, m.span())
        for m in _NHS_NUMBER.finditer(text)
        if is_valid_nhs_number(re.sub(r"[^0-9]", "", m.group()))
    ]


def _labelled_identifiers(text: str) -> list[_Span]:
    # "the hospital number 0113 243 3144" is the hospital's phone number, not a patient's.
    return [
        _span(FindingKind.PATIENT_IDENTIFIER, m.span("id"))
        for m in _LABELLED_IDENTIFIER.finditer(text)
        if not _UK_PHONE_DIGITS.fullmatch(re.sub(r"[ -]", "", m["id"]))
    ]


def _names_with_postcodes(text: str) -> list[_Span]:
    return [_span(FindingKind.NAME_WITH_POSTCODE, m.span()) for m in _NAME_WITH_POSTCODE.finditer(text)]


class _Date(NamedTuple):
    start: int
    end: int
    could_be_a_birth_date: bool  # has a year, and it is an earlier year than this one


def _as_date(match: re.Match[str], today: date) -> _Date | None:
    parts = match.groupdict()
    month = _MONTH_NUMBERS[parts["mon"][:3].lower()] if parts.get("mon") else int(parts["m"])
    year_text = parts["y"]
    year = 2000 if year_text is None else int(year_text)  # 2000 lets 29 February through
    if year_text is not None and len(year_text) == 2:  # 56 is 1956, 25 is 2025 (in 2026)
        year += 2000 if year <= today.year % 100 else 1900
    try:
        date(year, month, int(parts["d"]))
    except ValueError:
        return None
    birth_year = year_text is not None and today.year - _OLDEST_PATIENT_YEARS <= year < today.year
    return _Date(match.start(), match.end(), birth_year)


def _dates(text: str, today: date) -> list[_Date]:
    found = [d for p in _DATES for m in p.finditer(text) if (d := _as_date(m, today))]
    kept: list[_Date] = []
    for candidate in sorted(found):
        if not kept or candidate.start >= kept[-1].end:
            kept.append(candidate)
    return kept


def _dob_label_around(text: str, found: _Date) -> tuple[int, int] | None:
    """Where a DOB label touching this date starts and ends, with the date inside."""
    before = _DOB_LABEL_BEFORE.search(text, max(0, found.start - _LOOKBACK), found.start)
    if before:
        return before.start(), found.end
    after = _DOB_LABEL_AFTER.match(text, found.end)
    return (found.start, after.end()) if after else None


class _Names(NamedTuple):
    by_end: dict[int, tuple[int, int]]
    by_start: dict[int, tuple[int, int]]


def _names_in(text: str) -> _Names:
    spans = [m.span() for m in _PERSON.finditer(text)]
    return _Names({end: (start, end) for start, end in spans}, {start: (start, end) for start, end in spans})


def _name_touching(text: str, start: int, end: int, names: _Names) -> tuple[int, int] | None:
    """A name separated from text[start:end] only by spaces and punctuation, on either side.

    Walking the separators and looking names up by offset (rather than stripping the text and
    trying every name) keeps the scan linear in the text's length.
    """
    before = start
    while before > 0 and text[before - 1] in _SEPARATORS_BEFORE:
        before -= 1
    after = end
    while after < len(text) and text[after] in _SEPARATORS_AFTER:
        after += 1
    return names.by_end.get(before) or names.by_start.get(after)


def _dates_of_birth(text: str, today: date) -> list[_Span]:
    names = _names_in(text)
    spans = []
    for found in _dates(text, today):
        labelled = _dob_label_around(text, found)
        start, end = labelled or (found.start, found.end)
        name = _name_touching(text, start, end, names)
        if name and (labelled or found.could_be_a_birth_date):
            spans.append(_span(FindingKind.DATE_OF_BIRTH_WITH_NAME, name, (found.start, found.end)))
        elif labelled:
            spans.append(_span(FindingKind.DATE_OF_BIRTH, (found.start, found.end)))
    return spans


# --- findings ----------------------------------------------------------------------------------

_EXCERPT_CONTEXT = 25  # characters either side: enough to find the place, not a paragraph
_MASKABLE = re.compile(r"\d|(?<=[^\W\d_])[^\W\d_]")  # digits, and letters after a word's first


def _without_nested(spans: list[_Span]) -> list[_Span]:
    """Drop a span that lies inside another (a labelled NHS number is one finding, not two).

    In start order, every span kept so far starts no later than this one, so this one is inside
    one of them exactly when it ends no later than the furthest they reach: one pass, not a
    comparison of every pair (which made a long message with many findings take minutes).
    """
    kept: list[_Span] = []
    reach = -1
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if span.end > reach:
            kept.append(span)
            reach = span.end
    return kept


def _masked(text: str, spans: list[_Span]) -> str:
    """The text with every identifying part masked character for character: offsets line up."""
    chars = list(text)
    for start, end in (mask for span in spans for mask in span.masks):
        chars[start:end] = _MASKABLE.sub("*", text[start:end])
    return "".join(chars)


def _excerpt(masked: str, span: _Span) -> str:
    start = max(0, span.start - _EXCERPT_CONTEXT)
    end = min(len(masked), span.end + _EXCERPT_CONTEXT)
    middle = " ".join(masked[start:end].split())
    return ("..." if start > 0 else "") + middle + ("..." if end < len(masked) else "")


def find_identifying_content(text: str, *, today: date | None = None) -> list[Finding]:
    """Every place in `text` that could identify a patient, in order, each safely masked.

    The offsets and excerpts are those of `as_read(text)`, the text the rules look at. `today`
    decides which dates are "an earlier year"; it defaults to the local date.
    """
    text = as_read(text)
    spans = (
        _nhs_numbers(text)
        + _labelled_identifiers(text)
        + _dates_of_birth(text, today or date.today())
        + _names_with_postcodes(text)
    )
    masked = _masked(text, spans)  # every span, even one reported inside another
    return [Finding(s.kind, _excerpt(masked, s), s.start, s.end) for s in _without_nested(spans)]
