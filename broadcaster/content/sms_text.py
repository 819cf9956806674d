"""SMS text: make it safe and cheap to send, tell which encoding it needs, count its segments.

`normalise_for_sms` does what GOV.UK Notify does before it sends (alphagov/notifications-utils,
notifications_utils/sanitise_text.py, SanitiseSMS: curly quotes straightened, dashes and ellipsis
made plain, odd spaces and zero-width characters dealt with, accented letters outside GSM-7
reduced to their base letter, Welsh letters kept), with one deliberate difference: emoji and
other symbols are removed, where Notify would send `?`. Letters of other scripts (Urdu, Polish
ł aside, Bengali...) are kept: they are legitimate, and `encoding_of` reports the cost (UCS-2).
Newer Notify releases no longer reduce accents at all; we still do, because it keeps a message
in GSM-7 (160 characters a segment rather than 70).
"""

from __future__ import annotations

import enum
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

GSM7_SINGLE = 160
GSM7_MULTI = 153  # a concatenated part loses 7 septets to its user data header
UCS2_SINGLE = 70
UCS2_MULTI = 67
NOTIFY_MAX_CHARS = 918  # notifications-utils SMS_CHAR_COUNT_LIMIT: 153 x 6

# 3GPP TS 23.038 default alphabet, as notifications-utils spells it; the 0x1B escape itself is
# left out, since it only introduces an extension character and is never text.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Each costs two septets (escape + character) but keeps the message in GSM-7.
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
# notifications-utils SanitiseSMS.WELSH_DIACRITICS: kept even though some force UCS-2.
WELSH_LETTERS = frozenset("àèìòùẁỳÀÈÌÒÙẀỲáéíóúẃýÁÉÍÓÚẂÝäëïöüẅÿÄËÏÖÜẄŸâêîôûŵŷÂÊÎÔÛŴŶ")
_GSM7 = GSM7_BASIC | GSM7_EXTENSION


class SmsEncoding(enum.Enum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


class ChangeKind(enum.Enum):
    CURLY_QUOTE = ("curly quote made straight", "curly quotes made straight")
    DASH = ("dash made '-'", "dashes made '-'")
    ELLIPSIS = ("ellipsis made '...'", "ellipses made '...'")
    BULLET = ("bullet or arrow made plain", "bullets or arrows made plain")
    ODD_SPACE = ("unusual space made plain", "unusual spaces made plain")
    INVISIBLE = ("invisible character removed", "invisible characters removed")
    ACCENT = ("accented letter made plain", "accented letters made plain")
    LOOKALIKE = ("look-alike character made plain", "look-alike characters made plain")
    EMOJI = ("emoji removed", "emoji removed")
    SYMBOL = ("symbol removed", "symbols removed")

    def phrase(self, count: int) -> str:
        return f"{count} {self.value[0] if count == 1 else self.value[1]}"


@dataclass(frozen=True, slots=True)
class Replacement:
    original: str  # one character, or one emoji sequence
    replacement: str  # "" when removed
    count: int
    kind: ChangeKind


@dataclass(frozen=True, slots=True)
class SmsNormalisation:
    text: str
    changes: tuple[Replacement, ...]

    def describe(self) -> str:
        """One line for the comms officer, e.g. "3 curly quotes made straight, 1 emoji removed"."""
        totals: Counter[ChangeKind] = Counter()
        for change in self.changes:
            totals[change.kind] += change.count
        return ", ".join(kind.phrase(count) for kind, count in totals.items()) or "no changes"


_Q, _D = ChangeKind.CURLY_QUOTE, ChangeKind.DASH
# notifications-utils SanitiseText.REPLACEMENT_CHARACTERS, plus a few dashes, bullets and arrows
# it does not list; the invisible ones include emoji variation selectors and the keycap mark.
_REPLACEMENTS: dict[str, tuple[str, ChangeKind]] = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b", ("'", _Q)),  # single curly and low-9 quotes
    **dict.fromkeys("\u201c\u201d\u201e\u201f", ('"', _Q)),  # double curly and low-9 quotes
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", ("-", _D)),
    "…": ("...", ChangeKind.ELLIPSIS),
    **dict.fromkeys("\u2022\u2023\u2043", ("-", ChangeKind.BULLET)),  # bullets
    "→": ("->", ChangeKind.BULLET),
    "←": ("<-", ChangeKind.BULLET),
    "\t": (" ", ChangeKind.ODD_SPACE),
    # Notify drops line and paragraph separators, which joins the words either side.
    **dict.fromkeys("\u2028\u2029", ("\n", ChangeKind.ODD_SPACE)),
    **dict.fromkeys("\u180e\u200b\u200c\u200d\u2060\ufeff\ufe0e\ufe0f\u20e3", ("", ChangeKind.INVISIBLE)),
    "ł": ("l", ChangeKind.ACCENT),  # no Unicode decomposition; notifications-utils maps it too
    "Ł": ("L", ChangeKind.ACCENT),
}

