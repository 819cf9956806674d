"""SMS text: Notify-style normalisation, GSM-7 / UCS-2 detection and segment counts."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broadcaster.content.sms_text import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    GSM7_MULTI,
    GSM7_SINGLE,
    NOTIFY_MAX_CHARS,
    UCS2_MULTI,
    UCS2_SINGLE,
    WELSH_LETTERS,
    ChangeKind,
    Replacement,
    SmsEncoding,
    _normalise_each_character,
    count_segments,
    encoding_of,
    normalise_for_sms,
)

# --- normalisation -----------------------------------------------------------------------------


def test_curly_quotes_are_made_straight() -> None:
    """Smart quotes from a phone keyboard become the GSM-7 straight quotes."""
    result = normalise_for_sms("\u201cSurgery\u201d isn\u2019t open")
    assert result.text == '"Surgery" isn\'t open'


def test_en_dash_em_dash_and_minus_become_hyphens() -> None:
    """Every dash Notify knows becomes '-'."""
    assert normalise_for_sms("9am \u2013 5pm \u2014 \u22121").text == "9am - 5pm - -1"


def test_ellipsis_becomes_three_full_stops() -> None:
    """The single ellipsis character is spelled out, as Notify does."""
    assert normalise_for_sms("More soon\u2026").text == "More soon..."


def test_non_breaking_and_other_odd_spaces_become_plain_spaces() -> None:
    """NBSP, narrow NBSP and tab are sent as an ordinary space."""
    assert normalise_for_sms("M83001\u00a0is\u202fdown\tnow").text == "M83001 is down now"


def test_zero_width_characters_are_removed() -> None:
    """A zero-width space (used to stop linkifying) disappears without a trace."""
    assert normalise_for_sms("nhs\u200b.uk\ufeff").text == "nhs.uk"


def test_emoji_are_removed_without_leaving_double_spaces() -> None:
    """An emoji between words leaves exactly one space, rather than Notify's '?'."""
    assert normalise_for_sms("Phones \U0001f4de are back \U0001f44d\U0001f3fd").text == ("Phones are back")


def test_emoji_at_the_start_of_a_line_leaves_no_leading_space() -> None:
    """A leading emoji does not indent the line it started."""
    result = normalise_for_sms("\u26a0\ufe0f Phones down\n\U0001f6a8 Use 111")
    assert result.text == "Phones down\nUse 111"


def test_a_joined_emoji_sequence_counts_as_one_removal() -> None:
    """A family emoji made of five code points is reported as one emoji."""
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    result = normalise_for_sms(f"Hello {family} all")
    assert result.changes == (Replacement(family, "", 1, ChangeKind.EMOJI),)


def test_accented_letters_outside_gsm_become_their_base_letter() -> None:
    """ç, ź and ł are not GSM-7 or Welsh, so they lose the accent instead of forcing UCS-2."""
    result = normalise_for_sms("fa\u00e7ade \u0141\u00f3d\u017a")
    assert result.text == "facade L\u00f3dz"


def test_accented_letters_inside_gsm_are_kept() -> None:
    """é, ü and à are in the GSM-7 basic set already."""
    assert normalise_for_sms("caf\u00e9 \u00fcber \u00e0").text == "caf\u00e9 \u00fcber \u00e0"


def test_welsh_letters_are_kept_even_though_they_force_ucs2() -> None:
    """Welsh text is legitimate: ŵ ŷ â are kept and the encoding reports the cost."""
    text = "Mae'r feddygfa ar gau. Dŵr, tŷ, â"
    result = normalise_for_sms(text)
    assert (result.text, result.changes) == (text, ())
    assert encoding_of(result.text) is SmsEncoding.UCS2


def test_decomposed_welsh_letter_is_composed_and_kept() -> None:
    """w followed by a combining circumflex is the Welsh ŵ, not an accent to strip."""
    assert normalise_for_sms("Dw\u0302r").text == "D\u0175r"


def test_an_accent_left_stranded_by_a_removal_is_dropped() -> None:
    """An accent cannot fuse with the letter before a removed character (Â + ` is not Ầ)."""
    assert normalise_for_sms("\u00c2\u200b\u0300").text == "\u00c2"


def test_letters_of_other_scripts_are_kept() -> None:
    """An Urdu translation is not stripped: it is sent as UCS-2."""
    text = "\u0633\u0631\u062c\u0631\u06cc \u0628\u0646\u062f \u06c1\u06d2"
    assert normalise_for_sms(text).text == text


def test_describe_summarises_the_changes_for_a_person() -> None:
    """The preview line reads like the brief's example."""
    result = normalise_for_sms("\u201cOpen\u201d at 9\u2019 \u2013 \U0001f600")
    assert result.describe() == "3 curly quotes made straight, 1 dash made '-', 1 emoji removed"


def test_describe_says_so_when_nothing_changed() -> None:
    """Plain GSM text needs no explanation."""
    assert normalise_for_sms("Phones are down").describe() == "no changes"


