"""Checks made before anything is written or sent: secrets exist, provider settings are complete."""

from __future__ import annotations

from collections.abc import Iterable

from broadcaster.config.providers import spec_for_route
from broadcaster.config.secret_refs import SecretLookup, env_name_for
from broadcaster.config.settings import Settings
from broadcaster.core.errors import ConfigError
from broadcaster.directory.practices import Endpoint


def check_endpoints_ready(settings: Settings, endpoints: Iterable[Endpoint]) -> None:
    """Raise ConfigError naming every practice, field and variable that must be set first."""
    endpoints = list(endpoints)
    problems = _missing_secrets(settings, endpoints) + _missing_settings(settings, endpoints)
    if problems:
        raise ConfigError(
            "cannot send until these are set; nothing was sent:\n" + "\n".join(f"  {p}" for p in problems)
        )


def _missing_secrets(settings: Settings, endpoints: list[Endpoint]) -> list[str]:
    lookup, problems = SecretLookup(settings.secrets), []
    for ep in endpoints:
        spec = spec_for_route(ep.route)
        needed = spec.credential
        if needed is None:  # e.g. the outbox, which stands in for a provider and holds no secret
            continue
        if ep.credential_ref is None:
            where = f" ({needed.given_in})" if needed.given_in else ""
            problems.append(
                f"practice {ep.practice}: {needed.field} is needed for provider {spec.provider}{where}"
            )
        elif lookup.missing([ep.credential_ref]):
            problems.append(
                f"practice {ep.practice}, field {needed.field}: secret "
                f"{ep.credential_ref!r} is not set "
                f"(set {env_name_for(ep.credential_ref)})"
            )
    return sorted(set(problems))


def _missing_settings(settings: Settings, endpoints: list[Endpoint]) -> list[str]:
    problems = []
    for route in sorted({ep.route for ep in endpoints}):
        for dotted, env in spec_for_route(route).unset_settings(settings):
            problems.append(f"route {route} needs {dotted} (set {env})")
    return problems
