"""Resolve a secret's name (as written in the directory) to its value from settings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import SecretStr

from broadcaster.core.errors import ConfigError


def env_name_for(ref: str) -> str:
    return f"BROADCASTER_SECRETS__{ref.upper()}"


class SecretLookup:
    """`lookup("fb_y00001")` -> the token. Missing names raise ConfigError saying where to put it."""

    def __init__(self, secrets: Mapping[str, SecretStr]) -> None:
        self._secrets = {name.lower(): value for name, value in secrets.items()}

    def __call__(self, ref: str) -> str:
        value = self._secrets.get(ref.lower())
        if value is None or not value.get_secret_value():
            raise ConfigError(_missing_message([ref]))
        return value.get_secret_value()

    def missing(self, refs: Iterable[str]) -> list[str]:
        return sorted({r for r in refs if not self._secrets.get(r.lower())})


def _missing_message(refs: list[str]) -> str:
    names = ", ".join(refs)
    envs = ", ".join(env_name_for(r) for r in refs)
    return (
        f"secret {names} is not set: set {envs} in the environment, or put a file named "
        f"secrets__{refs[0].lower()} in the secrets directory (BROADCASTER_SECRETS_DIR)"
    )


def describe_missing(refs: list[str]) -> str:
    return _missing_message(refs)