def test_changes_count_repeats_of_the_same_character() -> None:
    """Two identical curly apostrophes make one change with a count of two."""
    result = normalise_for_sms("it\u2019s the practice\u2019s")
    assert result.changes == (Replacement("\u2019", "'", 2, ChangeKind.CURLY_QUOTE),)


@given(st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION)))
def test_plain_gsm7_text_takes_the_fast_path_to_the_same_result(text: str) -> None:
    """Text already in GSM-7 is returned as it is, exactly as the character-by-character pass would."""
    slow = _normalise_each_character(text)
    assert (slow.text, slow.changes) == (text, ())
    assert normalise_for_sms(text) == slow


@given(st.text())
def test_normalising_twice_changes_nothing_more(text: str) -> None:
    """normalise_for_sms is idempotent for any input."""
    once = normalise_for_sms(text)
    twice = normalise_for_sms(once.text)
    assert (twice.text, twice.changes) == (once.text, ())


@given(st.text())
def test_normalised_text_holds_only_gsm_welsh_or_letters_of_other_scripts(text: str) -> None:
    """No emoji, symbol, odd space or control character survives normalisation."""
    for char in normalise_for_sms(text).text:
        category = unicodedata.category(char)
        assert (
            char in GSM7_BASIC | GSM7_EXTENSION | WELSH_LETTERS or category[0] in "LM" or (category == "Nd")
        )


# --- encoding and segments ---------------------------------------------------------------------


def test_extension_set_is_the_nine_characters_and_form_feed() -> None:
    """^ { } \\ [ ~ ] | € and form feed cost two septets; none are in the basic set."""
    assert set("^{}\\[~]|\u20ac\f") == GSM7_EXTENSION
    assert not GSM7_EXTENSION & GSM7_BASIC
    assert len(GSM7_BASIC) == 127  # 128 positions less the escape


@pytest.mark.parametrize(
    ("length", "segments", "limit"),
    [(160, 1, GSM7_SINGLE), (161, 2, GSM7_MULTI), (306, 2, GSM7_MULTI), (307, 3, GSM7_MULTI)],
)
def test_gsm7_segment_boundaries(length: int, segments: int, limit: int) -> None:
    """160 fits one text; 161 needs two parts of 153; 306 fits two; 307 needs three."""
    count = count_segments("a" * length)
    assert (count.encoding, count.length, count.segments, count.per_segment_limit) == (
        SmsEncoding.GSM7,
        length,
        segments,
        limit,
    )


def test_extension_characters_count_double() -> None:
    """80 euro signs are 160 septets: still one text. 81 are two."""
    assert count_segments("\u20ac" * 80).segments == 1
    assert count_segments("\u20ac" * 81).length == 162
    assert count_segments("\u20ac" * 81).segments == 2


def test_one_ucs2_character_switches_the_whole_message_to_70_and_67() -> None:
    """100 GSM letters plus one ŵ is a UCS-2 message of 101 units: two parts of 67."""
    count = count_segments("a" * 100 + "\u0175")
    assert (count.encoding, count.length, count.segments, count.per_segment_limit) == (
        SmsEncoding.UCS2,
        101,
        2,
        UCS2_MULTI,
    )


@pytest.mark.parametrize(("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_ucs2_segment_boundaries(length: int, segments: int) -> None:
    """70 UCS-2 units fit one text; beyond that each part carries 67."""
    count = count_segments("\u0175" * length)
    assert count.segments == segments
    assert count.per_segment_limit == (UCS2_SINGLE if segments == 1 else UCS2_MULTI)


def test_emoji_count_as_two_utf16_units() -> None:
    """An emoji outside the BMP is a surrogate pair: 35 of them fill one UCS-2 text."""
    assert count_segments("\U0001f600" * 35).length == 70
    assert count_segments("\U0001f600" * 35).segments == 1
    assert count_segments("\U0001f600" * 36).segments == 2


def test_plain_gsm_text_is_gsm7() -> None:
    """Ordinary English with a pound sign needs no UCS-2."""
    assert encoding_of("Call 0300 123 4567, \u00a310 {ref}") is SmsEncoding.GSM7


def test_message_longer_than_notify_allows_is_flagged() -> None:
    """Notify refuses more than 918 characters (153 x 6)."""
    assert not count_segments("a" * NOTIFY_MAX_CHARS).too_long_for_notify
    assert count_segments("a" * (NOTIFY_MAX_CHARS + 1)).too_long_for_notify
    assert count_segments("a" * NOTIFY_MAX_CHARS).segments == 6


def test_normalised_curly_text_drops_back_to_gsm7() -> None:
    """The point of normalising: a curly apostrophe no longer costs a UCS-2 message."""
    text = "We\u2019re closed \u2013 call 111"
    assert encoding_of(text) is SmsEncoding.UCS2
    assert encoding_of(normalise_for_sms(text).text) is SmsEncoding.GSM7
