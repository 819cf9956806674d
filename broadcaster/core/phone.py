"""UK mobile numbers: validate and normalise to E.164 with Google's libphonenumber rules."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

# Ofcom reserves 07700 900000-900999 for drama; libphonenumber calls them invalid, but GOV.UK
# Notify's smoke-test and failure-simulation numbers live there, and so do our examples.
_DRAMA_RANGE = re.compile(r"^\+447700900\d{3}$")


class NotAUkMobile(ValueError):
    pass


def normalise_uk_mobile(raw: str) -> str:
    """Return `raw` as E.164 (+447...), or raise NotAUkMobile saying why."""
    try:
        parsed = phonenumbers.parse(raw, "GB")
    except NumberParseException as exc:
        raise NotAUkMobile(f"{raw!r} is not a phone number ({exc.args[0]})") from None
    e164 = phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
    if _DRAMA_RANGE.match(e164):
        return e164
    if parsed.country_code != 44:
        raise NotAUkMobile(f"{raw!r} is not a UK number (country code +{parsed.country_code})")
    if not phonenumbers.is_valid_number(parsed):
        raise NotAUkMobile(f"{raw!r} is not a valid UK number")
    # Crown dependencies share +44 (07911 resolves to GG, 07624 to IM), so check type, not region.
    if phonenumbers.number_type(parsed) != PhoneNumberType.MOBILE:
        raise NotAUkMobile(f"{raw!r} is a UK number but not a mobile, so it cannot receive texts")
    return e164
