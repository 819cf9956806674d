"""The server's secret key: it seals session cookies and the TOTP secrets stored in the database.

It lives outside the database (a database copy alone opens no session and yields no second
factor): `BROADCASTER_WEB__SECRET_KEY` (or the secrets-directory file `web__secret_key`), else a
key file (`BROADCASTER_WEB__SECRET_KEY_FILE`, default `broadcaster.key` beside where the server
runs) created with mode 0600 on first use and read on every later start, so sessions survive
restarts. Every process sharing one database must see the same key. Losing it signs everyone out
and needs `broadcaster users reset-totp` for each user.

Two keys are derived from it (HKDF-SHA256), one per use, so a cookie is never a TOTP ciphertext.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from broadcaster.config.settings import Settings
from broadcaster.core.errors import ConfigError

_MIN_KEY_CHARACTERS = 32


@dataclass(frozen=True, slots=True)
class ServerKeys:
    sessions: Fernet
    totp_secrets: Fernet

    @classmethod
    def from_secret(cls, secret: str) -> ServerKeys:
        if len(secret) < _MIN_KEY_CHARACTERS:
            raise ConfigError(
                f"BROADCASTER_WEB__SECRET_KEY must be at least {_MIN_KEY_CHARACTERS} characters; "
                "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return cls(_derived(secret, b"session cookies"), _derived(secret, b"totp secrets"))

    def seal_totp_secret(self, secret: str) -> str:
        return self.totp_secrets.encrypt(secret.encode("ascii")).decode("ascii")

    def open_totp_secret(self, sealed: str) -> str:
        try:
            return self.totp_secrets.decrypt(sealed.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise ConfigError(
                "a stored second factor cannot be read with this server key: was "
                "BROADCASTER_WEB__SECRET_KEY or its key file changed? Restore it, or run "
                "`broadcaster users reset-totp NAME`"
            ) from None


def _derived(secret: str, purpose: bytes) -> Fernet:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"broadcaster " + purpose)
    return Fernet(base64.urlsafe_b64encode(hkdf.derive(secret.encode("utf-8"))))


def load_server_keys(settings: Settings) -> ServerKeys:
    """Blocking file I/O: call it before the event loop starts, or in a worker thread."""
    if settings.web.secret_key is not None:
        return ServerKeys.from_secret(settings.web.secret_key.get_secret_value())
    return ServerKeys.from_secret(_read_or_create(settings.web.secret_key_file))


def _read_or_create(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(
            f"cannot read the server key file {path.name} (BROADCASTER_WEB__SECRET_KEY_FILE): "
            f"{why}; fix its permissions or set BROADCASTER_WEB__SECRET_KEY"
        ) from None
    key = secrets.token_urlsafe(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once must not each write a different key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            f"cannot create the server key file {path.name} (BROADCASTER_WEB__SECRET_KEY_FILE): "
            f"{exc.strerror}; point it at a writable place or set BROADCASTER_WEB__SECRET_KEY"
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(key + "\n")
    return key
