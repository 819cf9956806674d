"""The second factor: TOTP (RFC 6238, 30 s steps, 6 digits, one step of clock drift either way)
and single-use recovery codes, stored as SHA-256 digests (80 random bits each: no slow hash needed)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

import pyotp

ISSUER = "Practice broadcaster"
STEP_SECONDS = 30
RECOVERY_CODE_COUNT = 10


def new_totp_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, *, user_name: str) -> str:
    """The otpauth:// URI an authenticator app takes (as a QR code or typed in); shown once."""
    return pyotp.TOTP(secret).provisioning_uri(name=user_name, issuer_name=ISSUER)


def matching_step(secret: str, code: str, *, now: float) -> int | None:
    """The time step whose code `code` is (now, or one step either side), else None."""
    given = "".join(code.split())
    if not (given.isascii() and given.isdigit() and len(given) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), given):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Codes like `3f9a-c1d2-7b44-e0a5-19cc`: shown once, then kept only as digests."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(10)
        codes.append("-".join(raw[i : i + 4] for i in range(0, len(raw), 4)))
    return codes


def looks_like_recovery_code(code: str) -> bool:
    return len(_normalised(code)) == 20


def recovery_digest(code: str) -> str:
    return hashlib.sha256(_normalised(code).encode("ascii", "replace")).hexdigest()


def _normalised(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch not in " -")
