"""GOV.UK Notify credentials: split an API key into service id and secret, mint a bearer JWT."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import jwt

from broadcaster.core.errors import ConfigError
from channels.notify.spec import NOTIFY_SETTINGS

API_KEY_ENV = NOTIFY_SETTINGS.env_name("api_key")

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# Notify's key is `{key_name}-{service_id}-{secret}`; the name may itself contain hyphens, so
# the two UUIDs are taken from the end (as notifications-python-client does with key[-73:]).
_API_KEY = re.compile(rf"^(?P<name>.+)-(?P<service_id>{_UUID})-(?P<secret>{_UUID})$")


@dataclass(frozen=True, slots=True)
class NotifyCredentials:
    service_id: str
    secret: str = field(repr=False)  # never printed, not even in a traceback's locals


def parse_api_key(api_key: str) -> NotifyCredentials:
    """Split a Notify API key, or raise ConfigError saying what is wrong (never echoing the key)."""
    match = _API_KEY.match(api_key.strip())
    if match is None:
        raise ConfigError(
            f"{API_KEY_ENV} is not a GOV.UK Notify API key: expected "
            "'{key name}-{service id}-{secret}' ending in two UUIDs; copy the whole key "
            "from the API integration page of your Notify service"
        )
    return NotifyCredentials(service_id=match["service_id"], secret=match["secret"])


def mint_token(credentials: NotifyCredentials, *, now: float) -> str:
    """A fresh HS256 token: Notify rejects any whose `iat` is more than 30 s from its own clock."""
    return jwt.encode(
        {"iss": credentials.service_id, "iat": int(now)},
        credentials.secret,
        algorithm="HS256",
        headers={"typ": "JWT", "alg": "HS256"},
    )


def authorization_header(credentials: NotifyCredentials, clock: Callable[[], float]) -> str:
    return f"Bearer {mint_token(credentials, now=clock())}"
