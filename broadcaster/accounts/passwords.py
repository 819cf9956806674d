"""Passwords: argon2id hashes (argon2-cffi's defaults, RFC 9106's low-memory profile) and what a
new password must be."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from broadcaster.core.errors import BroadcasterError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # hashing a megabyte "password" would be a cheap way to burn CPU

HASHER = PasswordHasher()
# Verified against when the name is unknown or disabled, so the answer takes as long either way.
_DECOY_HASH = HASHER.hash("decoy password that no one has")


class PasswordRefused(BroadcasterError):
    """A new password that is too weak; the message says what to choose."""


def check_new_password(password: str, *, user_name: str) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordRefused(
            f"the password must be at least {MIN_LENGTH} characters; a few unrelated words work well"
        )
    if len(password) > MAX_LENGTH:
        raise PasswordRefused(f"the password must be at most {MAX_LENGTH} characters")
    if password.strip().lower() == user_name.lower():
        raise PasswordRefused("the password must not be the user name")


def hash_password(password: str) -> str:
    """CPU-bound (tens of ms): run it in a worker thread from async code."""
    return HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """CPU-bound like hash_password. None: check against a decoy and answer False."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return HASHER.verify(password_hash or _DECOY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