_EMOJI_BASE = "[\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff]"
_EMOJI_TAIL = "[\ufe0e\ufe0f\u20e3\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]"
# One visible emoji (a flag, a skin tone, a family joined by ZWJ) counts as one removal.
_TOKEN = re.compile(
    f"[\U0001f1e6-\U0001f1ff]{{2}}|{_EMOJI_BASE}{_EMOJI_TAIL}*(?:\u200d{_EMOJI_BASE}{_EMOJI_TAIL}*)*|.",
    re.DOTALL,
)
_EMOJI = re.compile(f"[\U0001f1e6-\U0001f1ff]|{_EMOJI_BASE}")
_GAP = "\x00"  # stands in for a removed character until the spaces around it are tidied
_GAP_WITH_SPACES = re.compile(f"[ {_GAP}]*{_GAP}[ {_GAP}]*")


def _space_or_invisible(char: str) -> tuple[str, ChangeKind] | None:
    category = unicodedata.category(char)
    if category == "Zs":
        return " ", ChangeKind.ODD_SPACE
    if category in {"Cc", "Cf"}:
        return "", ChangeKind.INVISIBLE
    return None


def _simpler_letter(char: str) -> tuple[str, ChangeKind] | None:
    """ç -> c by dropping the accent, ﬁ -> fi or ² -> 2 by Unicode compatibility, if GSM-7."""
    base = unicodedata.normalize("NFD", char)[0]
    if base != char and base in _GSM7:
        return base, ChangeKind.ACCENT
    compatible = unicodedata.normalize("NFKC", char)
    if compatible != char and all(c in _GSM7 for c in compatible):
        return compatible, ChangeKind.LOOKALIKE
    return None


def _plain_form(char: str) -> tuple[str, ChangeKind] | None:
    """What one character becomes in an SMS, or None to keep it as it is."""
    if char in _GSM7 or char in WELSH_LETTERS:
        return None
    found = _REPLACEMENTS.get(char) or _space_or_invisible(char) or _simpler_letter(char)
    if found is not None:
        return found
    category = unicodedata.category(char)
    if category[0] in "LM" or category == "Nd":
        return None  # a letter of another script: legitimate, it only costs UCS-2
    return "", ChangeKind.SYMBOL


def _close_gap(match: re.Match[str]) -> str:
    """A removed emoji leaves one space between words, none at the start or end of a line."""
    text, start, end = match.string, match.start(), match.end()
    at_edge = start == 0 or text[start - 1] in "\r\n" or end == len(text) or text[end] in "\r\n"
    return " " if " " in match.group() and not at_edge else ""


def normalise_for_sms(text: str) -> SmsNormalisation:
    """Return the text as it should be sent by SMS, and what was changed to get there."""
    # Most texts are plain GSM-7 already, and there is nothing to change; this is checked per
    # practice on every send, so skip the character-by-character pass (a property test holds
    # the two paths equal).
    if _GSM7.issuperset(text):
        return SmsNormalisation(text=text, changes=())
    return _normalise_each_character(text)


def _normalise_each_character(text: str) -> SmsNormalisation:
    pieces: list[str] = []
    counts: Counter[tuple[str, str, ChangeKind]] = Counter()
    last = _GAP  # the last character written, or _GAP at the start and after a removal
    for token in _TOKEN.findall(unicodedata.normalize("NFC", text)):
        if len(token) > 1 or _EMOJI.match(token):
            change: tuple[str, ChangeKind] | None = ("", ChangeKind.EMOJI)
        elif unicodedata.category(token)[0] == "M" and (last == _GAP or last in _GSM7):
            # an accent stranded on a GSM letter, or left by a removal, would force UCS-2
            change = ("", ChangeKind.ACCENT)
        else:
            change = _plain_form(token)
        if change is None:
            pieces.append(token)
            last = token
            continue
        counts[token, *change] += 1
        removed = change[1] in {ChangeKind.EMOJI, ChangeKind.SYMBOL}
        pieces.append(_GAP if removed else change[0])
        last = pieces[-1][-1:] or _GAP
    joined = _GAP_WITH_SPACES.sub(_close_gap, "".join(pieces))
    changes = tuple(Replacement(old, new, n, kind) for (old, new, kind), n in counts.items())
    return SmsNormalisation(text=unicodedata.normalize("NFC", joined), changes=changes)


def encoding_of(text: str) -> SmsEncoding:
    """GSM-7 when every character is in the GSM-7 basic or extension set, else UCS-2."""
    return SmsEncoding.GSM7 if _GSM7.issuperset(text) else SmsEncoding.UCS2


@dataclass(frozen=True, slots=True)
class SegmentCount:
    encoding: SmsEncoding
    length: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    per_segment_limit: int

    @property
    def too_long_for_notify(self) -> bool:
        return self.length > NOTIFY_MAX_CHARS


def count_segments(text: str) -> SegmentCount:
    """How many SMS segments `text` costs, counted the way GOV.UK Notify counts fragments."""
    encoding = encoding_of(text)
    if encoding is SmsEncoding.GSM7:
        length = len(text)
        if not GSM7_EXTENSION.isdisjoint(text):  # escaped characters cost 2 septets each
            length += sum(text.count(c) for c in GSM7_EXTENSION)
        single, multi = GSM7_SINGLE, GSM7_MULTI
    else:
        length = len(text.encode("utf-16-le")) // 2  # an emoji is a surrogate pair: 2 units
        single, multi = UCS2_SINGLE, UCS2_MULTI
    # Like Notify, this ignores that a carrier may not split an escape pair across two parts.
    segments = 1 if length <= single else math.ceil(length / multi)
    return SegmentCount(encoding, length, segments, single if segments == 1 else multi)
