"""API tokens: 256 random bits, shown once, stored as their SHA-256 digest (a token is too random
to guess from its digest, so no slow hash is needed, and the gate can look it up directly)."""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "bct_"  # says what it is when one turns up in a log or a paste


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    # surrogateescape: a header of bytes that are not UTF-8 is digested (and refused), never an error.
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()
