"""Find the control characters that must never reach an email header, a post or a text.

A CR or LF in an email header starts a new header (a title "Phones down\\r\\nBcc: x@evil" would
copy every email to x@evil); a NUL truncates text in some providers and mail clients; the other
C0 and C1 controls (escape, backspace, bell, the C1 range U+0080-U+009F) draw nothing and can
hide or rewrite what a reader sees. A title is one line: no control character and no Unicode
line or paragraph separator. A message keeps its line breaks, however they were typed, and
nothing else of the kind.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# C0 and DEL and C1 (Unicode category Cc), plus the line and paragraph separators (Zl, Zp).
_IN_A_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The same, but a newline is allowed; the separators become newlines when a text is sent by SMS.
_IN_A_MESSAGE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_NEWLINES = re.compile("\r\n?")

_NAMES = {
    "\x00": "a NUL character",
    "\t": "a tab",
    "\n": "a line break (LF)",
    "\r": "a line break (CR)",
    "\x1b": "an escape character",
    "\x7f": "a delete character",
    "\x85": "a line break (NEL)",
    "\u2028": "a line separator",
    "\u2029": "a paragraph separator",
}


class ControlCharacter(NamedTuple):
    position: int  # 1-based, as a person counts characters
    char: str

    def describe(self) -> str:
        """'a line break (CR), U+000D, at character 12'."""
        name = _NAMES.get(self.char, "a control character")
        return f"{name}, U+{ord(self.char):04X}, at character {self.position}"


def first_in_line(text: str) -> ControlCharacter | None:
    """The first character that has no place in a one-line text such as a title."""
    found = _IN_A_LINE.search(text)
    return ControlCharacter(found.start() + 1, found.group()) if found else None


def first_in_message(text: str) -> ControlCharacter | None:
    """The first control character other than a newline (run `with_plain_newlines` first)."""
    found = _IN_A_MESSAGE.search(text)
    return ControlCharacter(found.start() + 1, found.group()) if found else None


def with_plain_newlines(text: str) -> str:
    """Windows (CR LF) and old Mac (CR) line breaks as the newline every channel expects."""
    return _NEWLINES.sub("\n", text) if "\r" in text else text


def as_one_line(text: str) -> str:
    """Every control character and line separator made a space: for a header, whatever it holds.

    Titles are refused with these when they are given; this keeps an incident stored before that
    check (or any other text) from ever breaking a header line.
    """
    return _IN_A_LINE.sub(" ", text)
